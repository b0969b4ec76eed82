/* A worker's life: rebuild the shared objects, look the task up, run it,
 * send the RESULT frame. Both start methods come through here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "wire.h"

static int send_result(mp__handle h, int status, int code, const char *message, const void *data,
                       size_t len) {
  uint8_t small[256]; /* no heap page touched for a plain result */
  mp__buf meta;
  mp__buf_init_on(&meta, small, sizeof small);
  mp__result_encode(&meta, status, code, message);
  int rc = meta.failed ? MP_ENOMEM
                       : mp__frame_write(h, MP__FRAME_RESULT, 0, meta.data, meta.len, data, len);
  mp__buf_release(&meta);
  return rc;
}

static int import_objects(const mp__boot *b, mp_object **objects) {
  for (size_t i = 0; i < b->nobjects; i++) {
    const mp__boot_object *o = &b->objects[i];
    int rc = mp__object_import(o->kind, o->handles, o->nhandles, o->blob, o->bloblen, &objects[i]);
    if (rc != MP_OK) return rc;
  }
  return MP_OK;
}

/* Every handle this worker was handed stays its own (see
 * mp__worker_guard_handles): the result and task pipes first. */
static void guard_handles(const mp__boot *b) {
  mp__handle pipes[2] = {b->result, b->tasks};
  mp__worker_guard_handles(pipes, 2, 2);
  for (size_t i = 0; i < b->nobjects; i++)
    mp__worker_guard_handles(b->objects[i].handles, b->objects[i].nhandles, 0);
}

int mp__worker_run(const mp__boot *b) {
  mp_call call;
  guard_handles(b);
  memset(&call, 0, sizeof call);
  call.arg = b->arg;
  call.arg_len = b->arg_len;
  call.worker_id = b->worker_id;
  call.nobjects = b->nobjects;
  call.result_handle = b->result;
  int exit_code = 1;
  if (b->nobjects && !(call.objects = calloc(b->nobjects, sizeof *call.objects))) {
    send_result(b->result, MP_ENOMEM, 0, "worker: out of memory", NULL, 0);
    return exit_code;
  }
  mp_task_fn fn = mp__task_lookup(b->task);
  int rc = import_objects(b, call.objects);
  if (rc != MP_OK) {
    send_result(b->result, rc, 0, mp_last_error(), NULL, 0);
  } else if (b->role == MP__ROLE_POOL_WORKER) {
    exit_code = mp__pool_worker_loop(b, &call);
  } else if (!fn) {
    char text[160];
    snprintf(text, sizeof text, "no task registered under \"%s\" in the worker", b->task);
    send_result(b->result, MP_ENOTASK, 0, text, NULL, 0);
  } else {
    int ret = fn(&call);
    if (ret == 0) {
      exit_code = 0;
      send_result(b->result, MP_OK, 0, NULL, call.result, call.result_len);
    } else {
      char text[128];
      if (!call.message) snprintf(text, sizeof text, "task \"%s\" returned %d", b->task, ret);
      send_result(b->result, MP_ETASK, ret, call.message ? call.message : text, NULL, 0);
    }
  }
  for (size_t i = 0; i < call.nobjects; i++) mp__object_release(call.objects[i]);
  free(call.objects);
  mp__call_release(&call);
  mp__handle_close(b->result);
  return exit_code;
}
