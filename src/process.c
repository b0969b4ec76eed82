/* Process: one task in its own process, started by fork or spawn.
 *
 * The child writes its outcome into a result area of shared memory
 * (result_area.h) and exits: it never waits for the parent to read, so
 * it ends as soon as its task does, whatever the result's size. Joining
 * waits for the process to end, then reaps it and reads the area; a child
 * that died before it wrote a whole result reads MP_ECRASHED with the
 * signal or exit code.
 *
 * Every call may come from any thread: a mutex guards the state, and the
 * one wait that can be long (for the child to end) is made without it,
 * by any number of threads at once. */
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "deadline.h"
#include "result_area.h"
#include "wait.h"

struct mp_process {
  char name[MP__TASK_NAME_MAX + 1];
  mp__mutex *lock;
  mp__child *child;
  int64_t pid;
  mp__handle area;           /* the result area, ours until freed */
  int ended;                 /* reaped */
  int exitcode;
  int have_result;           /* result is its final outcome */
  mp_result result;
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
  int rc = mp__result_area_new(&p->area);
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
  spec.result_wr = p->area;
  rc = mp__launch(&spec, &p->child);
  if (rc == MP_OK) p->pid = mp__child_pid(p->child);
  return rc;
}

static void process_destroy(mp_process *p) {
  mp__child_free(p->child); /* kills and reaps one still running */
  mp__handle_close(p->area);
  mp_result_clear(&p->result);
  mp__mutex_free(p->lock);
  free(p);
}

int mp_process_start(mp_process **out, const char *task, const void *arg, size_t len,
                     const mp_process_options *opts) {
  int rc = check_start_args(out, task, arg, len, opts);
  if (rc != MP_OK) return rc;
  int method;
  if ((rc = mp__resolve_method(opts ? opts->start_method : MP_START_DEFAULT, &method)) != MP_OK)
    return mp__error_in("mp_process_start", rc);
  mp_process *p = calloc(1, sizeof *p);
  if (!p) return mp__set_error(MP_ENOMEM, "mp_process_start: out of memory");
  p->area = MP__NO_HANDLE;
  const char *name = opts && opts->name ? opts->name : task;
  size_t n = strlen(name) < MP__TASK_NAME_MAX ? strlen(name) : MP__TASK_NAME_MAX;
  memcpy(p->name, name, n);
  if ((rc = mp__mutex_new(&p->lock)) != MP_OK || (rc = launch(p, method, task, arg, len, opts)) != MP_OK) {
    process_destroy(p);
    return mp__error_in("mp_process_start", rc);
  }
  *out = p;
  return MP_OK;
}

/* Why a child's end can be unknown (MP__EXIT_UNKNOWN), in its messages. */
#define REAPED_ELSEWHERE "something else reaped it (SIGCHLD set to SIG_IGN, or a SIGCHLD handler that calls wait)"

/* Once it has ended: reaped, and its outcome read. Lock held. */
static void settle(mp_process *p) {
  if (p->have_result) return;
  int rc = mp__result_area_read(p->area, &p->result);
  if (rc == MP_EPROTO) {
    mp__result_fail(&p->result, MP_EPROTO, "process '%s' (pid %lld) sent a malformed result: %s", p->name,
                    (long long)p->pid, mp_last_error());
  } else if (rc == MP_ECLOSED && p->exitcode == MP__EXIT_UNKNOWN) {
    mp__result_fail(&p->result, MP_ECRASHED,
                    "process '%s' (pid %lld) ended without a result, and how is unknown: " REAPED_ELSEWHERE,
                    p->name, (long long)p->pid);
  } else if (rc == MP_ECLOSED) {
    if (p->exitcode < 0)
      mp__result_fail(&p->result, MP_ECRASHED, "process '%s' (pid %lld) was killed by signal %d", p->name,
                      (long long)p->pid, -p->exitcode);
    else
      mp__result_fail(&p->result, MP_ECRASHED, "process '%s' (pid %lld) exited with code %d without a result",
                      p->name, (long long)p->pid, p->exitcode);
  } else if (rc != MP_OK) {
    return; /* no memory now: a later call tries again */
  } else if (p->exitcode == MP__EXIT_UNKNOWN) {
    p->exitcode = p->result.status == MP_OK ? 0 : 1; /* what its result says it exited with */
  }
  p->have_result = 1;
  /* The area's memory goes back now, not when p is freed. */
  mp__handle_close(p->area);
  p->area = MP__NO_HANDLE;
}

/* A look without waiting: reaps the child if it has ended. Lock held. */
static int poll_ended(mp_process *p) {
  if (!p->ended) {
    int code;
    if (mp__child_wait(p->child, 0, &code) == MP_OK) {
      p->ended = 1;
      p->exitcode = code;
    }
  }
  if (p->ended) settle(p);
  return p->ended;
}

