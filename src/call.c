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
  if (size) memcpy(dst, call->arg, size);
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
  /* memmove: data may be the previous result's own bytes. */
  if (len) memmove(copy, data, len);
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

mp_object *mp__call_object(mp_call *call, size_t i, int kind) {
  if (!call || i >= call->nobjects || !call->objects[i]) return NULL;
  return call->objects[i]->ops->kind == kind ? call->objects[i] : NULL;
}

mp__handle mp__call_result_handle(mp_call *call) { return call->result_handle; }

void mp__call_release(mp_call *call) {
  if (call->result != (void *)call->result_inline) free(call->result);
  free(call->message);
  call->result = NULL;
  call->message = NULL;
  call->result_len = 0;
}
