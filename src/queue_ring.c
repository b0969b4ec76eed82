#include "queue_ring.h"

#include <string.h>

#include "buf.h"
#include "platform.h"

int mp__ring_read_head(const uint8_t *ring, uint64_t size, uint64_t at, mp__ring_head *h) {
  if ((size & (MP__RING_ALIGN - 1)) != 0 || !mp__ring_offset_ok(size, at)) return 0;
  h->mark = mp__ring_mark(ring, at);
  h->len = mp__load_u32(ring + at);
  h->owner = mp__load_u32(ring + at + 8);
  if (h->mark == MP__RING_JUMP_MARK) return size > MP__RING_RECORD_HEAD;
  /* A skip fills the ring from a record that did not fit to its end:
   * never from 0, where every record fits (one there would send a reader
   * round to where it stands, for ever). */
  if (h->mark == MP__RING_SKIP_MARK) return at > 0 && mp__ring_record_size(h->len) == size - at;
  if (h->mark != MP__RING_READY_MARK && h->mark != MP__RING_BUSY_MARK) return 0;
  /* Not bigger than the ring could ever hold (mp__ring_fits). */
  uint64_t rec = mp__ring_record_size(h->len);
  return rec < size && size - rec > MP__RING_RECORD_HEAD;
}

void mp__ring_write_head(uint8_t *ring, uint64_t size, uint64_t at, uint32_t len, uint32_t mark, uint32_t owner) {
  (void)size;
  mp__store_u32(ring + at, len);
  mp__store_u32(ring + at + 8, owner);
  mp__store_u32(ring + at + 12, 0);
  mp__ring_set_mark(ring, at, mark);
}

/* Record heads are 16-aligned in a 16-aligned ring, so the mark is an
 * aligned u32. */
void mp__ring_set_mark(uint8_t *ring, uint64_t at, uint32_t mark) {
  mp__atomic_store32((volatile uint32_t *)(void *)(ring + at + 4), mark);
}

uint32_t mp__ring_mark(const uint8_t *ring, uint64_t at) {
  return mp__atomic_load32((volatile uint32_t *)(void *)(ring + at + 4));
}

void mp__ring_copy_out(const uint8_t *ring, uint64_t size, uint64_t at, void *dst, uint64_t len) {
  if (!len) return;
  uint64_t from = mp__ring_advance(size, at, MP__RING_RECORD_HEAD);
  uint64_t first = size - from < len ? size - from : len;
  memcpy(dst, ring + from, (size_t)first);
  if (first < len) memcpy((uint8_t *)dst + first, ring, (size_t)(len - first));
}

void mp__ring_copy_in(uint8_t *ring, uint64_t size, uint64_t at, const void *src, uint64_t len) {
  if (!len) return;
  uint64_t to = mp__ring_advance(size, at, MP__RING_RECORD_HEAD);
  uint64_t first = size - to < len ? size - to : len;
  memcpy(ring + to, src, (size_t)first);
  if (first < len) memcpy(ring, (const uint8_t *)src + first, (size_t)(len - first));
}

int mp__ring_view_ok(const uint64_t size[2], const mp__ring_view *v) {
  for (int r = 0; r < 2; r++)
    if ((size[r] & (MP__RING_ALIGN - 1)) || size[r] <= 2 * MP__RING_RECORD_HEAD || !mp__ring_offset_ok(size[r], v->tail[r]) ||
        !mp__ring_offset_ok(size[r], v->head[r]))
      return 0;
  return (v->pring == 0 || v->pring == 1) && (v->cring == 0 || v->cring == 1);
}

/* The warm ring's producers are past the rewind point, not behind its
 * consumers, and the start the consumers have freed holds what is queued
 * and this record again: fill the rest and go on at 0. (Freed space a
 * smaller backlog leaves is what keeps a growing one in the warm ring.) */
static int rewinds(uint64_t size, uint64_t head, uint64_t tail, uint64_t rec) {
  return tail >= mp__ring_rewind_at(size) && tail >= head && head > (tail - head) + rec + MP__RING_RECORD_HEAD;
}

int mp__ring_place(const uint64_t size[2], const mp__ring_view *v, uint64_t rec, int *ring, int *skip) {
  *skip = 0;
  if (v->pring == MP__RING_WARM && rewinds(size[0], v->head[0], v->tail[0], rec)) {
    *ring = MP__RING_WARM;
    *skip = 1;
    return 1;
  }
  for (int r = MP__RING_WARM; r <= MP__RING_STORE; r++)
    if (mp__ring_fits(size[r], v->head[r], v->tail[r], rec)) {
      *ring = r;
      return 1;
    }
  return 0;
}
