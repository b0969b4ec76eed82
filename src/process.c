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

static int launch(mp_process *p, int method, const char *task, const void *arg, size_t len,
                  const mp_process_options *opts) {
  mp__handle result_wr = MP__NO_HANDLE;
  int rc = mp__pipe(&p->result_rd, &result_wr);
  if (rc != MP_OK) return rc;
  mp__launch_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.method = method;
  spec.role = MP__ROLE_PROCESS;
  spec.task = task;
  spec.arg = arg;
  spec.arg_len = len;
  spec.objects = opts ? opts->objects : NULL;
  spec.nobjects = opts ? opts->nobjects : 0;
  spec.result_wr = result_wr;
  spec.tasks_rd = MP__NO_HANDLE;
  rc = mp__launch(&spec, &p->child);
  if (rc == MP_OK) p->pid = mp__child_pid(p->child);
  mp__handle_close(result_wr);
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
