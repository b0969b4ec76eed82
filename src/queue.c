/* Queue: many producers, many consumers, across processes.
 *
 * One shared-memory segment holds a header and a byte ring of records
 * (u32 length, u32 marker, payload, padding to 8). A put copies its message
 * straight into the ring and a get copies it straight out: one copy each
 * way, no pipe, no feeder thread. Because the data lives in the shared
 * segment and not in the producer, a producer can put and exit before
 * anyone reads (Python's join-before-drain deadlock cannot happen).
 *
 * Producers and consumers do not share a lock. Producers take the put
 * lock among themselves, consumers the get lock among themselves, and the
 * two sides meet only in two words: `tail` (where the next record goes,
 * and how many puts are done) written by producers, and `head` (where the
 * next record to read is, and how many gets are done) written by
 * consumers. Each word is one atomic 64-bit store, made after the copy it
 * announces (release) and read before the bytes it guards (acquire), so:
 *  - a producer killed at any instant has published its whole message or
 *    none of it, and a consumer killed mid-copy has taken nothing: the next
 *    one reads the same message again;
 *  - the number of messages is puts - gets, always in step with the
 *    positions, so a death leaves nothing to repair (the robust lock's
 *    MP_EOWNERDEAD just means "carry on");
 *  - a steady producer and consumer never wait for each other's lock.
 *
 * The ring wraps early: once the writer is past a warm window (64 MiB)
 * and there is room again at the start, it leaves a WRAP record and goes
 * back to 0. So a queue that keeps up reuses the same warm pages, while a
 * backlog can still grow into the sparse rest of the ring (4 GiB of
 * address space, memory only where written). When a producer wraps it
 * gives back the far pages no record lives in any more.
 *
 * Sleepers wait on wait points (futex words on Linux, semaphores on
 * Windows) with the announce-then-look protocol of platform.h, so a put or
 * get that finds nobody asleep costs no system call; a consumer spins a
 * little before it sleeps. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "deadline.h"
#include "queue.h"
#include "queue_ring.h"

#define QUEUE_MAGIC 0x5155504Du /* "MPQU" */
#define QUEUE_VERSION 2
#define RECORD_MARK MP__RING_RECORD_MARK
#define WRAP_MARK MP__RING_WRAP_MARK
#define RECORD_HEAD MP__RING_RECORD_HEAD
#define HEADER_BYTES 4096
#define WARM_BYTES ((uint64_t)64 << 20)
#define SPIN_ROUNDS 4000
#define COMMIT_STEP ((uint64_t)1 << 20)
#define LINE 64

/* A position word: the count of puts (or gets) done in the high half, the
 * ring offset / 8 in the low half (records are 8-aligned: 32 GiB of ring). */
#define POS_WORD(count, offset) (((uint64_t)(uint32_t)(count) << 32) | (uint64_t)((offset) >> 3))
#define POS_COUNT(word) ((uint32_t)((word) >> 32))
#define POS_OFFSET(word) (((word) & 0xFFFFFFFFu) << 3)

typedef struct queue_shared {
  uint32_t magic, version;
  uint64_t capacity;          /* ring bytes, a multiple of 8 */
  uint64_t maxsize;           /* messages; 0: unbounded */
  uint32_t joinable;
  volatile uint32_t closed;   /* set under the put lock */
  volatile uint64_t high;     /* ring bytes [0, high) were ever written */
  volatile uint64_t unfinished; /* joinable: puts not yet task_done */
  uint8_t pad0[LINE - 48];
  volatile uint64_t tail;     /* POS_WORD(puts, offset), producers' */
  uint8_t pad1[LINE - 8];
  volatile uint64_t head;     /* POS_WORD(gets, offset), consumers' */
  uint8_t pad2[LINE - 8];
  uint8_t put_lock[MP__SYNC_SLOT];
  uint8_t get_lock[MP__SYNC_SLOT];
  uint8_t not_empty[MP__SYNC_SLOT];
  uint8_t not_full[MP__SYNC_SLOT];
  uint8_t all_done[MP__SYNC_SLOT];
} queue_shared;

typedef char header_fits[sizeof(queue_shared) <= HEADER_BYTES ? 1 : -1];

