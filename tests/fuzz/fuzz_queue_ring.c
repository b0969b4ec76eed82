/* The queue's record reader (src/queue_ring.c), as a get uses it, on two
 * rings whose every byte, and whose reading positions, another process may
 * have scribbled on.
 *
 * Input: u64 reading position in the warm ring, u64 the position a JUMP
 * sends the reader to in the store ring, u32 the warm ring's size (taken
 * modulo the bytes left), then the two rings' bytes, each ring exactly as
 * big as its bytes (so a read past its end is a heap overflow the
 * sanitizer reports). Checked: each record the reader accepts lies wholly
 * inside its ring, a payload that runs past the ring's end is copied from
 * its start, and reading record after record, as consumers do, stays
 * inside and ends. */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "queue_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 20) return 0;
  uint64_t pos[2] = {mp__load_u64(data), mp__load_u64(data + 8)};
  uint64_t left = size - 20, split = left ? mp__load_u32(data + 16) % (left + 1) : 0;
  uint64_t ring_size[2] = {split, left - split};
  uint8_t *ring[2];
  for (int r = 0; r < 2; r++) {
    ring[r] = malloc(ring_size[r] ? (size_t)ring_size[r] : 1);
    FUZZ_CHECK(ring[r] != NULL);
    if (ring_size[r]) memcpy(ring[r], data + 20 + (r ? split : 0), (size_t)ring_size[r]);
  }
  uint8_t *copy = malloc(left ? (size_t)left : 1);
  FUZZ_CHECK(copy != NULL);
  /* A consumer takes record after record. Each moves forward by at least
   * one head, so two laps of both rings' smallest records is the most a
   * reader that keeps finding records could take. */
  uint64_t most = 2 * (left / MP__RING_RECORD_HEAD) + 4;
  int cur = 0;
  for (uint64_t k = 0; k < most; k++) {
    mp__ring_head h;
    if (!mp__ring_read_head(ring[cur], ring_size[cur], pos[cur], &h)) break;
    FUZZ_CHECK(mp__ring_offset_ok(ring_size[cur], pos[cur]));
    if (h.mark == MP__RING_JUMP_MARK) {
      pos[cur] = mp__ring_advance(ring_size[cur], pos[cur], MP__RING_RECORD_HEAD);
      cur = 1 - cur;
      continue;
    }
    uint64_t rec = mp__ring_record_size(h.len);
    FUZZ_CHECK(rec < ring_size[cur]);
    mp__ring_copy_out(ring[cur], ring_size[cur], pos[cur], copy, h.len); /* what a get copies out */
    pos[cur] = mp__ring_advance(ring_size[cur], pos[cur], rec);
    FUZZ_CHECK(pos[cur] < ring_size[cur]);
  }
  for (int r = 0; r < 2; r++) free(ring[r]);
  free(copy);
  return 0;
}
