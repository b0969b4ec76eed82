/* A worker's life: rebuild the shared objects, look the task up, run it,
 * write the result. Both start methods come through here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "result_area.h"

static int import_objects(const mp__boot *b, mp_object **objects) {
  for (size_t i = 0; i < b->nobjects; i++) {
    const mp__boot_object *o = &b->objects[i];
    int rc = mp__object_import(o->kind, o->handles, o->nhandles, o->blob, o->bloblen, &objects[i]);
    if (rc != MP_OK) return rc;
  }
  return MP_OK;
}

/* Every handle this worker was handed stays its own (see
 * mp__worker_guard_handles). None needs closing in a child a task forks:
 * results travel in shared memory, and the pool waits for its workers'
 * processes, not for pipes to close. */
static void guard_handles(const mp__boot *b) {
  mp__worker_guard_handles(&b->result, 1, 0);
  mp__worker_guard_handles(b->channel, b->nchannel, 0);
  for (size_t i = 0; i < b->nobjects; i++)
    mp__worker_guard_handles(b->objects[i].handles, b->objects[i].nhandles, 0);
}

/* A C++ exception left a Process's task: say so, and end now. */
static const mp__boot *running;
static void escaped(mp_call *call) {
  char text[200];
  if (mp__task_aborted())
    snprintf(text, sizeof text,
             "task \"%s\" aborted, signal 6 (abort(), or a C++ exception that nothing caught escaped it)",
             running->task);
  else
    snprintf(text, sizeof text, "a C++ exception escaped task \"%s\"; its process ended", running->task);
  mp__result_area_write(running->result, MP_ECRASHED, 0, text, NULL, 0);
  (void)call;
}

/* A Process: run the task, write its outcome. The exit code says how it
 * went (0 it succeeded, 1 it failed). */
static int run_process(const mp__boot *b, mp_call *call, int import_rc) {
  char text[160];
  if (mp__result_area_open(b->result) != MP_OK) return 1; /* written nowhere: the parent reads a crash */
  if (import_rc != MP_OK) {
    mp__result_area_write(b->result, import_rc, 0, mp_last_error(), NULL, 0);
    return 1;
  }
  mp_task_fn fn = mp__task_lookup(b->task);
  if (!fn) {
    snprintf(text, sizeof text, "no task registered under \"%s\" in the worker", b->task);
    mp__result_area_write(b->result, MP_ENOTASK, 0, text, NULL, 0);
    return 1;
  }
  running = b;
  int ret = mp__task_call(fn, call, escaped);
  mp__objects_after_task(call->objects, call->nobjects);
  if (ret == 0) {
    int rc = mp__result_area_write(b->result, MP_OK, 0, NULL, call->result, call->result_len);
    return rc == MP_OK ? 0 : 1;
  }
  if (!call->message) snprintf(text, sizeof text, "task \"%s\" returned %d", b->task, ret);
  mp__result_area_write(b->result, MP_ETASK, ret, call->message ? call->message : text, NULL, 0);
  return 1;
}

int mp__worker_run(const mp__boot *b) {
  mp_call call;
  mp__worker_set_name(b->role == MP__ROLE_POOL_WORKER ? b->worker_id : -1);
  mp__worker_fence_exit();
  guard_handles(b);
  memset(&call, 0, sizeof call);
  call.arg = b->arg;
  call.arg_len = b->arg_len;
  call.worker_id = b->worker_id;
  call.nobjects = b->nobjects;
  call.result_handle = b->result;
  int rc = MP_OK;
  if (b->nobjects && !(call.objects = calloc(b->nobjects, sizeof *call.objects)))
    rc = mp__set_error(MP_ENOMEM, "worker: out of memory");
  if (rc == MP_OK) rc = import_objects(b, call.objects);
  char why[512] = "";
  if (rc != MP_OK) snprintf(why, sizeof why, "%s", mp_last_error());
  int exit_code = b->role == MP__ROLE_POOL_WORKER ? mp__pool_worker_loop(b, &call, rc, why) : run_process(b, &call, rc);
  for (size_t i = 0; call.objects && i < call.nobjects; i++) mp__object_release(call.objects[i]);
  free(call.objects);
  mp__call_release(&call);
  mp__handle_close(b->result);
  return exit_code;
}
