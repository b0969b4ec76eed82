/* Shared memory: a zero-filled block every process it is given maps.
 *
 * It is the platform's anonymous shared memory (memfd, an shm_open name
 * unlinked at once, an unnamed Windows section), so it has no name and
 * nothing of it outlives the last process that maps it, however that
 * process ends. Pages cost memory only once written (Windows charges the
 * commit up front, since the whole block is usable at once). */
#include <stdlib.h>

#include "sync.h"

struct mp_shm {
  mp_object base;
  mp__handle h;
  void *ptr;
  size_t size;
};

static int shm_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static void shm_destroy(mp_object *o) { mp__shm_release((mp_shm *)o); }
static const mp__object_ops shm_ops = {MP__KIND_SHM, "shared memory", shm_export, shm_destroy, NULL};

/* Half the address space: anything above it cannot be mapped anyway. */
#define SHM_MAX (SIZE_MAX >> 1)

static mp_shm *shm_new(void) {
  mp_shm *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  mp__object_init(&s->base, &shm_ops);
  s->h = MP__NO_HANDLE;
  return s;
}

void mp__shm_release(mp_shm *s) {
  if (!s) return;
  mp__shm_detach(s->ptr, s->size);
  mp__handle_close(s->h);
  free(s);
}

/* Maps s->h in this process, every page usable. */
static int map(mp_shm *s, int create) {
  void *mem = NULL;
  int rc = create ? mp__shm_create(s->size, &s->h, &mem) : mp__shm_attach(s->h, s->size, &mem);
  if (rc == MP_OK && (rc = mp__shm_commit(mem, s->size)) != MP_OK) mp__shm_detach(mem, s->size);
  if (rc == MP_OK) s->ptr = mem;
  return rc;
}

int mp_shm_create(mp_shm **out, size_t size) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_shm_create: out is NULL");
  *out = NULL;
  if (size == 0) return mp__set_error(MP_EINVAL, "mp_shm_create: size must be at least 1 byte");
  if (size > SHM_MAX)
    return mp__set_error(MP_ETOOBIG, "mp_shm_create: %llu bytes is more than this process can map",
                         (unsigned long long)size);
  int rc = mp__require_main("mp_shm_create");
  if (rc != MP_OK) return rc;
  mp_shm *s = shm_new();
  if (!s) return mp__set_error(MP_ENOMEM, "mp_shm_create: out of memory");
  s->size = size;
  if ((rc = map(s, 1)) != MP_OK) {
    mp__shm_release(s);
    return mp__error_in("mp_shm_create", rc);
  }
  *out = s;
  return MP_OK;
}

void *mp_shm_ptr(mp_shm *s) { return s ? s->ptr : NULL; }

size_t mp_shm_size(mp_shm *s) { return s ? s->size : 0; }

mp_shm *mp_shm_free(mp_shm *s) {
  if (s) mp__object_free(&s->base);
  return NULL;
}

mp_object *mp_shm_obj(mp_shm *s) { return s ? &s->base : NULL; }

mp_shm *mp_call_shm(mp_call *call, size_t i) {
  return (mp_shm *)mp__call_object(call, i, MP__KIND_SHM, "mp_call_shm");
}

static int shm_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp_shm *s = (mp_shm *)o;
  handles[0] = s->h;
  *nhandles = 1;
  mp__buf_put_u64(blob, (uint64_t)s->size);
  return MP_OK;
}

int mp__shm_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  uint64_t size = mp__rd_u64(r);
  if (r->failed || r->off != r->len || nhandles != 1 || size == 0 || size > SHM_MAX)
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: shared memory description");
  mp_shm *s = shm_new();
  if (!s) return mp__set_error(MP_ENOMEM, "out of memory rebuilding shared memory");
  s->h = handles[0];
  s->size = (size_t)size;
  int rc = map(s, 0);
  if (rc != MP_OK) {
    mp__shm_release(s);
    return rc;
  }
  s->base.borrowed = 1;
  *out = &s->base;
  return MP_OK;
}
