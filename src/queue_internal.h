/* Queue: many producers, many consumers, across processes.
 *
 * One shared-memory segment holds a header and two byte rings of records
 * (src/queue_ring.h): a warm ring a queue that keeps up cycles through (it
 * wraps early to stay in cache-hot pages), and the store ring behind it
 * that takes a backlog, up to the whole store, and starts again at 0 once
 * it is empty. A
 * put copies its message straight into a ring and a get copies it straight
 * out: one copy each way, no pipe, no feeder thread, and a producer can put
 * and exit before anyone reads (Python's join-before-drain deadlock cannot
 * happen).
 *
 * A put holds the put lock only to reserve its room: it writes the record's
 * head, marked BUSY with its pid, publishes the new tail, lets go, and only
 * then copies, and marks the record READY. So no put, close or timeout
 * waits for another producer's copy, however large. Records are read in
 * the order their room was reserved; a consumer that finds the next one
 * still BUSY waits for it, and skips it if its producer has died (so a
 * producer killed mid-copy loses its message and nothing else).
 *
 * Consumers take the get lock among themselves and copy under it. The two
 * sides meet in two words on their own cache lines: `tail` (reservations
 * made, the producers' ring and offset), written only by producers, and
 * `head` (messages taken or skipped, the consumers' ring and offset),
 * written only by consumers, each in one atomic store. So the number of
 * messages is always tail's count less head's; a consumer killed mid-copy
 * has taken nothing (the next one reads the same message again); and the
 * robust locks' MP_EOWNERDEAD just means "carry on".
 *
 * Sleepers wait on wait points (futex words on Linux, semaphores on
 * Windows) with the announce-then-look protocol of platform.h, so a put or
 * get that finds nobody asleep costs no system call. A woken getter that
 * cannot take the message (too big for its buffer) passes the wake on;
 * a get that frees room wakes every sleeping putter, since which of them
 * the room suits depends on their sizes. */
#ifndef MPROC_QUEUE_INTERNAL_H
#define MPROC_QUEUE_INTERNAL_H

#include <stddef.h>

#include "core.h"
#include "deadline.h"
#include "queue.h"
#include "queue_ring.h"

#define QUEUE_MAGIC 0x5155504Du /* "MPQU" */
#define QUEUE_VERSION 3
#define HEADER_BYTES 4096
#define SPIN_ROUNDS 4000
#define COMMIT_STEP ((uint64_t)1 << 20)
/* Store-ring pages given back per put once that ring is empty: bounded,
 * so the put lock stays a short one. */
#define GIVE_BACK_STEP ((uint64_t)16 << 20)
/* Store-ring pages kept in memory when it starts again at 0 (or a quarter
 * of a smaller store, so small test rings give pages back too). */
#define STORE_RETAIN ((uint64_t)64 << 20)
/* How long a try for a lock goes on when the call's time is already up
 * (timeout 0): a few of the scheduler's time slices, so a holder that was
 * merely descheduled inside its few instructions (a loaded machine) lets
 * go in time, and only one stopped there makes the call time out. The
 * wait sleeps; it does not spin. */
#define LOCK_TRY_SECONDS 0.02
/* A consumer waiting for a record still being copied looks this often
 * whether its producer has died (nobody would wake it then). */
#define OWNER_SLICE 0.05
/* How far a producer goes between looks at whether the warm ring can wrap
 * early (each look reads the consumers' cache line). */
#define REWIND_LOOK_STEP ((uint64_t)64 << 10)
#define LINE 64
#define WARM MP__RING_WARM
#define STORE MP__RING_STORE

/* A position word: a count (of reservations, or of records taken) in the
 * high half, then the ring, then the offset in it / 16 (32 GiB rings). */
#define POS_WORD(count, ring, offset) \
  (((uint64_t)(uint32_t)(count) << 32) | ((uint64_t)(ring) << 31) | (uint64_t)((offset) >> 4))
#define POS_COUNT(word) ((uint32_t)((word) >> 32))
#define POS_RING(word) ((int)(((word) >> 31) & 1u))
#define POS_OFFSET(word) (((word) & 0x7FFFFFFFu) << 4)

