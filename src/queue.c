/* Queue: many producers, many consumers, across processes.
 *
 * One shared-memory segment holds a header and a byte ring of records
 * (u32 length, u32 marker, payload, padding to 8). A put copies its message
 * straight into the ring and a get copies it straight out: one copy each
 * way, no pipe, no feeder thread. Because the data lives in the shared
 * segment and not in the producer, a producer can put and exit before
 * anyone reads (Python's join-before-drain deadlock cannot happen).
 *
 * The ring wraps early: once the writer is past a warm window (64 MiB)
 * and there is room again at the start, it leaves a WRAP record and goes
 * back to 0. So a queue that keeps up reuses the same warm pages, while a
 * backlog can still grow into the sparse rest of the ring (4 GiB of
 * address space, memory only where written); those far pages go back to
 * the OS once the readers have passed them.
 *
 * Every change to the ring happens under one robust process-shared lock.
 * A put publishes its record by moving `tail` only after the copy, and a
 * get retires one by moving `head` only after its copy out, so a process
 * killed at any instant leaves either the whole message or none of it. The
 * next process to take the lock gets MP_EOWNERDEAD and recounts the
 * records between head and tail, the one thing a death can leave stale.
 *
 * Sleepers wait on wait points (futex words on Linux, semaphores on
 * Windows); a wake costs a system call only when somebody sleeps, and a
 * consumer spins briefly before it sleeps, so a busy queue runs without
 * system calls at all. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "deadline.h"
#include "queue.h"

#define QUEUE_MAGIC 0x5155504Du /* "MPQU" */
#define QUEUE_VERSION 1
#define RECORD_MARK 0x4D524543u /* "CERM" */
#define WRAP_MARK 0x50415257u   /* "WRAP": the next record is at offset 0 */
#define RECORD_HEAD 8
#define HEADER_BYTES 4096
#define WARM_BYTES ((uint64_t)64 << 20)
#define SPIN_ROUNDS 4000
#define COMMIT_STEP ((uint64_t)1 << 20)

typedef struct queue_shared {
  uint32_t magic, version;
  uint64_t capacity; /* ring bytes, a multiple of 8 */
  uint64_t maxsize;  /* messages; 0: unbounded */
  uint32_t joinable;
  volatile uint32_t closed;
  /* Offsets into the ring. Messages are [head, tail) when head < tail, or
   * [head, wrap point) then [0, tail) when tail < head; empty is 0, 0. */
  uint64_t head, tail;
  volatile uint64_t count;
  uint64_t unfinished;
  uint64_t high;     /* ring bytes [0, high) were ever written */
  uint8_t pad[64];
  uint8_t lock[MP__SYNC_SLOT];
  uint8_t not_empty[MP__SYNC_SLOT];
  uint8_t not_full[MP__SYNC_SLOT];
  uint8_t all_done[MP__SYNC_SLOT];
} queue_shared;

typedef char header_fits[sizeof(queue_shared) <= HEADER_BYTES ? 1 : -1];

enum { H_SHM, H_LOCK, H_NOT_EMPTY, H_NOT_FULL, H_ALL_DONE, H_COUNT };

struct mp_queue {
  mp_object base;
  mp__handle h[H_COUNT];
  size_t map_size;
  queue_shared *sh;
  uint8_t *ring;
  uint64_t usable;   /* ring bytes [0, usable) are committed in this process */
};

static int queue_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static const mp__object_ops queue_ops = {MP__KIND_QUEUE, "queue", queue_export};

static uint64_t pad8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }
static uint64_t record_size(uint64_t len) { return RECORD_HEAD + pad8(len); }

/* ---------------------------------------------------------- ring bytes */
static uint64_t warm_limit(const queue_shared *s) { return s->capacity < WARM_BYTES ? s->capacity : WARM_BYTES; }

static void record_head(const mp_queue *q, uint64_t at, uint32_t *len, uint32_t *mark) {
  const uint8_t *p = q->ring + at;
  *len = mp__load_u32(p);
  *mark = mp__load_u32(p + 4);
}

static void put_record_head(mp_queue *q, uint64_t at, uint32_t len, uint32_t mark) {
  mp__store_u32(q->ring + at, len);
  mp__store_u32(q->ring + at + 4, mark);
}

/* Follows a WRAP record (or the very end) at the reading position. */
static uint64_t skip_wrap(const mp_queue *q, uint64_t at) {
  if (at + RECORD_HEAD > q->sh->capacity) return 0;
  uint32_t len, mark;
  record_head(q, at, &len, &mark);
  return mark == WRAP_MARK ? 0 : at;
}

/* Where a record of need bytes can go, or UINT64_MAX if nowhere now. */
static uint64_t place(const queue_shared *s, uint64_t need, int *wraps) {
  *wraps = 0;
  if (s->count == 0) return need <= s->capacity ? 0 : UINT64_MAX;
  if (s->tail > s->head) {
    /* Back to the start once past the warm window, if it fits there. */
    int fits_here = s->tail + need <= s->capacity;
    int fits_start = need < s->head;
    if (fits_start && (!fits_here || s->tail + need > warm_limit(s))) {
      *wraps = 1;
      return 0;
    }
    return fits_here ? s->tail : UINT64_MAX;
  }
  return s->tail + need < s->head ? s->tail : UINT64_MAX; /* wrapped: never touch head */
}

