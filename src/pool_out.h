/* A worker's result ring (see pool_arena.h): the worker writes one record
 * per outcome, each published at once, so every item that finished keeps
 * its outcome whatever happens to the worker next; the pool reads them,
 * trusting nothing in them. */
#ifndef MPROC_POOL_OUT_H
#define MPROC_POOL_OUT_H

#include "pool_arena.h"

/* ------------------------------------------------------------ a worker */
typedef struct mp__out_writer {
  mp__arena *a;
  mp__arena_slot *slot;
  uint8_t *ring;
  uint64_t cap;
  uint64_t tail;        /* bytes written and published */
  uint64_t head_seen;   /* the pool's res_head when last read */
  uint8_t *run;         /* the open MP__OUT_RUN record (the last one), or NULL */
  uint64_t run_start;   /* its position, as tail counts bytes */
  uint32_t run_next;    /* the index its next item would have */
  uint32_t run_size, run_count;
} mp__out_writer;

void mp__out_writer_init(mp__out_writer *w, mp__arena *a);
/* Each publishes one outcome (waiting for room while the pool drains the
 * ring, however long: a worker whose pool is gone is gone too). */
void mp__out_chunk(mp__out_writer *w, uint64_t seq);
/* An OK outcome: appended to the open run when it is the next item and
 * of the same size, else a record of its own. */
void mp__out_ok(mp__out_writer *w, uint32_t index, const void *data, size_t len);
void mp__out_fail(mp__out_writer *w, uint32_t index, int status, int code, const char *text);
void mp__out_init_failed(mp__out_writer *w, int code, const char *text);
/* Tells the pool outcomes are waiting, if nobody is reading the rings and
 * its collector sleeps (one read of two words otherwise). The fence keeps
 * the look at `collectors` after the publications before it: otherwise a
 * caller that stops collecting just then and a worker that sees it still
 * collecting would each leave the outcome to the other. */
void mp__out_ring_sleeper(mp__out_writer *w);
static inline void mp__out_ring_pool(mp__out_writer *w) {
  mp__atomic_fence();
  if (!mp__atomic_load32(&w->a->h->collectors)) mp__out_ring_sleeper(w); /* else someone reads them */
}

/* ------------------------------------------------------------ the pool */
/* One outcome as the pool reads it. Pointers are valid during the call
 * they are handed to, no longer. */
typedef struct mp__out_event {
  int type;             /* MP__OUT_CHUNK, MP__OUT_OK, MP__OUT_FAIL, MP__OUT_INIT_FAILED,
                           MP__OUT_RUN (count OK outcomes of len bytes each, from
                           item index on, back to back at data) */
  uint64_t seq;         /* CHUNK */
  uint32_t index;       /* OK, FAIL: the item's index in its chunk */
  int status, code;     /* FAIL, INIT_FAILED */
  char text[MP__OUT_TEXT_MAX + 1]; /* FAIL, INIT_FAILED: NUL-terminated */
  const uint8_t *data;  /* OK, RUN */
  size_t len;
  uint32_t count;       /* RUN */
  mp__buf *big;         /* OK that came in pieces: its buffer, which the
                           callee may take over (and leave empty) */
} mp__out_event;

typedef struct mp__out_reader {
  uint64_t head;        /* bytes consumed (an open run's start while it grows) */
  uint32_t run_done;    /* items of the run at head already handed out */
  int in_big;           /* an MP__OUT_BIG result is arriving */
  uint32_t big_index;
  uint64_t big_total;
  mp__buf big;
} mp__out_reader;

void mp__out_reader_init(mp__out_reader *r);
void mp__out_reader_release(mp__out_reader *r);
/* Reads the records between r->head and tail in a ring of cap bytes (a
 * power of two),
 * calling each(ud, event) for every whole outcome; each returns 0 to go
 * on, 1 to stop after this record. MP_OK when it stopped, read all, or
 * reached a run that may still grow (r->head stays at it, r->run_done
 * says how much of it was handed out); MP_EPROTO for a record that is not
 * one (r->head stays before it). */
int mp__out_read(mp__out_reader *r, const uint8_t *ring, uint64_t cap, uint64_t tail,
                 int (*each)(void *ud, mp__out_event *e), void *ud);

#endif