enum { H_SHM, H_PUT_LOCK, H_GET_LOCK, H_NOT_EMPTY, H_NOT_FULL, H_ALL_DONE, H_COUNT };

struct mp_queue {
  mp_object base;
  mp__handle h[H_COUNT];
  size_t map_size;
  queue_shared *sh;
  uint8_t *ring;
  /* The ring's size as this process mapped it: what bounds every access
   * to the ring, since the shared header's copy is anyone's to scribble on. */
  uint64_t capacity;
  /* Ring bytes [0, usable) are committed in this process; producers and
   * consumers of one process may both raise it, hence atomic. */
  volatile uint64_t usable;
};

static int queue_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static const mp__object_ops queue_ops = {MP__KIND_QUEUE, "queue", queue_export};

static uint64_t record_size(uint64_t len) { return mp__ring_record_size(len); }

/* ---------------------------------------------------------- ring bytes */
static uint64_t warm_limit(const queue_shared *s) { return s->capacity < WARM_BYTES ? s->capacity : WARM_BYTES; }

static void put_record_head(mp_queue *q, uint64_t at, uint32_t len, uint32_t mark) {
  mp__store_u32(q->ring + at, len);
  mp__store_u32(q->ring + at + 4, mark);
}

/* Where a record of need bytes can go, given where the consumers are
 * (head) and how many records are in between (count), or UINT64_MAX if
 * nowhere now. A stale head only makes the answer more careful: consumers
 * only ever free space. tail never catches up with head from below, so
 * tail >= head means "not wrapped". */
static uint64_t place(uint64_t capacity, uint64_t warm, uint64_t head, uint64_t tail, uint64_t need, int *wraps) {
  *wraps = 0;
  if (tail >= head) {
    /* Back to the start once past the warm window, if it fits there. */
    int fits_here = tail + need <= capacity;
    int fits_start = need < head;
    if (fits_start && (!fits_here || tail + need > warm)) {
      *wraps = 1;
      return 0;
    }
    return fits_here ? tail : UINT64_MAX;
  }
  return tail + need < head ? tail : UINT64_MAX; /* wrapped: never touch head */
}

/* Makes ring bytes [0, end) usable here: Windows commits the section's
 * pages as the ring grows into them (a no-op on POSIX). The ring is reused
 * from offset 0, so one mark per process says what is done. */
static int ensure_usable(mp_queue *q, uint64_t end) {
  uint64_t have = mp__atomic_load64(&q->usable);
  if (end <= have) return MP_OK;
  uint64_t to = (end + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
  if (to > q->capacity) to = q->capacity;
  int rc = mp__shm_commit(q->ring + have, (size_t)(to - have));
  if (rc == MP_OK) mp__atomic_store64(&q->usable, to); /* a racing thread commits again: harmless */
  return rc;
}

/* A dead holder left nothing half done (see the top): carry on. */
static int take_lock(mp_queue *q, void *slot, int h) {
  int rc = mp__plock_acquire(slot, q->h[h], MP_FOREVER);
  return rc == MP_EOWNERDEAD ? MP_OK : rc;
}

/* A producer going back to 0 from wrap_at: no record lives past wrap_at,
 * nor between the warm window and where the consumers are, so those pages
 * go back to the OS (for every process: it is one shared segment). */
static void give_back_far_pages(mp_queue *q, uint64_t wrap_at, uint64_t head) {
  queue_shared *s = q->sh;
  uint64_t warm = warm_limit(s), high = mp__atomic_load64(&s->high);
  uint64_t from = wrap_at + RECORD_HEAD > warm ? wrap_at + RECORD_HEAD : warm;
  if (high > from) mp__shm_discard(q->ring + from, (size_t)(high - from));
  if (head > warm && head <= wrap_at) mp__shm_discard(q->ring + warm, (size_t)(head - warm));
}

/* ------------------------------------------------------------ lifetime */
static mp_queue *queue_new(void) {
  mp_queue *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  q->base.ops = &queue_ops;
  for (int i = 0; i < H_COUNT; i++) q->h[i] = MP__NO_HANDLE;
  return q;
}

static void queue_release(mp_queue *q) {
  if (!q) return;
  mp__shm_detach(q->sh, q->map_size);
  for (int i = 0; i < H_COUNT; i++) mp__handle_close(q->h[i]);
  free(q);
}

int mp_queue_create(mp_queue **out, const mp_queue_options *opts) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_queue_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_queue_create");
  if (rc != MP_OK) return rc;
  mp_queue *q = queue_new();
  if (!q) return mp__set_error(MP_ENOMEM, "mp_queue_create: out of memory");
  uint64_t capacity = MP__QUEUE_RING_BYTES;
  q->map_size = (size_t)(HEADER_BYTES + capacity);
  void *mem = NULL;
  rc = mp__shm_create(q->map_size, &q->h[H_SHM], &mem);
  if (rc == MP_OK && (rc = mp__shm_commit(mem, HEADER_BYTES)) != MP_OK) mp__shm_detach(mem, q->map_size);
  if (rc != MP_OK) goto fail;
  q->sh = mem;
  q->ring = (uint8_t *)mem + HEADER_BYTES;
  q->capacity = capacity;
  queue_shared *s = q->sh;
  s->capacity = capacity;
  s->maxsize = opts ? opts->maxsize : 0;
  s->joinable = opts && opts->joinable;
  if ((rc = mp__plock_init(s->put_lock, &q->h[H_PUT_LOCK])) != MP_OK ||
      (rc = mp__plock_init(s->get_lock, &q->h[H_GET_LOCK])) != MP_OK ||
      (rc = mp__pwait_init(s->not_empty, &q->h[H_NOT_EMPTY])) != MP_OK ||
      (rc = mp__pwait_init(s->not_full, &q->h[H_NOT_FULL])) != MP_OK ||
      (rc = mp__pwait_init(s->all_done, &q->h[H_ALL_DONE])) != MP_OK)
    goto fail;
  s->version = QUEUE_VERSION;
  s->magic = QUEUE_MAGIC;
  *out = q;
  return MP_OK;
fail:
  queue_release(q);
  return rc;
}

