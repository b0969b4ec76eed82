/* The pool's arena: the one shared-memory segment a pool and its workers
 * meet in. Workers take their work from it and write their outcomes to
 * it; the pool never writes to a worker's pipe, so no thread of the pool
 * can block on a worker (docs/architecture.md, "Pool", draws the path).
 *
 * Layout (offsets in the header, so a worker never assumes them):
 *
 *   header (4 KiB)    positions of the task ring, the bells, flags
 *   slots             one per worker: what it takes, holds and runs, and
 *                     the two counters of its result ring
 *   result rings      one per worker, MP__POOL_RESULT_BYTES each
 *   task ring         MP__POOL_RING_BYTES of address space, memory only
 *                     where records are
 *
 * Task ring. The pool alone writes records (one per chunk of work) and
 * publishes each with a release store of `tail`; a record stays where it
 * is, untouched, until the pool reclaims it, which it does only once
 * nobody can read it any more. So a worker runs its items in place, and
 * reads the record's `cancel` word between items. Workers take records
 * in order without a lock: whoever turns a record's `state` from QUEUED
 * to TAKEN(its slot) with a compare-and-swap owns the chunk; anyone may
 * then move `head` past it (a compare-and-swap that only ever moves it
 * forward), so a taker that dies at any instant leaves the ring usable
 * and its chunk's owner written in the record.
 *
 * Result ring of a slot: its worker is the only writer, the pool the only
 * reader. `res_tail` and `res_head` count bytes ever written and read;
 * records never straddle the ring's end (a PAD record fills it).
 * `res_pub` counts publications: a run that takes one more item inside
 * the 8-byte word its last item began (two 4-byte results) moves no
 * byte of the tail, yet is news the pool must not miss.
 *
 * Everything here is written by other processes: readers bound every
 * offset and length by their own copy of the sizes, never the header's. */
#ifndef MPROC_POOL_ARENA_H
#define MPROC_POOL_ARENA_H

#include "core.h"

#define MP__ARENA_MAGIC 0x4C4F4F50u /* "POOL" */
#define MP__ARENA_VERSION 1
#define MP__ARENA_LINE 64
#define MP__ARENA_HEADER_BYTES 4096

/* The task ring's address space. It must hold the largest chunk (one
 * argument of MP_MAX_MESSAGE), and reserves what a queue's ring does
 * unless a build says otherwise (tests use a small ring to reach its full
 * and wrapping cases at once). */
#ifndef MP__POOL_RING_BYTES
#define MP__POOL_RING_BYTES MP__QUEUE_RING_BYTES
#endif
/* Each worker's result ring: a power of two. An outcome over half of it
 * travels in pieces. */
#ifndef MP__POOL_RESULT_BYTES
#define MP__POOL_RESULT_BYTES ((uint64_t)1 << 20)
#endif

/* ------------------------------------------------------------ task ring */
enum { MP__REC_TASK = 0x4B534154u /* "TASK" */, MP__REC_WRAP = 0x50415257u /* "WRAP": next at 0 */ };
/* A record's state word. */
enum { MP__TAKE_QUEUED = 0, MP__TAKE_CANCELLED = 1, MP__TAKE_BY = 2 /* + the taker's slot */ };
/* The ring keeps its last bytes free, so a WRAP record always fits. */
#define MP__RING_END_RESERVE 64
#define MP__RECORD_ALIGN 16

typedef struct mp__task_record {
  uint32_t len;              /* payload bytes after this header */
  uint32_t mark;             /* MP__REC_TASK or MP__REC_WRAP */
  uint64_t seq;              /* the chunk's number, from 1 */
  volatile uint64_t state;   /* MP__TAKE_STATE(seq, MP__TAKE_*): the seq in it makes a
                                compare-and-swap fail on a record since reused */
  volatile uint32_t cancel;  /* 1: the pool wants no further item of it run */
  uint32_t flags;            /* MP__TASK_RING_EACH */
} mp__task_record;
/* The pool wants to hear of each item's outcome as it comes (an imap, a
 * map that reports progress): the worker rings after every item. Without
 * it a worker rings once, at the chunk's end: a chunk of long items
 * would otherwise cost the pool a wake-up per item, taken from the
 * workers' cores. */