/* After a holder died: head and tail are right (each moves in one store
 * after its copy), the count may be one off. Walk and recount; anything
 * that does not look like a record ends the queue there. */
static void repair(mp_queue *q) {
  queue_shared *s = q->sh;
  uint64_t n = 0, at = s->head;
  if (s->count != 0 || s->head != s->tail) {
    for (uint64_t guard = 0; guard < s->capacity / RECORD_HEAD; guard++) {
      at = skip_wrap(q, at);
      if (at == s->tail && n > 0) break;
      uint32_t len, mark;
      record_head(q, at, &len, &mark);
      if (mark != RECORD_MARK || at + record_size(len) > s->capacity) break;
      at += record_size(len);
      n++;
      if (at == s->tail) break;
    }
    s->tail = at;
  }
  s->count = n;
  if (n == 0) s->head = s->tail = 0;
  if (s->unfinished < n) s->unfinished = n;
}

/* Makes ring bytes [0, end) usable here: Windows commits the section's
 * pages as the ring grows into them (a no-op on POSIX). The ring is reused
 * from offset 0, so one mark per process says what is done. */
static int ensure_usable(mp_queue *q, uint64_t end) {
  if (end <= q->usable) return MP_OK;
  uint64_t to = (end + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
  if (to > q->sh->capacity) to = q->sh->capacity;
  int rc = mp__shm_commit(q->ring + q->usable, (size_t)(to - q->usable));
  if (rc == MP_OK) q->usable = to;
  return rc;
}

static void unlock(mp_queue *q) { mp__plock_release(q->sh->lock, q->h[H_LOCK]); }

/* Takes the lock, with every byte another process wrote usable here. */
static int lock(mp_queue *q) {
  int rc = mp__plock_acquire(q->sh->lock, q->h[H_LOCK], MP_FOREVER);
  if (rc != MP_OK && rc != MP_EOWNERDEAD) return rc;
  int dead_owner = rc == MP_EOWNERDEAD;
  if ((rc = ensure_usable(q, q->sh->high)) != MP_OK) {
    unlock(q);
    return rc;
  }
  if (dead_owner) repair(q);
  return MP_OK;
}

/* Pages past the warm window go back to the OS once no message is there. */
static void discard_far(mp_queue *q, uint64_t from, uint64_t to) {
  uint64_t warm = warm_limit(q->sh);
  if (from < warm) from = warm;
  if (to > from) mp__shm_discard(q->ring + from, (size_t)(to - from));
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
  queue_shared *s = q->sh;
  s->capacity = capacity;
  s->maxsize = opts ? opts->maxsize : 0;
  s->joinable = opts && opts->joinable;
  if ((rc = mp__plock_init(s->lock, &q->h[H_LOCK])) != MP_OK ||
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
  q->base.borrowed = 1;
  *out = &q->base;
  return MP_OK;
}

/* ----------------------------------------------------------------- put */
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
  int announced = 0, rc = MP_OK;
  for (;;) {
    if ((rc = lock(q)) != MP_OK) break;
    if (s->closed) {
      unlock(q);
      rc = mp__set_error(MP_ECLOSED, "mp_queue_put: the queue is closed");
      break;
    }
    int wraps = 0;
    uint64_t at = s->maxsize && s->count >= s->maxsize ? UINT64_MAX : place(s, need, &wraps);
    if (at != UINT64_MAX && (rc = ensure_usable(q, at + need)) != MP_OK) {
      unlock(q);
      break;
    }
    if (at != UINT64_MAX) {
      if (at + need > s->high) s->high = at + need;
      if (wraps && s->tail + RECORD_HEAD <= s->capacity) put_record_head(q, s->tail, 0, WRAP_MARK);
      if (len) memcpy(q->ring + at + RECORD_HEAD, data, len);
      put_record_head(q, at, (uint32_t)len, RECORD_MARK);
      /* Publish: only now does the message exist for anyone else. */
      if (s->count == 0) s->head = at;
      s->tail = at + need;
      s->count++;
      if (s->joinable) s->unfinished++;
      unlock(q);
      mp__pwait_wake_sleepers(s->not_empty, q->h[H_NOT_EMPTY], 0);
      break;
    }
    int bounded = s->maxsize != 0 || need > s->capacity;
    unlock(q);
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
    if (!announced) {
      seen = mp__pwait_prepare(s->not_full);
      announced = 1;
      continue;
    }
    announced = 0;
    rc = mp__pwait_commit(s->not_full, q->h[H_NOT_FULL], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return rc;
  }
  if (announced) mp__pwait_cancel(s->not_full);
  return rc;
}

/* ----------------------------------------------------------------- get */
/* Spins a little before a consumer sleeps: a producer usually comes with
 * the next message sooner than a sleep and a wake would take. */
static void spin_for_message(const queue_shared *s) {
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (mp__atomic_load64((volatile uint64_t *)&s->count) || s->closed) return;
    /* Mostly on the CPU (the producer is on another one); now and then
     * let go of it, in case the producer waits for this very CPU. */
    if ((i & 1023) == 1023)
      mp__yield();
    else
      mp__cpu_relax();
  }
}

/* Takes the head message into buf (cap bytes), or a fresh allocation when
 * alloc; with the lock held and a message present. */
static int take(mp_queue *q, void *buf, size_t cap, int alloc, void **data, size_t *len) {
  queue_shared *s = q->sh;
  uint64_t at = skip_wrap(q, s->head);
  if (at == 0 && s->head > warm_limit(s)) discard_far(q, 0, s->capacity); /* readers left the far part */
  s->head = at;
  uint32_t n, mark;
  record_head(q, at, &n, &mark);
  *len = n;
  if (mark != RECORD_MARK) {
    repair(q); /* unreachable unless the memory was scribbled on */
    return mp__set_error(MP_EPROTO, "mp_queue_get: a damaged record was dropped");
  }
  if (alloc) {
    buf = malloc(n ? n : 1);
    if (!buf) return mp__set_error(MP_ENOMEM, "mp_queue_get: out of memory for %lu bytes", (unsigned long)n);
    *data = buf;
  } else if (n > cap) {
    return mp__set_error(MP_ETOOBIG, "mp_queue_get_into: the message has %lu bytes, the buffer %llu",
                         (unsigned long)n, (unsigned long long)cap);
  }
  if (n) memcpy(buf, q->ring + at + RECORD_HEAD, n);
  s->head = at + record_size(n);
  if (--s->count == 0) {
    /* Empty: start over at offset 0, where the pages are warm. */
    discard_far(q, 0, s->tail > s->head ? s->tail : s->head);
    s->head = s->tail = 0;
  }
  return MP_OK;
}

static int get(mp_queue *q, void *buf, size_t cap, int alloc, void **data, size_t *len, double timeout) {
  queue_shared *s = q->sh;
  double deadline = mp__deadline(timeout);
  /* As in put: spin a little, then announce, look again, and sleep. */
  uint32_t seen = 0;
  int spun = 0, announced = 0, rc = MP_OK;
  for (;;) {
    if ((rc = lock(q)) != MP_OK) break;
    if (s->count) {
      rc = take(q, buf, cap, alloc, data, len);
      int bounded = s->maxsize != 0;
      unlock(q);
      if (rc == MP_OK && bounded) mp__pwait_wake_sleepers(s->not_full, q->h[H_NOT_FULL], 0);
      break;
    }
    int closed = s->closed;
    unlock(q);
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
  *n = (size_t)mp__atomic_load64((volatile uint64_t *)&q->sh->count);
  return MP_OK;
}

int mp_queue_close(mp_queue *q) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_close: NULL queue");
  int rc = lock(q);
  if (rc != MP_OK) return rc;
  q->sh->closed = 1;
  unlock(q);
  /* Everyone waiting must look again: getters drain, putters fail. */
  mp__pwait_wake_sleepers(q->sh->not_empty, q->h[H_NOT_EMPTY], 1);
  mp__pwait_wake_sleepers(q->sh->not_full, q->h[H_NOT_FULL], 1);
  return MP_OK;
}

int mp_queue_task_done(mp_queue *q) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_task_done: NULL queue");
  if (!q->sh->joinable) return mp__set_error(MP_ESTATE, "mp_queue_task_done: the queue is not joinable");
  int rc = lock(q);
  if (rc != MP_OK) return rc;
  if (q->sh->unfinished == 0) {
    unlock(q);
    return mp__set_error(MP_ESTATE, "mp_queue_task_done: called more times than items were put");
  }
  int all_done = --q->sh->unfinished == 0;
  unlock(q);
  if (all_done) mp__pwait_wake(q->sh->all_done, q->h[H_ALL_DONE], 1);
  return MP_OK;
}

int mp_queue_join(mp_queue *q, double timeout) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_join: NULL queue");
  if (!q->sh->joinable) return mp__set_error(MP_ESTATE, "mp_queue_join: the queue is not joinable");
  double deadline = mp__deadline(timeout);
  for (;;) {
    uint32_t seen = mp__pwait_seq(q->sh->all_done);
    int rc = lock(q);
    if (rc != MP_OK) return rc;
    uint64_t left_items = q->sh->unfinished;
    unlock(q);
    if (left_items == 0) return MP_OK;
    double left = mp__remaining(deadline);
    if (left == 0)
      return mp__set_error(MP_ETIMEDOUT, "mp_queue_join: %llu item(s) not yet task_done",
                           (unsigned long long)left_items);
    rc = mp__pwait_wait(q->sh->all_done, q->h[H_ALL_DONE], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return rc;
  }
}
