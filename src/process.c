/* Process: one task in its own process, started by fork or spawn.
 *
 * The child writes one RESULT frame on a pipe and exits. join reads that
 * frame (a large result streams while the child is still writing), then
 * reaps the child. A child that dies first leaves no frame, or a torn one:
 * its result reads MP_ECRASHED with the signal or exit code. */
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "deadline.h"
#include "wire.h"

enum { RESULT_PENDING = 0, RESULT_READ = 1, RESULT_MISSING = 2 };

struct mp_process {
  char name[MP__TASK_NAME_MAX + 1];
  mp__child *child;
  int64_t pid;
  mp__handle result_rd;
  mp__frame_reader reader;
  int result_state;
  mp_result result;
  int ended;
  int exitcode;
};

/* What the fork child runs: the same decode-and-run path a spawned child
 * takes, from the bootstrap bytes the parent prepared before fork. */
typedef struct fork_boot {
  const uint8_t *meta;
  size_t meta_len;
  const void *arg;
  size_t arg_len;
} fork_boot;

static int fork_entry(void *ud) {
  const fork_boot *fb = ud;
  mp__boot boot;
  mp__enter_worker();
  if (mp__boot_decode(fb->meta, fb->meta_len, fb->arg, fb->arg_len, &boot) != MP_OK)
    return MP__EXIT_BAD_BOOT;
  int code = mp__worker_run(&boot);
  mp__boot_release(&boot);
  return code;
}

static int check_start_args(mp_process **out, const char *task, const void *arg, size_t len,
                            const mp_process_options *opts) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_process_start: out is NULL");
  *out = NULL;
  if (!task) return mp__set_error(MP_EINVAL, "mp_process_start: task is NULL");
  if (!arg && len) return mp__set_error(MP_EINVAL, "mp_process_start: arg is NULL but len is %llu",
                                        (unsigned long long)len);
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "mp_process_start: an argument of %llu bytes is over MP_MAX_MESSAGE",
                         (unsigned long long)len);
  int rc = mp__require_main("mp_process_start");
  if (rc != MP_OK) return rc;
  if (strlen(task) > MP__TASK_NAME_MAX || !mp__task_lookup(task))
    return mp__set_error(MP_ENOTASK, "mp_process_start: no task registered as \"%.63s\"", task);
  if (opts) return mp__objects_check("mp_process_start", opts->objects, opts->nobjects);
  return MP_OK;
}

/* Lists every handle the child needs: the result pipe, the boot pipe
 * (spawn only), then each object's handles; boot gets their child values. */
typedef struct handoff {
  mp__handle *handles;   /* room for 2 + MP__OBJECT_MAX_HANDLES per object */
  size_t n;
  mp__buf blobs;
  mp__handle few[2 + 2 * MP__OBJECT_MAX_HANDLES]; /* the common case, no malloc */
  uint8_t few_blobs[64];
} handoff;

/* Everything the parent writes between two forks is a copy-on-write fault
 * after the second one, so a start keeps its scratch small and on the stack. */
static int handoff_init(handoff *h, size_t nobjects) {
  size_t need = 2 + nobjects * MP__OBJECT_MAX_HANDLES;
  h->n = 0;
  h->handles = need <= sizeof h->few / sizeof h->few[0] ? h->few : malloc(need * sizeof *h->handles);
  mp__buf_init_on(&h->blobs, h->few_blobs, sizeof h->few_blobs);
  return h->handles ? MP_OK : mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
}

static void handoff_release(handoff *h) {
  if (h->handles != h->few) free(h->handles);
  mp__buf_release(&h->blobs);
}

static int plan_handoff(handoff *h, mp__boot *boot, int method, mp__handle result_wr, mp__handle boot_rd,
                        const mp_process_options *opts, size_t *boot_index) {
  size_t nobj = opts ? opts->nobjects : 0;
  size_t *blob_off = NULL;
  h->n = 0;
  h->handles[h->n++] = result_wr;
  if (boot_rd != MP__NO_HANDLE) {
    *boot_index = h->n;
    h->handles[h->n++] = boot_rd;
  }
  if (nobj && (!(boot->objects = calloc(nobj, sizeof *boot->objects)) ||
               !(blob_off = calloc(nobj, sizeof *blob_off))))
    goto nomem;
  boot->nobjects = nobj;
  for (size_t i = 0; i < nobj; i++) {
    mp_object *o = opts->objects[i];
    mp__boot_object *bo = &boot->objects[i];
    size_t nh = 0;
    size_t before = h->blobs.len;
    int rc = o->ops->export_to(o, &h->handles[h->n], &nh, &h->blobs);
    if (rc != MP_OK) {
      free(blob_off);
      return rc;
    }
    bo->kind = (uint32_t)o->ops->kind;
    bo->nhandles = (uint32_t)nh;
    for (size_t k = 0; k < nh; k++) bo->handles[k] = mp__child_handle(method, h->handles, h->n + k);
    blob_off[i] = before;
    bo->bloblen = h->blobs.len - before;
    h->n += nh;
  }
  if (h->blobs.failed) goto nomem;
  /* Blobs point into one buffer, fixed only once it stops growing. */
  for (size_t i = 0; i < nobj; i++) boot->objects[i].blob = h->blobs.data + blob_off[i];
  free(blob_off);
  boot->result = mp__child_handle(method, h->handles, 0);
  return MP_OK;
nomem:
  free(blob_off);
  return mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
}