#define MP__TASK_RING_EACH 1u
/* Its items are held to a time limit (their call's, or the pool's): the
 * worker writes each item's start into its slot (which a pool without a
 * task_timeout otherwise spares it: the header's `timed`). */
#define MP__TASK_TIMED 2u
#define MP__TAKE_STATE(seq, what) (((uint64_t)(uint32_t)(seq) << 32) | (uint32_t)(what))
#define MP__TAKE_WHAT(state) ((uint32_t)(state))

/* The most items one chunk carries. */
#define MP__CHUNK_MAX_ITEMS ((uint32_t)1 << 20)

/* The payload: the task, the items' place in their job, the items. */
#define MP__ITEMS_SLICED UINT32_MAX
typedef struct mp__task_head {
  char task[MP__TASK_NAME_MAX + 1]; /* NUL-terminated */
  uint64_t first;            /* the first item's index in its job */
  uint32_t n;                /* items, at least 1 */
  uint32_t item_size;        /* every item has this many bytes, back to back;
                                MP__ITEMS_SLICED: each is u64 len, u64 0, the
                                bytes, padding to 16 */
} mp__task_head;

/* Bytes a record takes in the ring (header, payload, padding). */
static inline uint64_t mp__record_span(uint64_t payload) {
  return (sizeof(mp__task_record) + payload + MP__RECORD_ALIGN - 1) & ~(uint64_t)(MP__RECORD_ALIGN - 1);
}
/* Payload bytes of a chunk of n items. */
static inline uint64_t mp__slice_span(uint64_t len) { return 16 + ((len + 15) & ~(uint64_t)15); }

/* A position word: records passed in the high half, the ring offset / 16
 * in the low half (64 GiB of ring). */
#define MP__POS(count, offset) (((uint64_t)(uint32_t)(count) << 32) | (uint64_t)((offset) >> 4))
#define MP__POS_COUNT(w) ((uint32_t)((w) >> 32))
#define MP__POS_OFFSET(w) (((w) & 0xFFFFFFFFu) << 4)

/* ---------------------------------------------------------- result ring */
enum {
  MP__OUT_PAD = 1,         /* nothing: the reader goes on at the ring's start */
  MP__OUT_CHUNK = 2,       /* u64 seq: the outcomes after it are that chunk's */
  MP__OUT_OK = 3,          /* u32 index, u32 len, the bytes */
  MP__OUT_FAIL = 4,        /* u32 index, i32 status, i32 code, u32 text length, the text */
  MP__OUT_BIG = 5,         /* u32 index, u32 0, u64 total: an OK result in pieces follows */
  MP__OUT_MORE = 6,        /* a piece of the result MP__OUT_BIG began */
  MP__OUT_INIT_FAILED = 7, /* i32 code, u32 text length, the text: the initializer failed */
  MP__OUT_RUN = 8          /* u32 first index, u32 size, u32 count, u32 0, then count
                              results of size bytes back to back: OK outcomes of
                              consecutive items. While it is the ring's last record
                              it grows in place, an item at a time (count, then len,
                              then the ring's tail: each item is published as it
                              ends); once a record follows it, it is whole. */
};
#define MP__OUT_RUN_HEAD 24
typedef struct mp__out_head {
  uint32_t len;            /* the whole record, a multiple of 8 */
  uint16_t type;           /* MP__OUT_* */
  uint16_t reserved;
} mp__out_head;
#define MP__OUT_ALIGN 8
/* The longest text an outcome carries (mp_call_fail cuts at 1023). */
#define MP__OUT_TEXT_MAX 1023

/* ---------------------------------------------------------------- slots */
enum {
  MP__SLOT_STARTING = 0,   /* the worker has not come up yet */
  MP__SLOT_INIT = 1,       /* it runs the initializer */
  MP__SLOT_IDLE = 2,       /* it holds nothing */
  MP__SLOT_TAKING = 3,     /* it tries to take the record at `record` */
  MP__SLOT_HOLDING = 4,    /* it holds chunk `chunk`, between items */
  MP__SLOT_RUNNING = 5     /* it runs item `item` of chunk `chunk` */
};

#define MP__SLOT_NO_ITEM UINT32_MAX /* `item` of a chunk none of whose items started */