mp_queue *mp_queue_free(mp_queue *q) {
  /* This process lets go; the others keep the segment alive until the
   * last of them does. A worker's rebuilt queue belongs to its call. */
  if (q && !q->base.borrowed) queue_release(q);
  return NULL;
}

mp_object *mp_queue_obj(mp_queue *q) { return q ? &q->base : NULL; }

mp_queue *mp_call_queue(mp_call *call, size_t i) {
  return (mp_queue *)mp__call_object(call, i, MP__KIND_QUEUE);
}

void mp__queue_release(mp_queue *q) { queue_release(q); }

static int queue_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp_queue *q = (mp_queue *)o;
  uint32_t present = 0;
  size_t n = 0;
  for (int i = 0; i < H_COUNT; i++) {
    if (q->h[i] == MP__NO_HANDLE) continue;
    present |= 1u << i;
    handles[n++] = q->h[i];
  }
  *nhandles = n;
  mp__buf_put_u32(blob, present);
  mp__buf_put_u64(blob, (uint64_t)q->map_size);
  return MP_OK;
}

int mp__queue_import(const mp__handle *handles, size_t nhandles, const uint8_t *blob, size_t bloblen,
                     mp_object **out) {
  mp__rd r;
  mp__rd_init(&r, blob, bloblen);
  uint32_t present = mp__rd_u32(&r);
  uint64_t map_size = mp__rd_u64(&r);
  size_t want = 0;
  for (int i = 0; i < H_COUNT; i++) want += (present >> i) & 1u;
  if (r.failed || r.off != r.len || (present >> H_COUNT) || !(present & 1u) || want != nhandles ||
      map_size <= HEADER_BYTES || map_size > ((uint64_t)1 << 46))
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: queue description");
  mp_queue *q = queue_new();
  if (!q) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a queue");
  size_t k = 0;
  for (int i = 0; i < H_COUNT; i++)
    if (present & (1u << i)) q->h[i] = handles[k++];
  q->map_size = (size_t)map_size;
  void *mem = NULL;
  int rc = mp__shm_attach(q->h[H_SHM], q->map_size, &mem);
  if (rc == MP_OK && (rc = mp__shm_commit(mem, HEADER_BYTES)) != MP_OK) mp__shm_detach(mem, q->map_size);
  if (rc != MP_OK) {
    queue_release(q);
    return rc;
  }
  q->sh = mem;
  q->ring = (uint8_t *)mem + HEADER_BYTES;
  if (q->sh->magic != QUEUE_MAGIC || q->sh->version != QUEUE_VERSION ||
      q->sh->capacity + HEADER_BYTES != map_size) {
    queue_release(q);
    return mp__set_error(MP_EPROTO, "malformed queue: the shared header does not match");
  }
  q->capacity = map_size - HEADER_BYTES;
  q->base.borrowed = 1;
  *out = &q->base;
  return MP_OK;
}

