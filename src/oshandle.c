/* OS handles as objects: a descriptor (POSIX) or HANDLE (Windows) of the
 * user's, handed to the children it is listed for, like the handles of
 * every other kind (src/launch.c lists them; mp__spawn hands exactly those
 * on). The object holds the library's own copy, never inheritable. */
#include <stdlib.h>

#include "kinds.h"

struct mp_oshandle {
  mp_object base;
  mp__handle h;
};

static int oshandle_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  handles[0] = ((mp_oshandle *)o)->h;
  *nhandles = 1;
  mp__buf_put_u32(blob, 1); /* version: room for a socket's protocol info later */
  return MP_OK;
}

static void oshandle_destroy(mp_object *o) {
  mp_oshandle *x = (mp_oshandle *)o;
  mp__handle_close(x->h);
  free(x);
}

static const mp__object_ops oshandle_ops = {MP__KIND_OSHANDLE, "handle", oshandle_export, oshandle_destroy,
                                            NULL};

static mp_oshandle *oshandle_new(mp__handle h) {
  mp_oshandle *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  mp__object_init(&x->base, &oshandle_ops);
  x->h = h;
  return x;
}

int mp_oshandle_create(mp_oshandle **out, mp_os_handle h) {
  if (out) *out = NULL;
  if (!out) return mp__set_error(MP_EINVAL, "mp_oshandle_create: out must not be NULL");
  int rc = mp__require_main("mp_oshandle_create");
  if (rc != MP_OK) return rc;
  mp__handle copy = MP__NO_HANDLE;
  if ((rc = mp__handle_dup((mp__handle)h, &copy, "mp_oshandle_create")) != MP_OK) return rc;
  mp_oshandle *x = oshandle_new(copy);
  if (!x) {
    mp__handle_close(copy);
    return mp__set_error(MP_ENOMEM, "mp_oshandle_create: out of memory");
  }
  *out = x;
  return MP_OK;
}

mp_os_handle mp_oshandle_get(mp_oshandle *x) { return (mp_os_handle)(x ? x->h : MP__NO_HANDLE); }

mp_oshandle *mp_oshandle_free(mp_oshandle *x) {
  if (x) mp__object_free(&x->base);
  return NULL;
}

mp_object *mp_oshandle_obj(mp_oshandle *x) { return x ? &x->base : NULL; }

int mp_call_oshandle(mp_call *call, size_t i, mp_os_handle *out) {
  if (out) *out = (mp_os_handle)MP__NO_HANDLE;
  if (!out) return mp__set_error(MP_EINVAL, "mp_call_oshandle: out must not be NULL");
  mp_oshandle *x = (mp_oshandle *)mp__call_object(call, i, MP__KIND_OSHANDLE, "mp_call_oshandle");
  if (!x) return MP_EINVAL;
  *out = (mp_os_handle)x->h;
  return MP_OK;
}

int mp__oshandle_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  uint32_t version = mp__rd_u32(r);
  if (r->failed || r->off != r->len || version != 1 || nhandles != 1 || handles[0] == MP__NO_HANDLE)
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: handle description");
  mp_oshandle *x = oshandle_new(handles[0]);
  if (!x) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a handle");
  x->base.borrowed = 1;
  *out = &x->base;
  return MP_OK;
}