typedef struct mp__arena_slot {
  volatile uint32_t state;       /* MP__SLOT_* */
  volatile uint32_t item;        /* index in its chunk of the item it runs, or ran
                                    last (HOLDING); MP__SLOT_NO_ITEM before the first */
  volatile uint64_t chunk;       /* the chunk's seq; 0: none */
  volatile uint64_t record;      /* that chunk's record, as a ring offset */
  volatile uint64_t started_ns;  /* when the running item started (mp__now_coarse, ns),
                                    kept only if the pool has a task_timeout or
                                    the chunk's record says MP__TASK_TIMED */
  volatile uint32_t runs;        /* items started so far: names one run */
  uint8_t pad0[MP__ARENA_LINE - 36];
  volatile uint64_t res_tail;    /* result bytes published (the worker's) */
  volatile uint64_t res_pub;     /* publications so far, each after its bytes (the worker's) */
  uint8_t pad1[MP__ARENA_LINE - 16];
  volatile uint64_t res_head;    /* result bytes consumed (the pool's) */
  volatile uint64_t res_seen;    /* res_pub when the pool last read the ring (its own
                                    look: a run still growing keeps res_head behind) */
  volatile uint32_t doomed;      /* the pool's: the low half of the seq of a chunk it
                                    cancelled while this worker held it (its kill may
                                    be on the way: the worker takes no other work) */
  uint8_t pad2[MP__ARENA_LINE - 20];
  uint8_t space_bell[MP__SYNC_SLOT]; /* the worker waits here for room */
} mp__arena_slot;

typedef struct mp__arena_header {
  uint32_t magic, version;
  uint32_t nslots, reserved0;
  uint64_t map_size;
  uint64_t slots_at, results_at, ring_at;
  uint64_t result_bytes, ring_bytes;
  volatile uint32_t closing;     /* no record will come any more: leave once the ring is empty */
  volatile uint32_t collectors;  /* pool threads reading the result rings now: nobody to ring */
  uint32_t timed;                /* the pool has a task_timeout: say when each item starts */
  uint32_t reserved1;
  uint8_t pad0[2 * MP__ARENA_LINE - 80];
  volatile uint64_t tail;        /* MP__POS: records published (the pool's) */
  uint8_t pad1[MP__ARENA_LINE - 8];
  volatile uint64_t head;        /* MP__POS: records taken or passed over (the workers') */
  uint8_t pad2[MP__ARENA_LINE - 8];
  volatile uint32_t spinners;    /* workers looking for work without sleeping */
  uint8_t pad3[MP__ARENA_LINE - 4];
  uint8_t work_bell[MP__SYNC_SLOT];   /* workers wait here for records */
  uint8_t parent_bell[MP__SYNC_SLOT]; /* the pool's collector waits here for outcomes */
} mp__arena_header;

/* One process's view of an arena. The pool holds every handle; a worker
 * gets the segment, the two shared bells and its own slot's bell. */
typedef struct mp__arena {
  mp__arena_header *h;
  uint8_t *base;
  size_t map_size;
  uint32_t nslots;
  uint64_t result_bytes, ring_bytes; /* this process's own copies */
  mp__arena_slot *slots;
  uint8_t *results, *ring;
  mp__handle shm, work_bell, parent_bell;
  mp__handle *space_bells;           /* the pool: nslots; a worker: its own at [0] */
  int own_slot;                      /* a worker's slot; -1 in the pool */
} mp__arena;

/* The pool: a new arena for nslots workers, every part committed but the
 * task ring. */
int mp__arena_create(mp__arena *a, uint32_t nslots);
/* The handles and description a worker of slot needs (at most 4 handles). */
int mp__arena_export(const mp__arena *a, int slot, mp__handle *handles, size_t *nhandles, mp__buf *blob);
/* A worker: maps the arena it was handed; MP_EPROTO if what it finds is
 * not one. */
int mp__arena_import(mp__arena *a, const mp__handle *handles, size_t nhandles, const uint8_t *blob,
                     size_t bloblen);
void mp__arena_release(mp__arena *a);
/* Zeroes a slot and empties its result ring, for a new worker. */
void mp__arena_reset_slot(mp__arena *a, int slot);

static inline uint8_t *mp__arena_result_ring(const mp__arena *a, int slot) {
  return a->results + (size_t)slot * (size_t)a->result_bytes;
}
static inline uint64_t mp__arena_now_ns(void) { return (uint64_t)(mp__now_coarse() * 1e9); }

#endif
