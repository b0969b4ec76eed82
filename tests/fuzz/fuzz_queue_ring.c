/* The queue's record reader (src/queue_ring.c), as a get uses it, on a
 * ring whose every byte and whose reading position another process may
 * have scribbled on.
 *
 * Input: u64 reading position (any value: the shared word is anyone's to
 * write), then the ring's bytes, any number (the ring is exactly that
 * big, so a read past its end is a heap overflow the sanitizer reports).
 * Checked: each record the reader accepts lies wholly inside the ring,
 * where the position said or at 0 after a wrap, and reading records one
 * after another, as consumers do, stays inside and ends. */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "queue_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 8) return 0;
  uint64_t pos = mp__load_u64(data);
  uint64_t capacity = size - 8;
  uint8_t *ring = malloc(capacity ? (size_t)capacity : 1);
  uint8_t *copy = malloc(capacity ? (size_t)capacity : 1);
  FUZZ_CHECK(ring != NULL && copy != NULL);
  if (capacity) memcpy(ring, data + 8, (size_t)capacity);
  uint64_t to = mp__ring_skip_wrap(ring, capacity, pos);
  FUZZ_CHECK(to == pos || to == 0);
  /* A consumer takes record after record. Each moves the position forward
   * or back to 0, so two laps' worth of the smallest records is the most
   * a reader that keeps finding records could take. */
  uint64_t most = 2 * (capacity / MP__RING_RECORD_HEAD) + 2;
  for (uint64_t k = 0; k < most; k++) {
    uint64_t at;
    uint32_t len;
    if (!mp__ring_next(ring, capacity, pos, &at, &len)) break;
    FUZZ_CHECK(at == pos || at == 0);
    FUZZ_CHECK(at <= capacity && mp__ring_record_size(len) <= capacity - at);
    if (len) memcpy(copy, ring + at + MP__RING_RECORD_HEAD, len); /* what a get copies out */
    pos = at + mp__ring_record_size(len);
  }
  free(ring);
  free(copy);
  return 0;
}
