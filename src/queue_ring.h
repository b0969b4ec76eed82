/* A Queue's byte rings, read and written without trusting what is in them.
 *
 * A queue's store is two rings in one shared segment: a small warm ring,
 * which a queue that keeps up cycles through without touching new pages,
 * and the large store ring, which takes what the warm ring has no room
 * for. Each ring is a plain FIFO byte ring: records are written one after
 * another from the producers' position and read in the same order from
 * the consumers' position, and a record may run past the ring's end and go
 * on at its start (its 16-byte head never does: ring sizes and records are
 * multiples of 16). So a ring's free space is its size less the bytes in
 * use, with no gap lost at the end.
 *
 * The warm ring also wraps early: once its producers are past
 * mp__ring_rewind_at() and its consumers have freed its start, a SKIP record
 * fills the rest of it and records go on at 0, so a queue that keeps up
 * works in the same few cache-hot pages, not the whole warm ring. (The
 * store ring never does: its room is what the store's promise is about.)
 *
 * Which ring holds the next message is told by a JUMP record: a producer
 * that moves from one ring to the other leaves one where it was, and a
 * consumer reaching it goes on where it last left the other ring. Each ring
 * on its own is read in the order it was written, so that is always the
 * next message.
 *
 * The rings live in memory every process holding the queue can write, so
 * every offset and length is checked against the ring's size (the
 * process's own copy) before a byte is touched. Pure functions over plain
 * buffers: src/queue_put.c and src/queue_get.c call them, and
 * tests/fuzz/fuzz_queue_ring.c feeds them hostile bytes.
 *
 * A record's head: u32 payload length, u32 mark, u32 owner (the pid of the
 * producer writing it), u32 spare; then the payload, padded to 16. */
#ifndef MPROC_QUEUE_RING_H
#define MPROC_QUEUE_RING_H

#include <stddef.h>
#include <stdint.h>

#define MP__RING_RECORD_HEAD 16
#define MP__RING_ALIGN 16
#define MP__RING_READY_MARK 0x4D524543u /* "CERM": a whole message */
#define MP__RING_BUSY_MARK 0x59535542u  /* "BUSY": room reserved, its producer still copying */
#define MP__RING_JUMP_MARK 0x504D554Au  /* "JUMP": the next record is in the other ring */
#define MP__RING_SKIP_MARK 0x50494B53u  /* "SKIP": nothing here to the ring's end; go on at 0 */

enum { MP__RING_WARM = 0, MP__RING_STORE = 1 };
#define MP__RING_REWIND_AT ((uint64_t)1 << 20)
/* Where a warm ring of size bytes may wrap early: MP__RING_REWIND_AT, or a
 * quarter of a smaller ring (so small test rings do it too). */
static inline uint64_t mp__ring_rewind_at(uint64_t size) {
  return size / 4 < MP__RING_REWIND_AT ? size / 4 : MP__RING_REWIND_AT;
}

/* The bytes a record of a len-byte payload takes in a ring. */
static inline uint64_t mp__ring_record_size(uint64_t len) {
  return MP__RING_RECORD_HEAD + ((len + (MP__RING_ALIGN - 1)) & ~(uint64_t)(MP__RING_ALIGN - 1));
}

/* What a message of len bytes is counted as against a queue's store: its
 * record and the JUMP record that may follow it (include/mproc.h promises
 * this figure). */
static inline uint64_t mp__ring_message_cost(uint64_t len) { return mp__ring_record_size(len) + MP__RING_RECORD_HEAD; }

/* Is at a place a record head can be, in a ring of size bytes? */
static inline int mp__ring_offset_ok(uint64_t size, uint64_t at) {
  return at < size && (at & (MP__RING_ALIGN - 1)) == 0;
}

/* Bytes in use from head to tail (both offsets already checked). */
static inline uint64_t mp__ring_used(uint64_t size, uint64_t head, uint64_t tail) {
  return tail >= head ? tail - head : size - head + tail;
}

/* Can a record of rec bytes go at tail? There must stay room for one JUMP
 * record after it, and the ring must never fill up entirely (head == tail
 * means empty). */
static inline int mp__ring_fits(uint64_t size, uint64_t head, uint64_t tail, uint64_t rec) {
  uint64_t used = mp__ring_used(size, head, tail);
  return rec < size && size - rec > used + MP__RING_RECORD_HEAD;
}

/* The offset n bytes after at (n at most size). */
static inline uint64_t mp__ring_advance(uint64_t size, uint64_t at, uint64_t n) {
  return n >= size - at ? n - (size - at) : at + n;
}

typedef struct mp__ring_head {
  uint32_t len, mark, owner;
} mp__ring_head;

/* Reads the record head at at: 1 if at is a record's place and what is
 * there is a JUMP or a message (ready or busy) that fits the ring; else 0
 * (the memory was scribbled on). The mark is read once, atomically. */
int mp__ring_read_head(const uint8_t *ring, uint64_t size, uint64_t at, mp__ring_head *h);

/* Writes a record head (mark last, atomically). */
void mp__ring_write_head(uint8_t *ring, uint64_t size, uint64_t at, uint32_t len, uint32_t mark, uint32_t owner);

/* Sets the mark of the record at at (atomically: a consumer may look). */
void mp__ring_set_mark(uint8_t *ring, uint64_t at, uint32_t mark);
/* The mark of the record at at, read atomically (at already checked). */
uint32_t mp__ring_mark(const uint8_t *ring, uint64_t at);

/* What a producer sees of the two rings: the ring it writes (pring) and
 * the one consumers read (cring), and each ring's producer (tail) and
 * consumer (head) offsets. */
typedef struct mp__ring_view {
  int pring, cring;
  uint64_t tail[2], head[2];
} mp__ring_view;

/* 1 if every offset of v is a record's place in its ring. */
int mp__ring_view_ok(const uint64_t size[2], const mp__ring_view *v);

/* Where a record of rec bytes goes: the warm ring if it has room, else the
 * store ring; 1 with *ring, or 0 if neither has room. Moving to the other
 * ring than v->pring means leaving a JUMP record at v->tail[v->pring],
 * for which that ring always has room (mp__ring_fits keeps it). *skip:
 * the record goes at the warm ring's start after a SKIP record at
 * v->tail[WARM] (the early wrap above). */
int mp__ring_place(const uint64_t size[2], const mp__ring_view *v, uint64_t rec, int *ring, int *skip);

/* Copies len payload bytes of the record at at out to dst, or src in,
 * going on at the ring's start where the ring ends. The caller has checked
 * the record fits the ring (mp__ring_read_head, or placed it itself). */
void mp__ring_copy_out(const uint8_t *ring, uint64_t size, uint64_t at, void *dst, uint64_t len);
void mp__ring_copy_in(uint8_t *ring, uint64_t size, uint64_t at, const void *src, uint64_t len);

#endif