/* ----------------------------------------------------------------- put */
static uint32_t queued(const queue_shared *s);

/* A full bounded queue: spin a little before sleeping, as a consumer does
 * on an empty one. A consumer usually frees a slot within microseconds,
 * and then neither side pays for a sleep and a wake. (Room in bytes is the
 * put's own business under its lock; this looks at the count only.) */
static void spin_for_room(const queue_shared *s) {
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (!s->maxsize || queued(s) < s->maxsize || mp__atomic_load32((volatile uint32_t *)&s->closed)) return;
    if ((i & 1023) == 1023)
      mp__yield();
    else
      mp__cpu_relax();
  }
}

int mp_queue_put(mp_queue *q, const void *data, size_t len, double timeout) {
  if (!q || (!data && len)) return mp__set_error(MP_EINVAL, "mp_queue_put: NULL argument");
  if (len > MP_QUEUE_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "mp_queue_put: %llu bytes is over MP_QUEUE_MAX_MESSAGE",
                         (unsigned long long)len);
  queue_shared *s = q->sh;
  uint64_t need = record_size(len);
  double deadline = mp__deadline(timeout);
  /* Sleeping takes two looks: announce, look again under the lock, sleep
   * only if there is still no room (so a getter's wake is never missed,
   * and costs nothing when nobody announced). */
  uint32_t seen = 0;
  int spun = 0, announced = 0, rc = MP_OK;
  for (;;) {
    if ((rc = take_lock(q, s->put_lock, H_PUT_LOCK)) != MP_OK) break;
    if (mp__atomic_load32(&s->closed)) {
      mp__plock_release(s->put_lock, q->h[H_PUT_LOCK]);
      rc = mp__set_error(MP_ECLOSED, "mp_queue_put: the queue is closed");
      break;
    }
    uint64_t tw = s->tail, hw = mp__atomic_load64(&s->head);
    uint32_t puts = POS_COUNT(tw), count = puts - POS_COUNT(hw);
    uint64_t tail = POS_OFFSET(tw), head = POS_OFFSET(hw);
    int wraps = 0;
    uint64_t at = s->maxsize && count >= s->maxsize
                      ? UINT64_MAX
                      : place(q->capacity, warm_limit(s), count ? head : tail, tail, need, &wraps);
    if (at != UINT64_MAX) {
      uint64_t end = at + need > tail + RECORD_HEAD ? at + need : tail + RECORD_HEAD;
      if ((rc = ensure_usable(q, end)) != MP_OK) {
        mp__plock_release(s->put_lock, q->h[H_PUT_LOCK]);
        break;
      }
      if (end > s->high) mp__atomic_store64(&s->high, end);
      if (wraps) {
        if (tail + RECORD_HEAD <= q->capacity) put_record_head(q, tail, 0, WRAP_MARK);
        give_back_far_pages(q, tail, count ? head : tail);
      }
      if (len) memcpy(q->ring + at + RECORD_HEAD, data, len);
      put_record_head(q, at, (uint32_t)len, RECORD_MARK);
      if (s->joinable) mp__atomic_add64(&s->unfinished, 1);
      /* Publish: only now does the message exist for anyone else. */
      mp__atomic_store64(&s->tail, POS_WORD(puts + 1, at + need));
      mp__plock_release(s->put_lock, q->h[H_PUT_LOCK]);
      mp__pwait_wake_sleepers(s->not_empty, q->h[H_NOT_EMPTY], 0);
      break;
    }
    mp__plock_release(s->put_lock, q->h[H_PUT_LOCK]);
    int bounded = s->maxsize != 0 || need > s->capacity;
    if (!bounded) {
      /* Unbounded: never block on a slow consumer. The only limit is the
       * ring's address space, and running into it is an error. */
      rc = mp__set_error(MP_ENOMEM, "mp_queue_put: the queue's %llu-byte store is full",
                         (unsigned long long)s->capacity);
      break;
    }
    double left = mp__remaining(deadline);
    if (left == 0) {
      rc = timeout == 0 ? mp__set_error(MP_EFULL, "mp_queue_put: the queue is full")
                        : mp__set_error(MP_ETIMEDOUT, "mp_queue_put: timed out waiting for room");
      break;
    }
    if (!spun) {
      spun = 1;
      spin_for_room(s);
      continue;
    }
    if (!announced) {
      seen = mp__pwait_prepare(s->not_full);
      announced = 1;
      continue;
    }
    announced = 0;
    spun = 0;
    rc = mp__pwait_commit(s->not_full, q->h[H_NOT_FULL], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return rc;
  }
  if (announced) mp__pwait_cancel(s->not_full);
  return rc;
}

/* ----------------------------------------------------------------- get */
/* Messages queued now, from the two position words (approximate while
 * others put and get). */
static uint32_t queued(const queue_shared *s) {
  return POS_COUNT(mp__atomic_load64((volatile uint64_t *)&s->tail)) -
         POS_COUNT(mp__atomic_load64((volatile uint64_t *)&s->head));
}

/* Spins a little before a consumer sleeps: a producer usually comes with
 * the next message sooner than a sleep and a wake would take. */
static void spin_for_message(const queue_shared *s) {
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (queued(s) || mp__atomic_load32((volatile uint32_t *)&s->closed)) return;
    /* Mostly on the CPU (the producer is on another one); now and then
     * let go of it, in case the producer waits for this very CPU. */
    if ((i & 1023) == 1023)
      mp__yield();
    else
      mp__cpu_relax();
  }
}

