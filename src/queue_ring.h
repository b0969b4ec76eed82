/* A Queue's byte ring, read without trusting what is in it.
 *
 * The ring lives in shared memory that every process holding the queue
 * can write. So the reader checks each offset and length against the
 * ring's size (its own copy, not the shared header's) before it reads a
 * byte, and a record that is not whole and inside the ring is refused.
 * Pure functions over a plain buffer: src/queue.c calls them with the get
 * lock held, and tests/fuzz/fuzz_queue_ring.c feeds them hostile bytes.
 *
 * A record is u32 payload length, u32 mark, the payload, padding to 8. A
 * WRAP record, or the ring's last bytes where no record head fits, sends
 * the reader back to offset 0. */
#ifndef MPROC_QUEUE_RING_H
#define MPROC_QUEUE_RING_H

#include <stdint.h>

#define MP__RING_RECORD_MARK 0x4D524543u /* "CERM" */
#define MP__RING_WRAP_MARK 0x50415257u   /* "WRAP": the next record is at offset 0 */
#define MP__RING_RECORD_HEAD 8

static inline uint64_t mp__ring_record_size(uint64_t len) {
  return MP__RING_RECORD_HEAD + ((len + 7) & ~(uint64_t)7);
}

/* Where the reader goes from position at: at itself, or 0 after a WRAP
 * record, at the ring's end, or from a position outside the ring. */
uint64_t mp__ring_skip_wrap(const uint8_t *ring, uint64_t capacity, uint64_t at);

/* The record a get takes from reading position pos: 1 with its offset
 * (*at, after following a wrap) and payload length (*len) if a whole
 * record lies there inside the ring; else 0 (the memory was scribbled on). */
int mp__ring_next(const uint8_t *ring, uint64_t capacity, uint64_t pos, uint64_t *at, uint32_t *len);

#endif