static int launch(mp_process *p, int method, const char *task, const void *arg, size_t len,
                  const mp_process_options *opts) {
  mp__handle result_wr = MP__NO_HANDLE, boot_rd = MP__NO_HANDLE, boot_wr = MP__NO_HANDLE;
  handoff h;
  mp__boot boot;
  mp__buf meta;
  uint8_t meta_room[256];
  size_t boot_index = 0;
  memset(&boot, 0, sizeof boot);
  mp__buf_init_on(&meta, meta_room, sizeof meta_room);
  int rc = handoff_init(&h, opts ? opts->nobjects : 0);
  if (rc == MP_OK) rc = mp__pipe(&p->result_rd, &result_wr);
  if (rc == MP_OK && method == MP_START_SPAWN) rc = mp__pipe(&boot_rd, &boot_wr);
  if (rc == MP_OK) rc = plan_handoff(&h, &boot, method, result_wr, boot_rd, opts, &boot_index);
  if (rc != MP_OK) goto done;
  boot.role = MP__ROLE_PROCESS;
  boot.worker_id = 0;
  strcpy(boot.task, task);
  boot.arg_len = len;
  mp__buf_put_u32(&meta, 0); /* room for meta_len, filled below */
  mp__boot_encode(&boot, &meta);
  if (meta.failed) {
    rc = mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
    goto done;
  }
  mp__store_u32(meta.data, (uint32_t)(meta.len - 4));

  char token[MP__TOKEN_MAX];
  mp__token_format(mp__child_handle(method, h.handles, boot_index), token);
  fork_boot fb = {meta.data + 4, meta.len - 4, arg, len};
  mp__spawn_options so = {method, h.handles, h.n, fork_entry, &fb, token};
  rc = mp__spawn(&p->child, &so);
  if (rc != MP_OK) goto done;
  p->pid = mp__child_pid(p->child);
  mp__handle_close(result_wr);
  mp__handle_close(boot_rd);
  result_wr = boot_rd = MP__NO_HANDLE;
  if (method == MP_START_SPAWN) {
    /* If the child died before reading, join tells how; start succeeded. */
    (void)mp__frame_write(boot_wr, MP__FRAME_BOOT, 0, meta.data, meta.len, arg, len);
  }
done:
  mp__handle_close(result_wr);
  mp__handle_close(boot_rd);
  mp__handle_close(boot_wr);
  mp__buf_release(&meta);
  handoff_release(&h);
  free(boot.objects);
  return rc;
}

int mp_process_start(mp_process **out, const char *task, const void *arg, size_t len,
                     const mp_process_options *opts) {
  int rc = check_start_args(out, task, arg, len, opts);
  if (rc != MP_OK) return rc;
  int method;
  if ((rc = mp__resolve_method(opts ? opts->start_method : MP_START_DEFAULT, &method)) != MP_OK) return rc;
  mp_process *p = calloc(1, sizeof *p);
  if (!p) return mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
  p->result_rd = MP__NO_HANDLE;
  const char *name = opts && opts->name ? opts->name : task;
  strncpy(p->name, name, MP__TASK_NAME_MAX);
  if ((rc = launch(p, method, task, arg, len, opts)) != MP_OK) {
    mp__handle_close(p->result_rd);
    free(p);
    return rc;
  }
  mp__frame_reader_init(&p->reader, p->result_rd, MP_MAX_MESSAGE + (size_t)(128 * 1024));
  *out = p;
  return MP_OK;
}

static void note_exit(mp_process *p, int code) {
  p->ended = 1;
  p->exitcode = code;
}

/* Takes the RESULT frame if it is there. MP_OK: done (read or missing);
 * MP_ETIMEDOUT: nothing decisive yet. */
static int read_result(mp_process *p, double timeout) {
  mp__frame_header h;
  void *body = NULL;
  int rc = mp__frame_read_header(&p->reader, timeout, &h);
  if (rc == MP_OK && h.type != MP__FRAME_RESULT)
    rc = mp__set_error(MP_EPROTO, "malformed frame: type %u where a result belongs", (unsigned)h.type);
  if (rc == MP_OK) rc = mp__frame_read_body(&p->reader, NULL, timeout, &body);
  if (rc == MP_ETIMEDOUT) return rc;
  if (rc == MP_OK) {
    rc = mp__result_decode(body, (size_t)h.len, &p->result);
    free(body);
  }
  if (rc == MP_OK) {
    p->result_state = RESULT_READ;
  } else if (rc == MP_EPROTO) {
    mp__result_fail(&p->result, MP_EPROTO, "process '%s' (pid %lld) sent a malformed result: %s", p->name,
                    (long long)p->pid, mp_last_error());
    p->result_state = RESULT_READ;
  } else {
    p->result_state = RESULT_MISSING; /* end of stream, or torn mid-frame */
  }
  /* Closing our end also stops a child that keeps writing garbage. */
  mp__frame_reader_release(&p->reader);
  mp__handle_close(p->result_rd);
  p->result_rd = MP__NO_HANDLE;
  return MP_OK;
}

