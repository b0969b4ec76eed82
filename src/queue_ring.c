#include "queue_ring.h"

#include "buf.h"

/* Is there room for a record head at at? Written so that no sum can wrap
 * around, whatever at holds. */
static int head_fits(uint64_t capacity, uint64_t at) {
  return at <= capacity && capacity - at >= MP__RING_RECORD_HEAD;
}

uint64_t mp__ring_skip_wrap(const uint8_t *ring, uint64_t capacity, uint64_t at) {
  if (!head_fits(capacity, at)) return 0;
  return mp__load_u32(ring + at + 4) == MP__RING_WRAP_MARK ? 0 : at;
}

int mp__ring_next(const uint8_t *ring, uint64_t capacity, uint64_t pos, uint64_t *at, uint32_t *len) {
  uint64_t a = mp__ring_skip_wrap(ring, capacity, pos);
  *at = a;
  if (!head_fits(capacity, a)) return 0; /* a ring too small for any record */
  uint32_t n = mp__load_u32(ring + a);
  if (mp__load_u32(ring + a + 4) != MP__RING_RECORD_MARK || mp__ring_record_size(n) > capacity - a) return 0;
  *len = n;
  return 1;
}