typedef struct queue_shared {
  uint32_t magic, version;
  uint64_t size[2];             /* ring bytes: warm, store */
  uint64_t maxsize;             /* messages; 0: unbounded */
  uint32_t joinable;
  volatile uint32_t closed;     /* set by close, under the put lock if it comes at once */
  volatile uint64_t high[2];    /* ring bytes [0, high) were ever in use */
  uint8_t pad0[LINE - 56];
  /* Written by puts, on a line of their own. */
  volatile uint64_t unfinished; /* joinable: puts not yet task_done */
  volatile uint64_t store_epoch; /* the store ring's generation: see park() */
  volatile uint64_t discard_at; /* store pages from here on may go back to the OS */
  uint8_t pad_put[LINE - 24];
  volatile uint64_t tail;       /* POS_WORD(reservations, ring, offset), producers' */
  volatile uint64_t tail_park[2]; /* producers' place in the ring they are not in (park()) */
  uint8_t pad1[LINE - 24];
  volatile uint64_t head;       /* POS_WORD(taken, ring, offset), consumers' */
  volatile uint64_t head_park[2]; /* consumers' place in the ring they are not in (park()) */
  uint8_t pad2[LINE - 24];
  uint8_t put_lock[MP__SYNC_SLOT];
  uint8_t get_lock[MP__SYNC_SLOT];
  uint8_t not_empty[MP__SYNC_SLOT];
  uint8_t not_full[MP__SYNC_SLOT];
  uint8_t all_done[MP__SYNC_SLOT];
} queue_shared;

typedef char header_fits[sizeof(queue_shared) <= HEADER_BYTES ? 1 : -1];
typedef char lines_apart[offsetof(queue_shared, tail) % LINE == 0 && offsetof(queue_shared, head) % LINE == 0 &&
                                 offsetof(queue_shared, unfinished) % LINE == 0
                             ? 1
                             : -1];

enum { H_SHM, H_PUT_LOCK, H_GET_LOCK, H_NOT_EMPTY, H_NOT_FULL, H_ALL_DONE, H_COUNT };

struct mp_queue {
  mp_object base;
  mp__handle h[H_COUNT];
  size_t map_size;
  queue_shared *sh;
  uint8_t *ring[2];
  /* The rings' sizes as this process mapped them: what bounds every
   * access, since the shared header's copy is anyone's to scribble on. */
  uint64_t size[2];
  /* Ring bytes [0, usable) are committed in this process; producers and
   * consumers of one process may both raise it, hence atomic. */
  volatile uint64_t usable[2];
  /* The other side's word as this process's producers (under the put
   * lock) and consumers (under the get lock) last read it. Stale only
   * ever means less room, or fewer messages, than there are, so it is
   * read again only when it says there is none: a busy queue does not
   * pull the other side's cache line over for every message. A stale
   * head is that only while every byte reserved since was reserved by
   * this process against it (else it may be a lap behind): so it counts
   * only while tail is still what this process last wrote there. */
  uint64_t head_seen, tail_seen, tail_written;
  /* Producers: the warm-ring offset past which to look again whether the
   * consumers have freed its start (an early wrap; src/queue_ring.h). */
  uint64_t rewind_look;
  /* mp_wait and mp_queue_fileno's watcher thread (src/queue_watch.c),
   * started the first time either asks; watch_lock guards starting it. */
  mp__mutex *watch_lock;
  struct mp__queue_watch *watch;
};

static inline uint32_t queued(const queue_shared *s) {
  return POS_COUNT(mp__atomic_load64((volatile uint64_t *)&s->tail)) -
         POS_COUNT(mp__atomic_load64((volatile uint64_t *)&s->head));
}

static inline int is_closed(queue_shared *s) { return (int)mp__atomic_load32(&s->closed); }

/* Shared by put, get and the rest (queue.c). */
/* Makes ring bytes [0, end) usable here: Windows commits the section's
 * pages as the rings grow into them (a no-op on POSIX). */
int mp__queue_ensure_usable(mp_queue *q, int ring, uint64_t end);
/* Producers: marks [at, at + n) of a ring in use, for every process. */
int mp__queue_use_bytes(mp_queue *q, int ring, uint64_t at, uint64_t n);
/* Takes a lock (slot, handle h) by the call's deadline; a dead holder
 * left nothing half done, so MP_EOWNERDEAD reads MP_OK. */
int mp__queue_take_lock(mp_queue *q, void *slot, int h, double deadline);
int mp__queue_damaged(const char *api);
/* A side's place in the ring it is not in, and reading it back. */
void mp__queue_park(queue_shared *s, volatile uint64_t *slot, uint64_t offset);
uint64_t mp__queue_parked(queue_shared *s, int ring, uint64_t word);
/* After a close: 1 once no put holds the put lock (tried, not waited
 * for), so none can still reserve; 0 while one does. */
int mp__queue_puts_settled(mp_queue *q);
/* queue_watch.c */
typedef struct mp__queue_watch mp__queue_watch;
void mp__queue_watch_stop(mp_queue *q);      /* at release: ends the watcher */
/* What producers and consumers have reached, from the two words. */
int mp__queue_look(mp_queue *q, uint64_t tw, uint64_t hw, mp__ring_view *v);

#endif