/* Takes the message at head into buf (cap bytes), or a fresh allocation
 * when alloc; with the get lock held and a message published. MP_OK with
 * *retired set when the message is taken. */
static int take(mp_queue *q, uint64_t hw, void *buf, size_t cap, int alloc, void **data, size_t *len) {
  queue_shared *s = q->sh;
  int rc = ensure_usable(q, mp__atomic_load64(&s->high));
  if (rc != MP_OK) return rc;
  uint64_t at;
  uint32_t n;
  if (!mp__ring_next(q->ring, q->capacity, POS_OFFSET(hw), &at, &n)) {
    /* Cannot happen unless the memory was scribbled on: drop everything
     * published so far rather than read garbage forever. */
    mp__atomic_store64(&s->head, mp__atomic_load64(&s->tail)); /* one read: a put may land meanwhile */
    return mp__set_error(MP_EPROTO, "mp_queue_get: a damaged record: the queue's contents were dropped");
  }
  *len = n;
  if (alloc) {
    buf = malloc(n ? n : 1);
    if (!buf) return mp__set_error(MP_ENOMEM, "mp_queue_get: out of memory for %lu bytes", (unsigned long)n);
    *data = buf;
  } else if (n > cap) {
    return mp__set_error(MP_ETOOBIG, "mp_queue_get_into: the message has %lu bytes, the buffer %llu",
                         (unsigned long)n, (unsigned long long)cap);
  }
  if (n) memcpy(buf, q->ring + at + RECORD_HEAD, n);
  /* Retire: only now may a producer reuse the bytes. */
  mp__atomic_store64(&s->head, POS_WORD(POS_COUNT(hw) + 1, at + record_size(n)));
  return MP_OK;
}