static void describe_crash(mp_process *p) {
  if (p->exitcode < 0)
    mp__result_fail(&p->result, MP_ECRASHED, "process '%s' (pid %lld) was killed by signal %d", p->name,
                    (long long)p->pid, -p->exitcode);
  else
    mp__result_fail(&p->result, MP_ECRASHED, "process '%s' (pid %lld) exited with code %d without a result",
                    p->name, (long long)p->pid, p->exitcode);
}

/* Reads the result and reaps the child, within deadline. A grandchild may
 * hold the result pipe open after the child died, so the read is done in
 * slices with a look at the child between them. */
static int finish(mp_process *p, double deadline) {
  double slice = 0.002;
  while (p->result_state == RESULT_PENDING) {
    double left = mp__remaining(deadline);
    double wait = left < 0 || left > slice ? slice : left;
    int rc = read_result(p, wait);
    if (rc == MP_OK) break;
    int code;
    if (mp__child_wait(p->child, 0, &code) == MP_OK) {
      note_exit(p, code);
      /* It has exited: whatever it wrote is in the pipe already. */
      if (read_result(p, 0) != MP_OK) {
        p->result_state = RESULT_MISSING;
        mp__handle_close(p->result_rd);
        p->result_rd = MP__NO_HANDLE;
      }
      break;
    }
    if (left >= 0 && left <= wait) return mp__set_error(MP_ETIMEDOUT, "process '%s' is still running", p->name);
    if (slice < 0.1) slice *= 2;
  }
  if (!p->ended) {
    int code;
    int rc = mp__child_wait(p->child, mp__remaining(deadline), &code);
    if (rc != MP_OK) return rc == MP_ETIMEDOUT ? mp__set_error(rc, "process '%s' is still running", p->name) : rc;
    note_exit(p, code);
  }
  if (p->result_state == RESULT_MISSING) describe_crash(p);
  return MP_OK;
}

int mp_process_join(mp_process *p, double timeout) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_process_join: NULL process");
  if (p->ended && p->result_state != RESULT_PENDING) return MP_OK;
  return finish(p, mp__deadline(timeout));
}

/* A look without waiting: reaps the child if it has ended. */
static int poll_ended(mp_process *p) {
  if (!p->ended) {
    int code;
    if (mp__child_wait(p->child, 0, &code) == MP_OK) note_exit(p, code);
  }
  return p->ended;
}

int mp_process_is_alive(mp_process *p) { return p && !poll_ended(p); }

int mp_process_exitcode(mp_process *p, int *code) {
  if (!p || !code) return mp__set_error(MP_EINVAL, "mp_process_exitcode: NULL argument");
  if (!poll_ended(p)) return mp__set_error(MP_ESTATE, "process '%s' is still running", p->name);
  *code = p->exitcode;
  return MP_OK;
}

int mp_process_result(mp_process *p, mp_result *res) {
  if (!p || !res) return mp__set_error(MP_EINVAL, "mp_process_result: NULL argument");
  memset(res, 0, sizeof *res);
  if (!poll_ended(p)) return mp__set_error(MP_ESTATE, "process '%s' is still running: join it first", p->name);
  int rc = finish(p, mp__deadline(0));
  if (rc != MP_OK) return rc;
  res->status = p->result.status;
  res->task_code = p->result.task_code;
  res->len = p->result.len;
  if (p->result.message && !(res->message = mp__strdup(p->result.message))) goto nomem;
  if (p->result.data) {
    if (!(res->data = malloc(p->result.len ? p->result.len : 1))) goto nomem;
    if (p->result.len) memcpy(res->data, p->result.data, p->result.len);
  }
  return MP_OK;
nomem:
  mp_result_clear(res);
  return mp__set_error(MP_ENOMEM, "mp_process_result: out of memory");
}

int mp_process_terminate(mp_process *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_process_terminate: NULL process");
  return p->ended ? MP_OK : mp__child_signal(p->child, MP__SIG_TERM);
}

int mp_process_kill(mp_process *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_process_kill: NULL process");
  return p->ended ? MP_OK : mp__child_signal(p->child, MP__SIG_KILL);
}

int64_t mp_process_pid(const mp_process *p) { return p ? p->pid : 0; }

mp_process *mp_process_free(mp_process *p) {
  if (!p) return NULL;
  mp__child_free(p->child); /* kills and reaps one still running */
  mp__frame_reader_release(&p->reader);
  mp__handle_close(p->result_rd);
  mp_result_clear(&p->result);
  free(p);
  return NULL;
}
