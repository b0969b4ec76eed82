/* The pool's arena: making it, handing it to a worker, mapping it there. */
#include <stdlib.h>
#include <string.h>

#include "pool_arena.h"

typedef char slot_is_four_lines[sizeof(mp__arena_slot) == 4 * MP__ARENA_LINE ? 1 : -1];
typedef char header_fits[sizeof(mp__arena_header) <= MP__ARENA_HEADER_BYTES ? 1 : -1];
typedef char result_ring_is_a_power_of_two[(MP__POOL_RESULT_BYTES & (MP__POOL_RESULT_BYTES - 1)) == 0 &&
                                                   MP__POOL_RESULT_BYTES >= 4096
                                               ? 1
                                               : -1];

#define PAGE 4096u
#define MAX_SLOTS 4096u

static uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

/* Where each part goes for nslots workers. */
static void plan(mp__arena_header *h, uint32_t nslots) {
  h->nslots = nslots;
  h->result_bytes = MP__POOL_RESULT_BYTES;
  h->ring_bytes = MP__POOL_RING_BYTES;
  h->slots_at = MP__ARENA_HEADER_BYTES;
  h->results_at = round_up(h->slots_at + (uint64_t)nslots * sizeof(mp__arena_slot), PAGE);
  h->ring_at = h->results_at + (uint64_t)nslots * h->result_bytes;
  h->map_size = h->ring_at + h->ring_bytes;
}

static void point(mp__arena *a) {
  mp__arena_header *h = a->h;
  a->base = (uint8_t *)h;
  a->slots = (mp__arena_slot *)(a->base + h->slots_at);
  a->results = a->base + h->results_at;
  a->ring = a->base + h->ring_at;
}

void mp__arena_release(mp__arena *a) {
  if (a->h) mp__shm_detach(a->h, a->map_size);
  mp__handle_close(a->shm);
  mp__handle_close(a->work_bell);
  mp__handle_close(a->parent_bell);
  size_t nb = a->own_slot >= 0 ? 1 : a->nslots;
  for (size_t i = 0; a->space_bells && i < nb; i++) mp__handle_close(a->space_bells[i]);
  free(a->space_bells);
  memset(a, 0, sizeof *a);
  a->shm = a->work_bell = a->parent_bell = MP__NO_HANDLE;
  a->own_slot = -1;
}

static void blank(mp__arena *a) {
  memset(a, 0, sizeof *a);
  a->shm = a->work_bell = a->parent_bell = MP__NO_HANDLE;
  a->own_slot = -1;
}

int mp__arena_create(mp__arena *a, uint32_t nslots) {
  blank(a);
  if (nslots == 0 || nslots > MAX_SLOTS) return mp__set_error(MP_EINVAL, "mp_pool_create: %u workers", nslots);
  mp__arena_header want;
  memset(&want, 0, sizeof want);
  plan(&want, nslots);
  if (want.map_size > SIZE_MAX / 2)
    return mp__set_error(MP_ETOOBIG, "mp_pool_create: %u workers need more address space than there is", nslots);
  a->space_bells = malloc(nslots * sizeof *a->space_bells);
  if (!a->space_bells) return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  for (uint32_t i = 0; i < nslots; i++) a->space_bells[i] = MP__NO_HANDLE;
  a->nslots = nslots;
  a->map_size = (size_t)want.map_size;
  void *mem = NULL;
  int rc = mp__shm_create(a->map_size, &a->shm, &mem);
  if (rc != MP_OK) goto fail;
  a->h = mem;
  /* Everything but the task ring is in use from the start; the ring's
   * pages are committed as the pool writes into them. */
  if ((rc = mp__shm_commit(mem, (size_t)want.ring_at)) != MP_OK) goto fail;
  memcpy(a->h, &want, sizeof want);
  a->result_bytes = want.result_bytes;
  a->ring_bytes = want.ring_bytes;
  point(a);
  if ((rc = mp__pwait_init(a->h->work_bell, &a->work_bell)) != MP_OK ||
      (rc = mp__pwait_init(a->h->parent_bell, &a->parent_bell)) != MP_OK)
    goto fail;
  for (uint32_t i = 0; i < nslots; i++)
    if ((rc = mp__pwait_init(a->slots[i].space_bell, &a->space_bells[i])) != MP_OK) goto fail;
  a->h->version = MP__ARENA_VERSION;
  a->h->magic = MP__ARENA_MAGIC;
  return MP_OK;
fail:
  mp__arena_release(a);
  return rc;
}

