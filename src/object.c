/* Shareable objects: how a worker rebuilds what its parent listed. */
#include "core.h"
#include "conn.h"
#include "manager.h"
#include "queue.h"
#include "sync.h"

int mp__object_import(uint32_t kind, const mp__handle *handles, size_t nhandles,
                      const uint8_t *blob, size_t bloblen, mp_object **out) {
  *out = NULL;
  switch (kind) {
  case MP__KIND_CONN:
    return mp__conn_import(handles, nhandles, blob, bloblen, out);
  case MP__KIND_QUEUE:
    return mp__queue_import(handles, nhandles, blob, bloblen, out);
  case MP__KIND_MANAGER:
    return mp__manager_import(handles, nhandles, blob, bloblen, out);
  case MP__KIND_LOCK:
  case MP__KIND_SEMAPHORE:
  case MP__KIND_EVENT:
  case MP__KIND_BARRIER:
  case MP__KIND_CONDITION:
  case MP__KIND_SHM:
    return mp__sync_import(kind, handles, nhandles, blob, bloblen, out);
  default:
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: unknown object kind %lu",
                         (unsigned long)kind);
  }
}

void mp__object_release(mp_object *o) {
  if (!o) return;
  switch (o->ops->kind) {
  case MP__KIND_CONN:
    mp__conn_release((mp_conn *)o);
    break;
  case MP__KIND_QUEUE:
    mp__queue_release((mp_queue *)o);
    break;
  case MP__KIND_MANAGER:
    mp__manager_release((mp_manager *)o);
    break;
  case MP__KIND_LOCK:
  case MP__KIND_SEMAPHORE:
  case MP__KIND_EVENT:
  case MP__KIND_BARRIER:
  case MP__KIND_CONDITION:
  case MP__KIND_SHM:
    mp__sync_release(o);
    break;
  default:
    break;
  }
}

int mp__objects_check(const char *api, mp_object *const *objects, size_t n) {
  if (n == 0) return MP_OK;
  if (!objects) return mp__set_error(MP_EINVAL, "%s: nobjects is %llu but objects is NULL", api,
                                     (unsigned long long)n);
  if (n > MP__MAX_OBJECTS)
    return mp__set_error(MP_EINVAL, "%s: at most %d objects can be shared", api, MP__MAX_OBJECTS);
  for (size_t i = 0; i < n; i++)
    if (!objects[i] || !objects[i]->ops)
      return mp__set_error(MP_EINVAL, "%s: objects[%llu] is NULL", api, (unsigned long long)i);
  return MP_OK;
}