int mp_process_join(mp_process *p, double timeout) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_process_join: the process is NULL");
  int rc = mp__timeout_check("mp_process_join", timeout);
  if (rc != MP_OK) return rc;
  mp__mutex_lock(p->lock);
  int done = poll_ended(p) && p->have_result;
  mp__mutex_unlock(p->lock);
  if (done) return MP_OK;
  /* Without the lock: other threads may wait, look and kill meanwhile. */
  rc = mp__child_wait_exit(p->child, mp__timeout_value(timeout));
  if (rc == MP_ETIMEDOUT) return mp__set_error(MP_ETIMEDOUT, "mp_process_join: process '%s' is still running", p->name);
  if (rc != MP_OK) return mp__error_in("mp_process_join", rc);
  mp__mutex_lock(p->lock);
  if (!p->ended) {
    int code;
    rc = mp__child_wait(p->child, MP_FOREVER, &code); /* it has ended: no wait */
    if (rc == MP_OK) {
      p->ended = 1;
      p->exitcode = code;
    }
  }
  if (p->ended) settle(p);
  if (rc == MP_OK && !p->have_result) rc = mp__set_error(MP_ENOMEM, "mp_process_join: out of memory for the result");
  mp__mutex_unlock(p->lock);
  return mp__error_in("mp_process_join", rc);
}

int mp_process_is_alive(mp_process *p) {
  if (!p) {
    (void)mp__set_error(MP_EINVAL, "mp_process_is_alive: the process is NULL");
    return 0;
  }
  mp__mutex_lock(p->lock);
  int alive = !poll_ended(p);
  mp__mutex_unlock(p->lock);
  return alive;
}

int mp_process_exitcode(mp_process *p, int *code) {
  if (!p || !code) return mp__set_error(MP_EINVAL, "mp_process_exitcode: %s is NULL", p ? "code" : "the process");
  mp__mutex_lock(p->lock);
  int rc = poll_ended(p) ? MP_OK : mp__set_error(MP_ESTATE, "mp_process_exitcode: process '%s' is still running",
                                                 p->name);
  if (rc == MP_OK && p->exitcode == MP__EXIT_UNKNOWN)
    rc = mp__set_error(MP_ESYS,
                       "mp_process_exitcode: process '%s' ended without a result and " REAPED_ELSEWHERE
                       ": its exit code is lost",
                       p->name);
  if (rc == MP_OK) *code = p->exitcode;
  mp__mutex_unlock(p->lock);
  return rc;
}

int mp_process_result(mp_process *p, mp_result *res) {
  if (res) memset(res, 0, sizeof *res);
  if (!p || !res) return mp__set_error(MP_EINVAL, "mp_process_result: %s is NULL", p ? "res" : "the process");
  mp__mutex_lock(p->lock);
  int rc = MP_OK;
  if (!poll_ended(p)) {
    rc = mp__set_error(MP_ESTATE, "mp_process_result: process '%s' is still running: join it first", p->name);
  } else if (!p->have_result) {
    rc = mp__set_error(MP_ENOMEM, "mp_process_result: out of memory for the result");
  } else {
    res->status = p->result.status;
    res->task_code = p->result.task_code;
    res->len = p->result.len;
    if (p->result.message && !(res->message = mp__strdup(p->result.message))) rc = MP_ENOMEM;
    if (rc == MP_OK && p->result.data && p->result.len) {
      if (!(res->data = malloc(p->result.len))) rc = MP_ENOMEM;
      else memcpy(res->data, p->result.data, p->result.len);
    }
    if (rc != MP_OK) {
      mp_result_clear(res);
      rc = mp__set_error(MP_ENOMEM, "mp_process_result: out of memory for a copy");
    }
  }
  mp__mutex_unlock(p->lock);
  return rc;
}

static int send_signal(mp_process *p, int sig) {
  mp__mutex_lock(p->lock);
  /* Under the lock, and before reaping: the pid is still the child's. */
  int rc = poll_ended(p) ? MP_OK : mp__child_signal(p->child, sig);
  mp__mutex_unlock(p->lock);
  return mp__error_in(sig == MP__SIG_KILL ? "mp_process_kill" : "mp_process_terminate", rc);
}

int mp_process_terminate(mp_process *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_process_terminate: the process is NULL");
  return send_signal(p, MP__SIG_TERM);
}

int mp_process_kill(mp_process *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_process_kill: the process is NULL");
  return send_signal(p, MP__SIG_KILL);
}

int64_t mp_process_pid(const mp_process *p) { return p ? p->pid : 0; }

mp_process *mp_process_free(mp_process *p) {
  if (p) process_destroy(p);
  return NULL;
}

mp__handle mp__process_wait_handle(mp_process *p) {
  mp__mutex_lock(p->lock);
  mp__handle h = p->ended ? MP__NO_HANDLE : mp__child_wait_handle(p->child);
  mp__mutex_unlock(p->lock);
  return h;
}