static int get(mp_queue *q, void *buf, size_t cap, int alloc, void **data, size_t *len, double timeout) {
  queue_shared *s = q->sh;
  double deadline = mp__deadline(timeout);
  /* As in put: spin a little, then announce, look again, and sleep. */
  uint32_t seen = 0;
  int spun = 0, announced = 0, rc = MP_OK;
  for (;;) {
    if ((rc = take_lock(q, s->get_lock, H_GET_LOCK)) != MP_OK) break;
    /* closed first: a put published before the close is then seen below. */
    int closed = (int)mp__atomic_load32(&s->closed);
    uint64_t hw = s->head, tw = mp__atomic_load64(&s->tail);
    if (POS_COUNT(tw) != POS_COUNT(hw)) {
      rc = take(q, hw, buf, cap, alloc, data, len);
      mp__plock_release(s->get_lock, q->h[H_GET_LOCK]);
      if (rc == MP_OK) mp__pwait_wake_sleepers(s->not_full, q->h[H_NOT_FULL], 0);
      break;
    }
    mp__plock_release(s->get_lock, q->h[H_GET_LOCK]);
    if (closed) {
      rc = mp__set_error(MP_ECLOSED, "the queue is closed and drained");
      break;
    }
    double left = mp__remaining(deadline);
    if (left == 0) {
      rc = timeout == 0 ? mp__set_error(MP_EEMPTY, "the queue is empty")
                        : mp__set_error(MP_ETIMEDOUT, "timed out waiting for a message");
      break;
    }
    if (!spun) {
      spun = 1;
      spin_for_message(s);
      continue;
    }
    if (!announced) {
      seen = mp__pwait_prepare(s->not_empty);
      announced = 1;
      continue;
    }
    announced = 0;
    spun = 0;
    rc = mp__pwait_commit(s->not_empty, q->h[H_NOT_EMPTY], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return rc;
  }
  if (announced) mp__pwait_cancel(s->not_empty);
  return rc;
}

int mp_queue_get(mp_queue *q, void **data, size_t *len, double timeout) {
  if (data) *data = NULL;
  if (len) *len = 0;
  if (!q || !data || !len) return mp__set_error(MP_EINVAL, "mp_queue_get: NULL argument");
  return get(q, NULL, 0, 1, data, len, timeout);
}

int mp_queue_get_into(mp_queue *q, void *buf, size_t cap, size_t *len, double timeout) {
  if (len) *len = 0;
  if (!q || !len || (!buf && cap)) return mp__set_error(MP_EINVAL, "mp_queue_get_into: NULL argument");
  return get(q, buf, cap, 0, NULL, len, timeout);
}

/* ------------------------------------------------- size, close, joining */
int mp_queue_qsize(mp_queue *q, size_t *n) {
  if (!q || !n) return mp__set_error(MP_EINVAL, "mp_queue_qsize: NULL argument");
  *n = queued(q->sh);
  return MP_OK;
}

int mp_queue_close(mp_queue *q) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_close: NULL queue");
  /* Under the put lock: a put either finished before (its message stays
   * to be drained) or sees the flag. */
  int rc = take_lock(q, q->sh->put_lock, H_PUT_LOCK);
  if (rc != MP_OK) return rc;
  mp__atomic_store32(&q->sh->closed, 1);
  mp__plock_release(q->sh->put_lock, q->h[H_PUT_LOCK]);
  /* Everyone waiting must look again: getters drain, putters fail. */
  mp__pwait_wake_sleepers(q->sh->not_empty, q->h[H_NOT_EMPTY], 1);
  mp__pwait_wake_sleepers(q->sh->not_full, q->h[H_NOT_FULL], 1);
  return MP_OK;
}

int mp_queue_task_done(mp_queue *q) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_task_done: NULL queue");
  if (!q->sh->joinable) return mp__set_error(MP_ESTATE, "mp_queue_task_done: the queue is not joinable");
  uint64_t now = mp__atomic_load64(&q->sh->unfinished);
  do {
    if (now == 0) return mp__set_error(MP_ESTATE, "mp_queue_task_done: called more times than items were put");
  } while (!mp__atomic_cas64(&q->sh->unfinished, &now, now - 1));
  if (now == 1) mp__pwait_wake(q->sh->all_done, q->h[H_ALL_DONE], 1);
  return MP_OK;
}

int mp_queue_join(mp_queue *q, double timeout) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_join: NULL queue");
  if (!q->sh->joinable) return mp__set_error(MP_ESTATE, "mp_queue_join: the queue is not joinable");
  double deadline = mp__deadline(timeout);
  for (;;) {
    uint32_t seen = mp__pwait_seq(q->sh->all_done);
    uint64_t left_items = mp__atomic_load64(&q->sh->unfinished);
    if (left_items == 0) return MP_OK;
    double left = mp__remaining(deadline);
    if (left == 0)
      return mp__set_error(MP_ETIMEDOUT, "mp_queue_join: %llu item(s) not yet task_done",
                           (unsigned long long)left_items);
    int rc = mp__pwait_wait(q->sh->all_done, q->h[H_ALL_DONE], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return rc;
  }
}
