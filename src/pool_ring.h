/* The task ring of a pool's arena (see pool_arena.h): the pool's writer,
 * which alone places, publishes and reclaims records, and the workers'
 * lock-free take. */
#ifndef MPROC_POOL_RING_H
#define MPROC_POOL_RING_H

#include "pool_arena.h"

/* Past this offset the writer goes back to the start when it can, so a
 * pool that keeps up reuses the same few warm pages (and holds no more
 * memory than this); a backlog grows into the sparse rest. */
#ifndef MP__POOL_RING_WARM
#define MP__POOL_RING_WARM ((uint64_t)4 << 20)
#endif

/* ------------------------------------------------------------ the pool */
/* Private to the pool (its lock held): where records are. Records live in
 * [low, tail) when not wrapped; in [low, wrap_at) and [0, tail) when
 * wrapped. `live` counts records not yet reclaimed. The WRAP record at
 * wrap_at stays untouched until the takers have passed it (wrap_live):
 * a taker may reach it long after the records around it are gone. */
typedef struct mp__tasks_writer {
  uint64_t capacity;      /* usable bytes (the ring less its end reserve) */
  uint64_t warm;          /* MP__POOL_RING_WARM, or less in a small ring */
  uint64_t tail, low, wrap_at, high, committed;
  uint32_t count;         /* records published, as MP__POS counts them */
  uint32_t wrap_count;    /* records published before the WRAP at wrap_at */
  uint64_t live;
  int wrapped, wrap_live;
} mp__tasks_writer;

void mp__tasks_writer_init(mp__tasks_writer *w, const mp__arena *a);
/* The payload size of a chunk: n items of item_size bytes, or the slices. */
uint64_t mp__task_payload_packed(uint32_t n, uint64_t item_size);
uint64_t mp__task_payload_sliced(const mp_slice *items, uint32_t n);
/* Finds room for a payload of len bytes: MP_OK and *at (the record's
 * offset), MP_EFULL when the ring has no room now (records still in use),
 * MP_ETOOBIG when it never will. Commits the pages where needed. */
int mp__tasks_place(mp__tasks_writer *w, mp__arena *a, uint64_t len, uint64_t *at);
/* Writes the payload head at the record placed at `at`; returns where the
 * items go. */
uint8_t *mp__tasks_payload(mp__arena *a, uint64_t at);
void mp__task_write_head(uint8_t *payload, const char *task, uint64_t first, uint32_t n, uint32_t item_size);
/* Writes slice items after the head; returns the bytes written. */
uint64_t mp__task_write_slices(uint8_t *payload, const mp_slice *items, uint32_t n);
/* Publishes the record at `at` (its payload written): header (flags:
 * MP__TASK_*), then tail. */
void mp__tasks_publish(mp__tasks_writer *w, mp__arena *a, uint64_t at, uint64_t seq, uint64_t len, uint32_t flags);
/* The oldest live record was reclaimed; `next` is where the next one
 * starts (its offset), or the writer's tail if none is left. Gives back
 * the far pages once nothing lives past the warm window. */
void mp__tasks_reclaim(mp__tasks_writer *w, mp__arena *a, uint64_t next);
/* Records published and not yet passed by the takers. */
uint32_t mp__tasks_queued(const mp__arena *a);

/* -------------------------------------------------------- a worker */
/* Takes the next queued record for slot: 1 and its offset in *at; 0 when
 * the ring is empty; MP_EPROTO if the ring holds garbage. */
int mp__tasks_take(mp__arena *a, int slot, uint64_t *at, uint64_t *committed);
/* A record's header and payload, bounds-checked against the ring. */
int mp__tasks_record(const mp__arena *a, uint64_t at, mp__task_record **rec, const uint8_t **payload);

/* A worker's walk over the items of a record's payload. The head is a
 * copy, taken and checked once: the pool may reclaim the record and write
 * another chunk over it as soon as the last item's outcome is published,
 * and the walk still asks whether there is a next item after that. */
typedef struct mp__task_items {
  mp__task_head head;
  const uint8_t *at, *end;
  uint32_t next;
} mp__task_items;
/* MP_OK, or MP_EPROTO for a payload that is not a chunk. */
int mp__task_items_open(const uint8_t *payload, uint64_t len, mp__task_items *it);
/* 1 with the next item's bytes, 0 after the last, MP_EPROTO if malformed. */
int mp__task_items_next(mp__task_items *it, const uint8_t **data, size_t *len);

#endif
