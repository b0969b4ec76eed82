/* Shareable objects: how a worker rebuilds what its parent listed. */
#include "kinds.h"

int mp__object_import(uint32_t kind, const mp__handle *handles, size_t nhandles,
                      const uint8_t *blob, size_t bloblen, mp_object **out) {
  *out = NULL;
  const mp__kind_info *k = mp__kind_find(kind);
  if (!k)
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: unknown object kind %lu",
                         (unsigned long)kind);
  mp__rd r;
  mp__rd_init(&r, blob, bloblen);
  return k->import(handles, nhandles, &r, out);
}

void mp__object_init(mp_object *o, const mp__object_ops *ops) {
  o->ops = ops;
  o->borrowed = 0;
  o->refs = 1;
}

mp_object *mp__object_retain(mp_object *o) {
  mp__atomic_add32(&o->refs, 1);
  return o;
}

void mp__object_unref(mp_object *o) {
  if (o && mp__atomic_add32(&o->refs, -1) == 0) o->ops->destroy(o);
}

void mp__object_free(mp_object *o) {
  if (o && !o->borrowed) mp__object_unref(o);
}

void mp__object_release(mp_object *o) { mp__object_unref(o); }

void mp__objects_after_task(mp_object **objects, size_t n) {
  for (size_t i = 0; objects && i < n; i++)
    if (objects[i] && objects[i]->ops->after_task) objects[i]->ops->after_task(objects[i]);
}

const char *mp__kind_phrase(int kind) {
  const mp__kind_info *k = kind > 0 ? mp__kind_find((uint32_t)kind) : NULL;
  return k ? k->phrase : "an object of an unknown kind";
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