void mp__arena_reset_slot(mp__arena *a, int slot) {
  mp__arena_slot *s = &a->slots[slot];
  s->state = MP__SLOT_STARTING;
  s->item = 0;
  s->chunk = 0;
  s->record = 0;
  s->started_ns = 0;
  s->runs = 0;
  mp__atomic_store64(&s->res_tail, 0);
  mp__atomic_store64(&s->res_pub, 0);
  mp__atomic_store64(&s->res_head, 0);
  mp__atomic_store64(&s->res_seen, 0);
  mp__atomic_store32(&s->doomed, 0);
}

/* Handles, in this order, each present only if it is a real handle (the
 * POSIX bells are words in the segment itself). */
enum { H_SHM, H_WORK, H_PARENT, H_SPACE, H_COUNT };

int mp__arena_export(const mp__arena *a, int slot, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp__handle all[H_COUNT] = {a->shm, a->work_bell, a->parent_bell, a->space_bells[slot]};
  uint32_t present = 0;
  size_t n = 0;
  for (int i = 0; i < H_COUNT; i++) {
    if (all[i] == MP__NO_HANDLE) continue;
    present |= 1u << i;
    handles[n++] = all[i];
  }
  *nhandles = n;
  mp__buf_put_u32(blob, present);
  mp__buf_put_u64(blob, (uint64_t)a->map_size);
  mp__buf_put_u32(blob, a->nslots);
  mp__buf_put_u32(blob, (uint32_t)slot);
  mp__buf_put_u64(blob, a->result_bytes);
  mp__buf_put_u64(blob, a->ring_bytes);
  return MP_OK;
}

static int bad(mp__arena *a, const char *what) {
  mp__arena_release(a);
  return mp__set_error(MP_EPROTO, "pool worker: malformed arena (%s)", what);
}

int mp__arena_import(mp__arena *a, const mp__handle *handles, size_t nhandles, const uint8_t *blob,
                     size_t bloblen) {
  blank(a);
  mp__rd r;
  mp__rd_init(&r, blob, bloblen);
  uint32_t present = mp__rd_u32(&r);
  uint64_t map_size = mp__rd_u64(&r);
  uint32_t nslots = mp__rd_u32(&r), slot = mp__rd_u32(&r);
  uint64_t result_bytes = mp__rd_u64(&r), ring_bytes = mp__rd_u64(&r);
  size_t want = 0;
  for (int i = 0; i < H_COUNT; i++) want += (present >> i) & 1u;
  mp__arena_header expect;
  memset(&expect, 0, sizeof expect);
  plan(&expect, nslots ? nslots : 1);
  if (r.failed || r.off != r.len || (present >> H_COUNT) || !(present & 1u) || want != nhandles)
    return bad(a, "description");
  /* The sizes must be the ones this very build would choose: a worker is
   * the same program as its pool. */
  if (nslots == 0 || nslots > MAX_SLOTS || slot >= nslots || result_bytes != expect.result_bytes ||
      ring_bytes != expect.ring_bytes || map_size != expect.map_size)
    return bad(a, "sizes");
  mp__handle got[H_COUNT] = {MP__NO_HANDLE, MP__NO_HANDLE, MP__NO_HANDLE, MP__NO_HANDLE};
  size_t k = 0;
  for (int i = 0; i < H_COUNT; i++)
    if (present & (1u << i)) got[i] = handles[k++];
  a->shm = got[H_SHM];
  a->work_bell = got[H_WORK];
  a->parent_bell = got[H_PARENT];
  if (!(a->space_bells = malloc(sizeof *a->space_bells))) return bad(a, "out of memory");
  a->space_bells[0] = got[H_SPACE];
  a->own_slot = (int)slot;
  a->nslots = nslots;
  a->map_size = (size_t)map_size;
  a->result_bytes = result_bytes;
  a->ring_bytes = ring_bytes;
  void *mem = NULL;
  int rc = mp__shm_attach(a->shm, a->map_size, &mem);
  if (rc != MP_OK) {
    mp__arena_release(a);
    return rc;
  }
  a->h = mem;
  if ((rc = mp__shm_commit(mem, (size_t)expect.ring_at)) != MP_OK) {
    mp__arena_release(a);
    return rc;
  }
  if (a->h->magic != MP__ARENA_MAGIC || a->h->version != MP__ARENA_VERSION || a->h->nslots != nslots)
    return bad(a, "header");
  /* Our own offsets, not the header's. */
  a->base = mem;
  a->slots = (mp__arena_slot *)(a->base + expect.slots_at);
  a->results = a->base + expect.results_at;
  a->ring = a->base + expect.ring_at;
  return MP_OK;
}
