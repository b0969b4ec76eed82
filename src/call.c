/* Inside a task: its argument, its result, its shared objects. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

const void *mp_call_arg(mp_call *call, size_t *len) {
  if (!call) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = call->arg_len;
  return call->arg;
}

int mp_call_arg_read(mp_call *call, void *dst, size_t size) {
  if (!call || (!dst && size)) return mp__set_error(MP_EINVAL, "mp_call_arg_read: NULL argument");
  if (call->arg_len != size)
    return mp__set_error(MP_EINVAL, "mp_call_arg_read: the argument has %llu bytes, not %llu",
                         (unsigned long long)call->arg_len, (unsigned long long)size);
  mp__move(dst, call->arg, size);
  return MP_OK;
}

int mp_call_return(mp_call *call, const void *data, size_t len) {
  if (!call || (!data && len)) return mp__set_error(MP_EINVAL, "mp_call_return: NULL argument");
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "mp_call_return: %llu bytes is over MP_MAX_MESSAGE",
                         (unsigned long long)len);
  void *copy = len <= sizeof call->result_inline ? (void *)call->result_inline : malloc(len);
  if (!copy) return mp__set_error(MP_ENOMEM, "mp_call_return: out of memory for %llu bytes",
                                  (unsigned long long)len);
  /* A move: data may be the previous result's own bytes. */
  mp__move(copy, data, len);
  if (call->result != (void *)call->result_inline && call->result != copy) free(call->result);
  call->result = copy;
  call->result_len = len;
  return MP_OK;
}

int mp_call_fail(mp_call *call, const char *fmt, ...) {
  if (!call) return MP_ETASK;
  char text[1024] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
  }
  free(call->message);
  call->message = mp__strdup(text);
  return MP_ETASK;
}

size_t mp_call_index(mp_call *call) { return call ? call->index : 0; }

int mp_call_worker_id(mp_call *call) { return call ? call->worker_id : 0; }

mp_object *mp__call_object(mp_call *call, size_t i, int kind, const char *api) {
  if (!call) {
    mp__set_error(MP_EINVAL, "%s: NULL call", api);
    return NULL;
  }
  if (i >= call->nobjects || !call->objects || !call->objects[i]) {
    if (call->nobjects == 0)
      mp__set_error(MP_EINVAL, "%s: the call has no objects (list them in the options' objects)", api);
    else
      mp__set_error(MP_EINVAL, "%s: the call has %llu object%s, so there is no object %llu", api,
                    (unsigned long long)call->nobjects, call->nobjects == 1 ? "" : "s", (unsigned long long)i);
    return NULL;
  }
  mp_object *o = call->objects[i];
  if (o->ops->kind != kind) {
    mp__set_error(MP_EINVAL, "%s: object %llu is %s, not %s", api, (unsigned long long)i,
                  mp__kind_phrase(o->ops->kind), mp__kind_phrase(kind));
    return NULL;
  }
  return o;
}

int mp__call_scribble_result(mp_call *call, const void *bytes, size_t n) {
  void *mem = NULL;
  int rc = mp__shm_attach(call->result_handle, 4096, &mem);
  if (rc == MP_OK) rc = mp__shm_commit(mem, 4096);
  if (rc == MP_OK) memcpy(mem, bytes, n < 4096 ? n : 4096);
  if (mem) mp__shm_detach(mem, 4096);
  return rc;
}

void mp__call_release(mp_call *call) {
  if (call->result != (void *)call->result_inline) free(call->result);
  free(call->message);
  call->result = NULL;
  call->message = NULL;
  call->result_len = 0;
}
