/* The page behind each synchronization object (see sync.h), and the
 * object layer's way in to all of them. */
#include <string.h>

#include "sync.h"

#define SYNC_MAGIC 0x434E594Du /* "MYNC" */
#define SYNC_VERSION 1
#define LOCK_OFFSET 64
#define WAIT_OFFSET 128
#define STATE_OFFSET 256

typedef struct sync_header {
  uint32_t magic, version, kind, slots;
} sync_header;

enum { H_SHM = 1, H_LOCK = 2, H_WAIT = 4 };

/* How big a kind's segment is: every process that maps it knows it. */
static size_t seg_size(int kind) { return kind == MP__KIND_CONDITION ? MP__SYNC_COND_SIZE : MP__SYNC_PAGE; }

void mp__sync_seg_clear(mp__sync_seg *s) {
  s->mem = NULL;
  s->size = 0;
  s->shm = s->lock = s->wait = MP__NO_HANDLE;
}

void *mp__sync_lock_slot(const mp__sync_seg *s) { return s->mem + LOCK_OFFSET; }
void *mp__sync_wait_slot(const mp__sync_seg *s) { return s->mem + WAIT_OFFSET; }
void *mp__sync_state(const mp__sync_seg *s) { return s->mem + STATE_OFFSET; }

void mp__sync_seg_release(mp__sync_seg *s) {
  if (s->mem) mp__shm_detach(s->mem, s->size);
  mp__handle_close(s->shm);
  mp__handle_close(s->lock);
  mp__handle_close(s->wait);
  mp__sync_seg_clear(s);
}

/* Maps and commits the segment (Windows sections are only reserved). */
static int map_page(mp__sync_seg *s, int kind, int create) {
  void *mem = NULL;
  size_t size = seg_size(kind);
  int rc = create ? mp__shm_create(size, &s->shm, &mem) : mp__shm_attach(s->shm, size, &mem);
  if (rc == MP_OK && (rc = mp__shm_commit(mem, size)) != MP_OK) mp__shm_detach(mem, size);
  if (rc == MP_OK) {
    s->mem = mem;
    s->size = size;
  }
  return rc;
}

int mp__sync_seg_create(mp__sync_seg *s, int kind, unsigned slots) {
  mp__sync_seg_clear(s);
  int rc = map_page(s, kind, 1);
  if (rc == MP_OK && (slots & MP__SYNC_WITH_LOCK)) rc = mp__plock_init(mp__sync_lock_slot(s), &s->lock);
  if (rc == MP_OK && (slots & MP__SYNC_WITH_WAIT)) rc = mp__pwait_init(mp__sync_wait_slot(s), &s->wait);
  if (rc != MP_OK) {
    mp__sync_seg_release(s);
    return rc;
  }
  sync_header *h = (sync_header *)s->mem;
  h->kind = (uint32_t)kind;
  h->slots = slots;
  h->version = SYNC_VERSION;
  h->magic = SYNC_MAGIC;
  return MP_OK;
}

void mp__sync_seg_export(const mp__sync_seg *s, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  const mp__handle all[3] = {s->shm, s->lock, s->wait};
  uint32_t present = 0;
  size_t n = *nhandles;
  for (int i = 0; i < 3; i++) {
    if (all[i] == MP__NO_HANDLE) continue;
    present |= 1u << i;
    handles[n++] = all[i];
  }
  *nhandles = n;
  mp__buf_put_u32(blob, present);
}

int mp__sync_seg_import(mp__sync_seg *s, int kind, const mp__handle *handles, size_t avail, size_t *used,
                        mp__rd *r) {
  mp__sync_seg_clear(s);
  *used = 0;
  uint32_t present = mp__rd_u32(r);
  mp__handle *dst[3] = {&s->shm, &s->lock, &s->wait};
  int well_formed = !r->failed && (present & H_SHM) && present <= 7;
  for (int i = 0; i < 3 && well_formed; i++) {
    if (!(present & (1u << i))) continue;
    if (*used == avail) well_formed = 0;
    else *dst[i] = handles[(*used)++];
  }
  int rc = well_formed ? map_page(s, kind, 0)
                       : mp__set_error(MP_EPROTO, "malformed bootstrap message: synchronization object description");
  if (rc == MP_OK) {
    const sync_header *h = (const sync_header *)s->mem;
    if (h->magic != SYNC_MAGIC || h->version != SYNC_VERSION || h->kind != (uint32_t)kind)
      rc = mp__set_error(MP_EPROTO, "malformed shared object: its page does not hold kind %d", kind);
  }
  if (rc != MP_OK) mp__sync_seg_release(s);
  return rc;
}

int mp__sync_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  *nhandles = 0;
  mp__sync_seg_export(&((mp__sync_obj *)o)->seg, handles, nhandles, blob);
  return MP_OK;
}
