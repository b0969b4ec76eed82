/* What a pool and its workers say to each other, over each worker's two
 * pipes. A TASK frame (id = chunk id) carries a chunk of items:
 *   str task, u64 first index, u32 n, u32 packed,
 *   packed: u64 item size, then n * size bytes;
 *   else:   n * (u64 len, bytes).
 * A CHUNK frame (same id) carries their outcomes in order:
 *   u32 n, u32 packed,
 *   packed (every item succeeded with results of one size): u64 size, n * size bytes;
 *   else: n * (i32 status, i32 task code, u32 message length or ~0, message, u64 len, bytes). */
#ifndef MPROC_POOL_WIRE_H
#define MPROC_POOL_WIRE_H

#include "core.h"

/* The largest TASK or CHUNK payload a reader accepts. */
#define MP__POOL_FRAME_MAX (MP_MAX_MESSAGE + ((size_t)1 << 20))
/* The most items one chunk carries. */
#define MP__MAX_CHUNK_ITEMS ((uint32_t)1 << 20)

typedef struct mp__item {
  const uint8_t *data;
  size_t len;
} mp__item;

/* A decoded TASK frame; items point into the payload. */
typedef struct mp__task_chunk {
  char task[MP__TASK_NAME_MAX + 1];
  uint64_t first;
  uint32_t n;
  mp__item *items;              /* malloc'd; NULL when packed */
  const uint8_t *packed;        /* packed: n items of size bytes back to back */
  size_t size;
} mp__task_chunk;

/* Item i of a decoded chunk, without an array for packed ones (a map of
 * millions of small items would write one for nothing). */
static inline const uint8_t *mp__task_chunk_item(const mp__task_chunk *c, uint32_t i, size_t *len) {
  if (!c->items) {
    *len = c->size;
    return c->packed + (size_t)i * c->size;
  }
  *len = c->items[i].len;
  return c->items[i].data;
}

void mp__task_chunk_encode_head(mp__buf *b, const char *task, uint64_t first, uint32_t n, int packed,
                                size_t item_size);
int mp__task_chunk_decode(const uint8_t *p, size_t len, mp__task_chunk *out); /* MP_EPROTO */
void mp__task_chunk_release(mp__task_chunk *c);

/* One outcome inside a CHUNK frame. */
typedef struct mp__outcome {
  int status;
  int task_code;
  const char *message;          /* NUL-terminated copy the decoder made, or NULL */
  const uint8_t *data;
  size_t len;
} mp__outcome;

/* Worker side: collects outcomes, then gives the payload. */
typedef struct mp__chunk_builder {
  mp__buf full;                 /* every outcome, in the long form */
  mp__buf packed;               /* just the bytes, while all are OK and equal */
  uint32_t n;
  int can_pack;
  size_t size;
} mp__chunk_builder;
void mp__chunk_builder_reset(mp__chunk_builder *b);
void mp__chunk_builder_add(mp__chunk_builder *b, int status, int code, const char *message, const void *data,
                           size_t len);
/* The common case inline: an item that succeeded. */
static inline void mp__chunk_builder_add_ok(mp__chunk_builder *b, const void *data, size_t len) {
  if (b->can_pack && (b->n == 0 || len == b->size)) {
    b->size = len;
    mp__buf_put(&b->packed, data, len);
    b->n++;
  } else {
    mp__chunk_builder_add(b, MP_OK, 0, NULL, data, len);
  }
}
/* Writes the CHUNK frame with id on h. */
int mp__chunk_builder_send(mp__chunk_builder *b, mp__handle h, uint64_t id);
void mp__chunk_builder_release(mp__chunk_builder *b);

/* Parent side, the fast path: 1 if the payload is the short form (every
 * item OK, each *size bytes, back to back from *data), else 0 (then use
 * mp__chunk_decode, which also judges whether it is malformed). */
int mp__chunk_packed(const uint8_t *p, size_t len, uint32_t expect_n, const uint8_t **data, size_t *size);
/* Parent side: calls each(ud, i, outcome) for i in 0..n-1. MP_EPROTO if
 * malformed (nothing after the bad item is delivered). */
int mp__chunk_decode(const uint8_t *p, size_t len, uint32_t expect_n,
                     void (*each)(void *ud, uint32_t i, const mp__outcome *o), void *ud);

#endif
