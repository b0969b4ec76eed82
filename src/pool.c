/* Pool: a fixed set of worker processes that run chunks of work.
 *
 * Threads and what they own
 *  - Caller threads submit jobs (their chunks go on the pending list, and
 *    a chunk for an idle worker is written to it at once), wait for them,
 *    cancel them, close or terminate the pool.
 *  - One reader thread per worker blocks on that worker's result pipe,
 *    records each CHUNK frame's outcomes, and writes the worker its next
 *    pending chunks. A thread per worker instead of one poll() is what
 *    works the same on Windows, where pipes cannot be polled, and it has no
 *    64-handle limit.
 *  - One scheduler thread per pool fills workers a few chunks ahead when
 *    work arrives, buries dead workers and starts replacements, enforces
 *    task_timeout, frees chunks retired while still being written, and runs
 *    every user callback and progress report.
 *
 * Locking: one mutex (pool->lock) guards every field of the pool, its
 * workers, chunks and jobs. Two condition variables: the scheduler sleeps
 * on pool->cond (poke_scheduler; pool->events counts wakes, so one that
 * comes while it has the lock released is not missed), callers on
 * pool->waiters (wake_waiters: a job became ready, an imap item arrived,
 * the pool ended). Nothing slow happens under the lock: frames are
 * written, workers started and reaped, and callbacks run with it released.
 * While a thread writes to a worker with the lock released, that worker is
 * marked `writing` (nobody else writes to it, and it is not buried) and
 * the chunks are marked `in_write` (not freed). In particular no thread of
 * the pool holds any lock across a fork: workers are started by the
 * scheduler with the lock released, and between fork and exec (spawn) the
 * child calls only async-signal-safe functions.
 *
 * Failure model: the scheduler knows which chunks each worker holds, in
 * the order the worker runs them. When a worker dies (signal, exit, OOM
 * kill) the chunk it was running fails with MP_ECRASHED and the chunks it
 * had not started go back to the front of the pending list; a chunk over
 * its time limit is killed with its worker (MP_ETIMEDOUT); a cancelled
 * running chunk likewise (MP_ECANCELLED). The worker is replaced. Nothing
 * waits without a bound on a peer that may be dead: readers see EOF when a
 * worker dies, and the scheduler's waits have a deadline whenever a chunk
 * has a time limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "deadline.h"
#include "pool_wire.h"
#include "wire.h"

enum { JOB_APPLY = 1, JOB_MAP = 2, JOB_IMAP = 3 };
enum { POOL_RUNNING = 0, POOL_CLOSED = 1, POOL_TERMINATING = 2, POOL_DONE = 3 };
enum { WHY_NONE = 0, WHY_TIMEOUT, WHY_CANCEL, WHY_TERMINATE };
enum { SLOT_FREE = 0, SLOT_FLYING = 1, SLOT_READY = 2 };
/* Chunks a worker holds at once: the running one and some ahead. */
#define PREFETCH 4
#define MAX_WORKERS 4096

typedef struct job job;
typedef struct worker worker;

typedef struct chunk {
  uint64_t id;
  job *job;
  size_t first, n;
  mp__buf payload;         /* the TASK frame payload, kept until done */
  double started;          /* when its worker began it (head of held) */
  int cancelled;           /* its outcomes are dropped */
  int in_write;            /* its payload is being written: not freed yet */
  struct chunk *next;
} chunk;

struct worker {
  mp_pool *pool;
  int slot;
  mp__child *child;
  int64_t pid;
  mp__handle task_wr, result_rd;
  mp__thread *reader;
  chunk *held, *held_tail; /* in the order the worker runs them */
  unsigned nheld;
  unsigned assigned;       /* chunks sent, for max_tasks_per_child */
  int dead;                /* its reader saw the end of the stream */
  int why_killed;          /* WHY_*: we killed it on purpose */
  int writing;             /* a thread is writing to task_wr: not buried,
                              and no other thread writes to it meanwhile */
  char *init_failure;      /* its initializer's failure, if it failed */
  int init_code;
};

struct job {
  mp_pool *pool;
  int kind;
  char task[MP__TASK_NAME_MAX + 1];
  size_t n, outcomes;
  mp_result *results;      /* per item, or NULL (blocking fixed map) */
  int owns_results;
  void *fixed_out;         /* blocking fixed map: results land here */
  size_t out_size;
  size_t first_fail;       /* lowest failed index, n if none */
  int first_fail_status;
  mp_callback cb;
  void *ud;
  mp_progress_fn progress;
  void *progress_ud;
  int progress_queued;     /* on pool->progress_jobs */
  job *next_progress;
  int cancel_requested;    /* mp_async_cancel was called: no chunk of it
                              may start from now on, wherever it is */
  int completed;           /* every item has an outcome */
  volatile uint32_t ready; /* and its callback has run; set under the lock,
                              read without it only by job_wait's spin */
  int user_ref, pool_ref;
  job *next_done;
  mp_iter *iter;           /* imap */
};

struct mp_pool {
  mp__mutex *lock;
  mp__cond *cond;          /* the scheduler sleeps on it */
  mp__cond *waiters;       /* callers waiting for results or the end sleep on it */
  mp__thread *scheduler;
  int state;
  int nworkers;
  worker **workers;
  int method;
  char initializer[MP__TASK_NAME_MAX + 1];
  void *initarg;
  size_t initarg_len;
  unsigned max_tasks;
  double task_timeout;
  mp_object **objects;
  size_t nobjects;
  chunk *pending, *pending_tail;
  size_t npending;
  uint64_t next_chunk_id;
  job *done_jobs;          /* completed, callbacks not yet run */
  job *progress_jobs;      /* with progress to report */
  chunk *retired;          /* done; freed by the scheduler, which may still
                              be inside the write that sent them */
  char *broken;            /* why no more work can run (initializer failure) */
  int broken_status, broken_code;
  int start_failures;      /* consecutive failed replacement starts */
  unsigned events;         /* bumped with every broadcast, so the scheduler
                              never sleeps through one it missed while the
                              lock was released */
  char start_error[256];
};

/* imap: results as they complete, inputs pulled with backpressure. */
struct mp_iter {
  mp_pool *pool;
  job *job;                /* its results ring is job->results, cap slots */
  mp_producer producer;
  void *ud;
  size_t chunksize, max_in_flight, cap;
  int unordered;
  size_t pulled;           /* inputs taken from the producer */
  size_t handed;           /* results given to the caller */
  int producer_done;
  int producer_error;
  uint8_t *slot_state;     /* per ring slot: SLOT_FREE, SLOT_FLYING, SLOT_READY */
  size_t *order;           /* unordered: completion order, a ring */
  size_t order_head, order_tail;
  size_t known_free;       /* slots from `pulled` on already seen free */
  mp_slice *items;         /* one chunk's inputs, as pulled */
  size_t *offsets;
};

/* Wakes the scheduler; lock held. (events lets it notice a wake that
 * came while it had the lock released.) */
static void poke_scheduler(mp_pool *p) {
  p->events++;
  mp__cond_broadcast(p->cond);
}

/* Wakes callers waiting for a result, an imap item or the pool's end;
 * lock held. Kept apart from the scheduler's wakes so that a result that
 * only the scheduler cares about does not wake every waiting caller, nor
 * one a caller waits for the scheduler. */
static void wake_waiters(mp_pool *p) { mp__cond_broadcast(p->waiters); }

static void poke(mp_pool *p) {
  poke_scheduler(p);
  wake_waiters(p);
}

/* ================================================================ chunks */
static void chunk_free(chunk *c) {
  if (!c) return;
  mp__buf_release(&c->payload);
  free(c);
}

static void pending_push_back(mp_pool *p, chunk *c) {
  c->next = NULL;
  if (p->pending_tail)
    p->pending_tail->next = c;
  else
    p->pending = c;
  p->pending_tail = c;
  p->npending++;
}

/* Requeued chunks go first: they were taken before anything queued now. */
static void pending_push_front_list(mp_pool *p, chunk *first, chunk *last, size_t n) {
  if (!first) return;
  last->next = p->pending;
  p->pending = first;
  if (!p->pending_tail) p->pending_tail = last;
  p->npending += n;
}

static chunk *pending_pop(mp_pool *p) {
  chunk *c = p->pending;
  if (!c) return NULL;
  p->pending = c->next;
  if (!p->pending) p->pending_tail = NULL;
  p->npending--;
  c->next = NULL;
  return c;
}

/* ================================================================== jobs */
static void job_release(job *j) {
  if (!j || j->user_ref || j->pool_ref) return;
  if (j->owns_results && j->results) {
    for (size_t i = 0; i < j->n; i++) mp_result_clear(&j->results[i]);
    free(j->results);
  }
  free(j);
}

static void job_mark_completed(mp_pool *p, job *j) {
  if (j->completed || j->outcomes < j->n || j->kind == JOB_IMAP) return;
  j->completed = 1;
  if (!j->cb && !j->progress) {
    /* No user code to run on the scheduler's thread: ready now, which
     * spares a waiter the hop through the scheduler. */
    mp__atomic_store32(&j->ready, 1);
    j->pool_ref = 0;
    wake_waiters(p);
    job_release(j);
    return;
  }
  j->next_done = p->done_jobs;
  p->done_jobs = j;
}

/* Queues j's progress report for the scheduler's thread. Lock held. */
static void note_progress(job *j) {
  if (j->progress && !j->progress_queued) {
    j->progress_queued = 1;
    j->next_progress = j->pool->progress_jobs;
    j->pool->progress_jobs = j;
  }
}

/* Records item i's outcome. With the lock held. */
static void job_deliver(job *j, size_t index, int status, int code, const char *message, const void *data,
                        size_t len) {
  size_t i = j->kind == JOB_IMAP ? index % j->iter->cap : index; /* imap keeps a ring */
  if (status == MP_OK && j->fixed_out && len != j->out_size) {
    status = MP_EINVAL;
    message = "the task returned a result of the wrong size for mp_pool_map";
  }
  if (j->fixed_out && status == MP_OK) memcpy((uint8_t *)j->fixed_out + i * j->out_size, data, len);
  if (j->results) {
    mp_result *r = &j->results[i];
    mp_result_clear(r);
    r->status = status;
    r->task_code = code;
    if (message) r->message = mp__strdup(message);
    if (status == MP_OK && !(j->fixed_out)) {
      r->data = malloc(len ? len : 1);
      if (r->data) {
        if (len) memcpy(r->data, data, len);
        r->len = len;
      } else {
        r->status = MP_ENOMEM;
      }
    }
  }
  if (status != MP_OK && j->kind != JOB_IMAP && i < j->first_fail) {
    j->first_fail = i;
    j->first_fail_status = status;
  }
  note_progress(j);
  if (j->kind == JOB_IMAP) {
    mp_iter *it = j->iter;
    it->slot_state[i] = SLOT_READY;
    if (it->unordered) it->order[it->order_tail++ % it->cap] = index;
    wake_waiters(j->pool);
  }
  j->outcomes++;
}

/* Every item of a chunk that will not run gets status and message. */
static void chunk_fail(mp_pool *p, chunk *c, int status, int code, const char *message) {
  if (!c->cancelled)
    for (size_t k = 0; k < c->n; k++) job_deliver(c->job, c->first + k, status, code, message, NULL, 0);
  else
    c->job->outcomes += c->n;
  job_mark_completed(p, c->job);
}

/* ============================================================== workers */
static void reader_main(void *arg);

static void worker_free(worker *w) {
  if (!w) return;
  mp__handle_close(w->task_wr);
  mp__handle_close(w->result_rd);
  mp__child_free(w->child);
  free(w->init_failure);
  free(w);
}

/* Starts the worker for slot; the lock is not held. */
static int worker_start(mp_pool *p, int slot, worker **out) {
  worker *w = calloc(1, sizeof *w);
  mp__handle task_rd = MP__NO_HANDLE, result_wr = MP__NO_HANDLE;
  if (!w) return mp__set_error(MP_ENOMEM, "pool: out of memory");
  w->pool = p;
  w->slot = slot;
  w->task_wr = w->result_rd = MP__NO_HANDLE;
  int rc = mp__pipe(&task_rd, &w->task_wr);
  if (rc == MP_OK) rc = mp__pipe(&w->result_rd, &result_wr);
  if (rc == MP_OK) {
    mp__launch_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.method = p->method;
    spec.role = MP__ROLE_POOL_WORKER;
    spec.worker_id = slot;
    spec.task = p->initializer;
    spec.arg = p->initarg;
    spec.arg_len = p->initarg_len;
    spec.objects = p->objects;
    spec.nobjects = p->nobjects;
    spec.result_wr = result_wr;
    spec.tasks_rd = task_rd;
    spec.max_tasks = p->max_tasks;
    rc = mp__launch(&spec, &w->child);
  }
  mp__handle_close(task_rd);
  mp__handle_close(result_wr);
  if (rc == MP_OK) {
    w->pid = mp__child_pid(w->child);
    rc = mp__thread_start(&w->reader, reader_main, w);
  }
  if (rc != MP_OK) {
    worker_free(w);
    return rc;
  }
  *out = w;
  return MP_OK;
}

static chunk *held_find(worker *w, uint64_t id, chunk **prev) {
  *prev = NULL;
  for (chunk *c = w->held; c; *prev = c, c = c->next)
    if (c->id == id) return c;
  return NULL;
}

typedef struct deliver_ctx {
  chunk *c;
} deliver_ctx;

static void deliver_one(void *ud, uint32_t i, const mp__outcome *o) {
  deliver_ctx *d = ud;
  if (d->c->cancelled) {
    d->c->job->outcomes++;
    return;
  }
  job_deliver(d->c->job, d->c->first + i, o->status, o->task_code, o->message, o->data, o->len);
}

/* A CHUNK frame arrived: record it, retire the chunk. With the lock held. */
static void take_chunk_result(worker *w, uint64_t id, const uint8_t *body, size_t len) {
  mp_pool *p = w->pool;
  chunk *prev, *c = held_find(w, id, &prev);
  if (!c) return; /* a chunk we no longer track (cannot happen) */
  deliver_ctx d = {c};
  size_t before = c->job->outcomes;
  job *j = c->job;
  const uint8_t *packed;
  size_t size;
  if (j->kind == JOB_MAP && j->fixed_out && !j->results && !c->cancelled &&
      mp__chunk_packed(body, len, (uint32_t)c->n, &packed, &size) && size == j->out_size) {
    /* A blocking fixed-size map, every item OK: one copy for the chunk. */
    if (c->n && size) memcpy((uint8_t *)j->fixed_out + c->first * size, packed, c->n * size);
    j->outcomes += c->n;
    note_progress(j);
  } else if (mp__chunk_decode(body, len, (uint32_t)c->n, deliver_one, &d) != MP_OK) {
    /* A worker that sends garbage: the rest of the chunk fails. */
    size_t got = c->job->outcomes - before;
    for (size_t k = got; k < c->n; k++)
      if (!c->cancelled) job_deliver(c->job, c->first + k, MP_EPROTO, 0, "malformed result from the worker", NULL, 0);
      else c->job->outcomes++;
  }
  job_mark_completed(p, c->job);
  if (prev)
    prev->next = c->next;
  else
    w->held = c->next;
  if (w->held_tail == c) w->held_tail = prev;
  w->nheld--;
  if (w->held) w->held->started = mp__now();
  /* Its payload may still be inside a write (see assign): then the
   * scheduler frees it later. */
  if (c->in_write) {
    c->next = p->retired;
    p->retired = c;
  } else {
    chunk_free(c);
  }
}

static void assign(mp_pool *p, int idle_only, worker *only);

/* A live worker that holds nothing: pending work must go to it, and only
 * the scheduler (or a caller) gives work to a worker that sends nothing. */
static int has_idle_worker(mp_pool *p) {
  for (int i = 0; i < p->nworkers; i++) {
    worker *w = p->workers[i];
    if (w && !w->dead && !w->why_killed && !w->writing && w->nheld == 0) return 1;
  }
  return 0;
}

static void reader_main(void *arg) {
  worker *w = arg;
  mp_pool *p = w->pool;
  mp__frame_reader r;
  mp__frame_reader_init(&r, w->result_rd, MP__POOL_FRAME_MAX);
  /* This thread is the result pipe's only reader, and it always waits. */
  (void)mp__handle_reads_block(w->result_rd);
  for (;;) {
    mp__frame_header h;
    void *body = NULL;
    int rc = mp__frame_read_header(&r, MP_FOREVER, &h);
    if (rc == MP_OK) rc = mp__frame_read_body(&r, NULL, MP_FOREVER, &body);
    if (rc != MP_OK) break;
    mp__mutex_lock(p->lock);
    int tell_scheduler = 1;
    if (h.type == MP__FRAME_CHUNK) {
      take_chunk_result(w, h.id, body, (size_t)h.len);
      /* Give this worker its next chunks from here: in a long map the
       * scheduler then sleeps, and a result costs no wake-up but the
       * worker's. It is needed only for what this thread does not do. */
      if (p->pending && p->state != POOL_TERMINATING) assign(p, 0, w);
      tell_scheduler = p->done_jobs || p->progress_jobs || p->retired || p->state != POOL_RUNNING ||
                       p->task_timeout > 0 || (p->pending && has_idle_worker(p));
    } else if (h.type == MP__FRAME_RESULT && !w->init_failure) {
      mp_result res;
      if (mp__result_decode(body, (size_t)h.len, &res) == MP_OK) {
        w->init_failure = mp__strdup(res.message ? res.message : "the initializer failed");
        w->init_code = res.task_code;
        mp_result_clear(&res);
      }
    }
    if (tell_scheduler) poke_scheduler(p);
    mp__mutex_unlock(p->lock);
    free(body);
  }
  mp__frame_reader_release(&r);
  mp__mutex_lock(p->lock);
  w->dead = 1;
  poke_scheduler(p);
  mp__mutex_unlock(p->lock);
}

/* ============================================================ scheduler */
static size_t live_workers(mp_pool *p) {
  size_t n = 0;
  for (int i = 0; i < p->nworkers; i++) n += p->workers[i] != NULL;
  return n;
}

static void fail_pending(mp_pool *p, int status, int code, const char *message) {
  chunk *c;
  while ((c = pending_pop(p))) {
    chunk_fail(p, c, status, code, message);
    chunk_free(c);
  }
}

/* Takes a dead worker out of its slot: fails what it was running,
 * requeues what it had not started. Lock held on entry and exit; released
 * while it reaps. */
static void bury(mp_pool *p, worker *w) {
  p->workers[w->slot] = NULL;
  mp__mutex_unlock(p->lock);
  mp__thread_join(w->reader);
  w->reader = NULL;
  int code = 0;
  mp__child_signal(w->child, MP__SIG_KILL); /* its pipe closed: make sure */
  mp__child_wait(w->child, MP_FOREVER, &code);
  mp__mutex_lock(p->lock);
  chunk *running = w->held;
  if (running) {
    char text[256];
    int status = MP_ECRASHED;
    if (w->init_failure) {
      status = MP_ETASK;
      snprintf(text, sizeof text, "%s", w->init_failure);
    } else if (w->why_killed == WHY_TIMEOUT) {
      status = MP_ETIMEDOUT;
      snprintf(text, sizeof text, "task \"%s\" ran past the pool's task_timeout of %g s; its worker was killed",
               running->job->task, p->task_timeout);
    } else if (w->why_killed == WHY_CANCEL || w->why_killed == WHY_TERMINATE) {
      status = MP_ECANCELLED;
      snprintf(text, sizeof text, "cancelled while running; its worker was killed");
    } else if (code < 0) {
      snprintf(text, sizeof text, "worker %d (pid %lld) was killed by signal %d while running task \"%s\"",
               w->slot, (long long)w->pid, -code, running->job->task);
    } else {
      snprintf(text, sizeof text, "worker %d (pid %lld) exited with code %d while running task \"%s\"", w->slot,
               (long long)w->pid, code, running->job->task);
    }
    chunk_fail(p, running, status, w->init_failure ? w->init_code : 0, text);
    w->held = running->next;
    chunk_free(running);
    /* The rest never started: run them elsewhere (or fail them all when
     * the pool is going away or cannot run anything). */
    size_t n = 0;
    chunk *last = NULL;
    for (chunk *c = w->held; c; c = c->next) {
      n++;
      last = c;
    }
    if (p->state == POOL_TERMINATING) {
      for (chunk *c = w->held, *next; c; c = next) {
        next = c->next;
        chunk_fail(p, c, MP_ECANCELLED, 0, "the pool was terminated");
        chunk_free(c);
      }
    } else {
      /* Requeue, except chunks cancelled while they waited here. */
      chunk *keep = NULL, *keep_tail = NULL;
      n = 0;
      for (chunk *c = w->held, *next; c; c = next) {
        next = c->next;
        c->next = NULL;
        if (c->cancelled) {
          c->job->outcomes += c->n;
          job_mark_completed(p, c->job);
          chunk_free(c);
          continue;
        }
        if (c->job->cancel_requested) {
          /* Cancelled while this worker was being reaped, when no list
           * showed where the chunk was. */
          chunk_fail(p, c, MP_ECANCELLED, 0, "cancelled before it ran");
          chunk_free(c);
          continue;
        }
        if (keep_tail)
          keep_tail->next = c;
        else
          keep = c;
        keep_tail = c;
        n++;
      }
      pending_push_front_list(p, keep, keep_tail, n);
      (void)last;
    }
    w->held = w->held_tail = NULL;
  }
  if (w->init_failure && !p->broken) {
    p->broken = mp__strdup(w->init_failure);
    p->broken_status = MP_ETASK;
    p->broken_code = w->init_code;
  }
  mp__mutex_unlock(p->lock);
  worker_free(w);
  mp__mutex_lock(p->lock);
}

/* Fills empty slots while there is reason to. Lock held; released while
 * each worker starts. */
static void replace_workers(mp_pool *p) {
  for (int i = 0; i < p->nworkers; i++) {
    if (p->workers[i] || p->broken || p->state == POOL_TERMINATING || p->state == POOL_DONE) continue;
    if (p->state == POOL_CLOSED && p->npending == 0) continue;
    mp__mutex_unlock(p->lock);
    worker *w = NULL;
    int rc = worker_start(p, i, &w);
    mp__mutex_lock(p->lock);
    if (rc == MP_OK) {
      p->workers[i] = w;
      p->start_failures = 0;
      continue;
    }
    snprintf(p->start_error, sizeof p->start_error, "%s", mp_last_error());
    /* With no worker left and none startable, fail the work, never hang. */
    if (++p->start_failures >= 3 && live_workers(p) == 0) {
      char text[320];
      snprintf(text, sizeof text, "the pool could not start a worker: %s", p->start_error);
      fail_pending(p, MP_ESYS, 0, text);
    }
    return;
  }
}

typedef struct send_order {
  worker *w;
  chunk *c;
} send_order;

/* Hands pending chunks to workers with room; with idle_only, one chunk
 * to each worker that holds none (what a caller's thread does right after
 * it queues work, so a task reaches an idle worker without waking the
 * scheduler first). Lock held; released while the frames are written. */
static void assign(mp_pool *p, int idle_only, worker *only) {
  send_order orders[64];
  size_t norders = 0;
  int progress = 1;
  while (progress && p->pending && norders < 64) {
    progress = 0;
    for (int i = 0; i < p->nworkers && p->pending && norders < 64; i++) {
      worker *w = p->workers[i];
      if (!w || w->dead || w->why_killed || w->writing || w->nheld >= PREFETCH || w->task_wr == MP__NO_HANDLE)
        continue;
      if ((idle_only && w->nheld) || (only && w != only)) continue;
      if (p->max_tasks && w->assigned >= p->max_tasks) continue;
      /* A large chunk goes only to an idle worker, so its write never
       * waits behind a long task. */
      if (w->nheld && p->pending->payload.len > 32 * 1024) continue;
      chunk *c = pending_pop(p);
      c->next = NULL;
      if (w->held_tail)
        w->held_tail->next = c;
      else
        w->held = c;
      w->held_tail = c;
      if (w->held == c) c->started = mp__now();
      w->nheld++;
      w->assigned++;
      orders[norders].w = w;
      orders[norders].c = c;
      norders++;
      progress = 1;
    }
  }
  if (!norders) return;
  /* While the lock is released: a worker marked writing is not buried
   * (so it and the chunks it holds stay), and no other thread writes to
   * it, so frames never interleave. A chunk whose result comes back
   * before write() returns is retired, not freed, and its bytes are no
   * longer read by then. */
  for (size_t i = 0; i < norders; i++) {
    orders[i].w->writing = 1;
    orders[i].c->in_write = 1;
  }
  mp__mutex_unlock(p->lock);
  for (size_t i = 0; i < norders; i++) {
    chunk *c = orders[i].c;
    if (mp__frame_write(orders[i].w->task_wr, MP__FRAME_TASK, c->id, c->payload.data, c->payload.len, NULL, 0) !=
        MP_OK) {
      /* The worker is gone; its reader will see the end and we bury it. */
      mp__child_signal(orders[i].w->child, MP__SIG_KILL);
    }
  }
  mp__mutex_lock(p->lock);
  int died = 0;
  for (size_t i = 0; i < norders; i++) {
    orders[i].w->writing = 0;
    orders[i].c->in_write = 0;
    died |= orders[i].w->dead;
  }
  /* While we wrote, the scheduler skipped these workers: one that died
   * was left for us to report, and pending work was not given to them (and
   * every result it was waiting for may have come in meanwhile). Wake it,
   * or it may sleep with work pending and nothing left to wake it. */
  if (died || p->pending) poke_scheduler(p);
}

/* Kills workers whose running chunk is past its time. Returns the time of
 * the next deadline, or -1. Lock held. */
static double enforce_timeouts(mp_pool *p) {
  if (p->task_timeout <= 0) return -1;
  double now = mp__now(), next = -1;
  for (int i = 0; i < p->nworkers; i++) {
    worker *w = p->workers[i];
    if (!w || !w->held || w->why_killed) continue;
    double due = w->held->started + p->task_timeout * (double)w->held->n;
    if (due <= now) {
      w->why_killed = WHY_TIMEOUT;
      mp__child_signal(w->child, MP__SIG_KILL);
    } else if (next < 0 || due < next) {
      next = due;
    }
  }
  return next;
}

/* Runs callbacks and progress reports outside the lock, in completion
 * order per job. Lock held on entry and exit. */
static void run_callbacks(mp_pool *p) {
  /* Progress first: a job is released only after its completion below. */
  while (p->progress_jobs) {
    job *j = p->progress_jobs;
    p->progress_jobs = j->next_progress;
    j->progress_queued = 0;
    size_t done = j->outcomes, total = j->n;
    mp__mutex_unlock(p->lock);
    j->progress(done, total, j->progress_ud);
    mp__mutex_lock(p->lock);
  }
  while (p->done_jobs) {
    job *j = p->done_jobs;
    p->done_jobs = j->next_done;
    mp_callback cb = j->cb;
    mp__mutex_unlock(p->lock);
    if (cb) cb((mp_async *)j, j->ud);
    mp__mutex_lock(p->lock);
    mp__atomic_store32(&j->ready, 1);
    j->pool_ref = 0;
    wake_waiters(p);
    job_release(j);
  }
}

static int all_idle(mp_pool *p) {
  for (int i = 0; i < p->nworkers; i++)
    if (p->workers[i] && p->workers[i]->nheld) return 0;
  return 1;
}

/* Frees the chunks whose results are in, except one still inside the
 * write that sent it: a worker can answer a small frame before write()
 * has returned to its caller. Lock held. */
static void free_retired(mp_pool *p) {
  chunk **link = &p->retired;
  while (*link) {
    chunk *c = *link;
    if (c->in_write) {
      link = &c->next;
      continue;
    }
    *link = c->next;
    chunk_free(c);
  }
}

static void scheduler_main(void *arg) {
  mp_pool *p = arg;
  mp__mutex_lock(p->lock);
  for (;;) {
    unsigned seen = p->events;
    free_retired(p);
    for (int i = 0; i < p->nworkers; i++)
      if (p->workers[i] && p->workers[i]->dead && !p->workers[i]->writing) bury(p, p->workers[i]);
    if (p->broken) fail_pending(p, p->broken_status, p->broken_code, p->broken);
    if (p->state == POOL_TERMINATING) {
      fail_pending(p, MP_ECANCELLED, 0, "the pool was terminated");
      for (int i = 0; i < p->nworkers; i++) {
        worker *w = p->workers[i];
        if (w && !w->why_killed) {
          w->why_killed = WHY_TERMINATE;
          mp__child_signal(w->child, MP__SIG_KILL);
        }
      }
    } else {
      replace_workers(p);
      assign(p, 0, NULL);
    }
    double due = enforce_timeouts(p);
    run_callbacks(p);
    /* Closed and drained: close the task pipes, and workers exit. */
    if (p->state == POOL_CLOSED && !p->pending && all_idle(p)) {
      for (int i = 0; i < p->nworkers; i++) {
        worker *w = p->workers[i];
        if (w && w->task_wr != MP__NO_HANDLE) {
          mp__handle_close(w->task_wr);
          w->task_wr = MP__NO_HANDLE;
        }
      }
    }
    if ((p->state == POOL_CLOSED || p->state == POOL_TERMINATING) && live_workers(p) == 0 && !p->pending &&
        !p->done_jobs) {
      p->state = POOL_DONE;
      poke(p);
      break;
    }
    int more = p->done_jobs != NULL || p->progress_jobs != NULL || p->events != seen;
    for (int i = 0; i < p->nworkers && !more; i++) more = p->workers[i] && p->workers[i]->dead && !p->workers[i]->writing;
    if (more) continue;
    mp__cond_wait(p->cond, p->lock, due < 0 ? (p->start_failures ? 0.05 : MP_FOREVER) : due - mp__now());
  }
  mp__mutex_unlock(p->lock);
}

/* ============================================================ creation */
static void pool_destroy(mp_pool *p) {
  if (!p) return;
  while (p->retired) {
    chunk *c = p->retired;
    p->retired = c->next;
    chunk_free(c);
  }
  for (int i = 0; p->workers && i < p->nworkers; i++) worker_free(p->workers[i]);
  free(p->workers);
  free(p->initarg);
  free(p->objects);
  free(p->broken);
  mp__cond_free(p->cond);
  mp__cond_free(p->waiters);
  mp__mutex_free(p->lock);
  free(p);
}

static int check_pool_options(const mp_pool_options *o) {
  if (!o) return MP_OK;
  if (o->workers < 0 || o->workers > MAX_WORKERS)
    return mp__set_error(MP_EINVAL, "mp_pool_create: workers must be 0..%d", MAX_WORKERS);
  if (o->initarg_len && !o->initarg) return mp__set_error(MP_EINVAL, "mp_pool_create: initarg is NULL");
  if (o->initarg_len > MP_MAX_MESSAGE) return mp__set_error(MP_ETOOBIG, "mp_pool_create: initarg too large");
  if (o->task_timeout < 0 || o->task_timeout != o->task_timeout)
    return mp__set_error(MP_EINVAL, "mp_pool_create: task_timeout must be >= 0");
  if (o->initializer && (strlen(o->initializer) > MP__TASK_NAME_MAX || !mp__task_lookup(o->initializer)))
    return mp__set_error(MP_ENOTASK, "mp_pool_create: no task registered as \"%.63s\" (the initializer)",
                         o->initializer);
  return mp__objects_check("mp_pool_create", o->objects, o->nobjects);
}

int mp_pool_create(mp_pool **out, const mp_pool_options *opts) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_pool_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_pool_create");
  if (rc == MP_OK) rc = check_pool_options(opts);
  if (rc != MP_OK) return rc;
  mp_pool *p = calloc(1, sizeof *p);
  if (!p) return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  p->nworkers = opts && opts->workers ? opts->workers : mp_cpu_count();
  if ((rc = mp__resolve_method(opts ? opts->start_method : MP_START_DEFAULT, &p->method)) != MP_OK) goto fail;
  if (opts && opts->initializer) strcpy(p->initializer, opts->initializer);
  p->max_tasks = opts ? opts->max_tasks_per_child : 0;
  p->task_timeout = opts ? opts->task_timeout : 0;
  if (opts && opts->initarg_len) {
    if (!(p->initarg = malloc(opts->initarg_len))) goto nomem;
    memcpy(p->initarg, opts->initarg, opts->initarg_len);
    p->initarg_len = opts->initarg_len;
  }
  if (opts && opts->nobjects) {
    if (!(p->objects = malloc(opts->nobjects * sizeof *p->objects))) goto nomem;
    memcpy(p->objects, opts->objects, opts->nobjects * sizeof *p->objects);
    p->nobjects = opts->nobjects;
  }
  if (!(p->workers = calloc((size_t)p->nworkers, sizeof *p->workers))) goto nomem;
  if ((rc = mp__mutex_new(&p->lock)) != MP_OK || (rc = mp__cond_new(&p->cond)) != MP_OK ||
      (rc = mp__cond_new(&p->waiters)) != MP_OK)
    goto fail;
  /* All workers now, so a failure (RLIMIT_NPROC, say) leaves no half pool. */
  for (int i = 0; i < p->nworkers; i++)
    if ((rc = worker_start(p, i, &p->workers[i])) != MP_OK) goto fail_workers;
  if ((rc = mp__thread_start(&p->scheduler, scheduler_main, p)) != MP_OK) goto fail_workers;
  *out = p;
  return MP_OK;
nomem:
  rc = mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  goto fail;
fail_workers: {
  char keep[512];
  snprintf(keep, sizeof keep, "%s", mp_last_error());
  for (int i = 0; i < p->nworkers; i++) {
    worker *w = p->workers[i];
    if (!w) continue;
    mp__child_signal(w->child, MP__SIG_KILL);
    mp__thread_join(w->reader); /* ends at the EOF of the killed worker */
    w->reader = NULL;
  }
  mp__set_error(rc, "%s", keep);
}
fail:
  pool_destroy(p);
  return rc;
}

/* ========================================================== submitting */
static job *job_new(mp_pool *p, int kind, const char *task, size_t n) {
  job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->pool = p;
  j->kind = kind;
  strcpy(j->task, task);
  j->n = n;
  j->first_fail = n;
  j->first_fail_status = MP_OK;
  j->pool_ref = 1;
  return j;
}

static int check_task(const char *api, const char *task) {
  if (!task) return mp__set_error(MP_EINVAL, "%s: task is NULL", api);
  if (strlen(task) > MP__TASK_NAME_MAX || !mp__task_lookup(task))
    return mp__set_error(MP_ENOTASK, "%s: no task registered as \"%.63s\"", api, task);
  return MP_OK;
}

static size_t default_chunksize(const mp_pool *p, size_t n) {
  /* Python's rule: about four chunks per worker. */
  size_t per = (size_t)p->nworkers * 4;
  size_t c = n / per + (n % per != 0);
  return c ? c : 1;
}

/* Builds the chunks of a job over items [0, n) and queues them. Inputs:
 * packed (n * in_size bytes) or slices. */
static int submit(mp_pool *p, job *j, size_t chunksize, const void *packed, size_t in_size,
                  const mp_slice *slices, size_t first_index) {
  chunk *first = NULL, *last = NULL;
  size_t nchunks = 0;
  if (chunksize > MP__MAX_CHUNK_ITEMS) chunksize = MP__MAX_CHUNK_ITEMS;
  for (size_t at = 0; at < j->n - first_index; at += chunksize) {
    size_t count = j->n - first_index - at < chunksize ? j->n - first_index - at : chunksize;
    chunk *c = calloc(1, sizeof *c);
    if (!c) goto nomem;
    c->job = j;
    c->first = first_index + at;
    c->n = count;
    mp__buf_init(&c->payload);
    mp__task_chunk_encode_head(&c->payload, j->task, c->first, (uint32_t)count, packed != NULL, in_size);
    if (packed) {
      mp__buf_put(&c->payload, (const uint8_t *)packed + at * in_size, count * in_size);
    } else {
      for (size_t k = 0; k < count; k++) mp__buf_put_bytes(&c->payload, slices[at + k].data, slices[at + k].len);
    }
    if (c->payload.failed || c->payload.len > MP__POOL_FRAME_MAX) {
      int too_big = !c->payload.failed;
      chunk_free(c);
      if (too_big) {
        while (first) {
          chunk *next = first->next;
          chunk_free(first);
          first = next;
        }
        return mp__set_error(MP_ETOOBIG, "a chunk of work is over MP_MAX_MESSAGE: use a smaller chunksize");
      }
      goto nomem;
    }
    c->next = NULL;
    if (last)
      last->next = c;
    else
      first = c;
    last = c;
    nchunks++;
  }
  mp__mutex_lock(p->lock);
  if (p->state != POOL_RUNNING) {
    mp__mutex_unlock(p->lock);
    while (first) {
      chunk *next = first->next;
      chunk_free(first);
      first = next;
    }
    return mp__set_error(MP_ESTATE, "the pool is closed: no new work");
  }
  for (chunk *c = first, *next; c; c = next) {
    next = c->next;
    c->id = ++p->next_chunk_id;
    pending_push_back(p, c);
  }
  if (j->n == first_index) job_mark_completed(p, j); /* nothing to run */
  assign(p, 1, NULL);
  /* The scheduler is needed only for what is left: chunks no idle worker
   * took, a completion to report, or a new deadline to watch. */
  if (p->pending || p->done_jobs || p->task_timeout > 0) poke_scheduler(p);
  mp__mutex_unlock(p->lock);
  return MP_OK;
nomem:
  while (first) {
    chunk *next = first->next;
    chunk_free(first);
    first = next;
  }
  return mp__set_error(MP_ENOMEM, "out of memory queueing work");
}

/* Waits until j is ready. A short task's result usually arrives within a
 * few microseconds: look for it (yielding the CPU to the pool's reader
 * thread) before sleeping, which saves the wake-up of a sleeping waiter. */
#define READY_SPIN_SECONDS 50e-6
static int job_wait(job *j, double timeout) {
  mp_pool *p = j->pool;
  double deadline = mp__deadline(timeout);
  if (timeout != 0) {
    double spin_end = mp__now() + READY_SPIN_SECONDS;
    while (!mp__atomic_load32(&j->ready) && mp__now() < spin_end) mp__yield();
  }
  mp__mutex_lock(p->lock);
  while (!j->ready) {
    double left = mp__remaining(deadline);
    if (left == 0) {
      mp__mutex_unlock(p->lock);
      return mp__set_error(MP_ETIMEDOUT, "the result is not ready yet");
    }
    mp__cond_wait(p->waiters, p->lock, left);
  }
  mp__mutex_unlock(p->lock);
  return MP_OK;
}

/* Drops the caller's reference. */
static void job_unref(job *j) {
  mp_pool *p = j->pool;
  mp__mutex_lock(p->lock);
  j->user_ref = 0;
  job_release(j);
  mp__mutex_unlock(p->lock);
}

/* The rest of an async job over the slices in (j->n of them): its own
 * results, its callback, the caller's handle if it wants one. On failure
 * the job is gone. */
static int submit_async(mp_pool *p, job *j, size_t chunksize, const mp_slice *in, mp_callback cb, void *ud,
                        mp_async **out, const char *api) {
  if (!(j->results = calloc(j->n ? j->n : 1, sizeof *j->results))) {
    free(j);
    return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  }
  j->owns_results = 1;
  j->cb = cb;
  j->ud = ud;
  j->user_ref = out != NULL;
  int rc = submit(p, j, chunksize, NULL, 0, in, 0);
  if (rc != MP_OK) {
    j->user_ref = j->pool_ref = 0;
    job_release(j);
    return rc;
  }
  if (out) *out = (mp_async *)j;
  return MP_OK;
}

int mp_pool_apply_async(mp_pool *p, const char *task, const void *arg, size_t len, mp_callback cb, void *ud,
                        mp_async **out) {
  if (out) *out = NULL;
  if (!p || (!arg && len)) return mp__set_error(MP_EINVAL, "mp_pool_apply_async: NULL argument");
  int rc = check_task("mp_pool_apply_async", task);
  if (rc != MP_OK) return rc;
  if (len > MP_MAX_MESSAGE) return mp__set_error(MP_ETOOBIG, "mp_pool_apply_async: argument over MP_MAX_MESSAGE");
  job *j = job_new(p, JOB_APPLY, task, 1);
  if (!j) return mp__set_error(MP_ENOMEM, "mp_pool_apply_async: out of memory");
  mp_slice one = {arg, len};
  return submit_async(p, j, 1, &one, cb, ud, out, "mp_pool_apply_async");
}

int mp_pool_apply(mp_pool *p, const char *task, const void *arg, size_t len, mp_result *res) {
  if (res) memset(res, 0, sizeof *res);
  if (!res) return mp__set_error(MP_EINVAL, "mp_pool_apply: res is NULL");
  mp_async *a = NULL;
  int rc = mp_pool_apply_async(p, task, arg, len, NULL, NULL, &a);
  if (rc != MP_OK) return rc;
  job *j = (job *)a;
  job_wait(j, MP_FOREVER);
  *res = j->results[0]; /* hand the bytes over, no copy */
  memset(&j->results[0], 0, sizeof j->results[0]);
  job_unref(j);
  return MP_OK;
}

static int map_common(mp_pool *p, const char *api, const char *task, size_t n, const mp_map_options *opts,
                      job **out) {
  *out = NULL;
  if (!p) return mp__set_error(MP_EINVAL, "%s: pool is NULL", api);
  int rc = check_task(api, task);
  if (rc != MP_OK) return rc;
  job *j = job_new(p, JOB_MAP, task, n);
  if (!j) return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  if (opts) {
    j->progress = opts->progress;
    j->progress_ud = opts->progress_ud;
  }
  j->user_ref = 1;
  *out = j;
  return MP_OK;
}

/* A blocking map after its submit (which gave rc): waits for every item,
 * then answers with the lowest-index failure's status. */
static int run_blocking(mp_pool *p, job *j, int rc) {
  (void)p;
  if (rc != MP_OK) {
    j->user_ref = j->pool_ref = 0;
    job_release(j);
    return rc;
  }
  job_wait(j, MP_FOREVER);
  rc = j->first_fail_status;
  job_unref(j);
  return rc;
}

static size_t pick_chunksize(mp_pool *p, size_t n, const mp_map_options *opts) {
  return opts && opts->chunksize ? opts->chunksize : default_chunksize(p, n);
}

int mp_pool_map(mp_pool *p, const char *task, const void *in, size_t in_size, size_t n, void *out, size_t out_size,
                const mp_map_options *opts) {
  if ((n && (!in || !out)) || (n && (in_size == 0 && 0)))
    return mp__set_error(MP_EINVAL, "mp_pool_map: NULL in or out");
  if (n && (in_size > MP_MAX_MESSAGE || out_size > MP_MAX_MESSAGE))
    return mp__set_error(MP_ETOOBIG, "mp_pool_map: items over MP_MAX_MESSAGE");
  if (n && (SIZE_MAX / n < in_size || SIZE_MAX / n < out_size))
    return mp__set_error(MP_EINVAL, "mp_pool_map: n * size overflows");
  job *j;
  int rc = map_common(p, "mp_pool_map", task, n, opts, &j);
  if (rc != MP_OK) return rc;
  j->fixed_out = out;
  j->out_size = out_size;
  if (opts && opts->results) {
    j->results = opts->results;
    memset(j->results, 0, n * sizeof *j->results);
  }
  return run_blocking(p, j, submit(p, j, pick_chunksize(p, n, opts), n ? in : "", in_size, NULL, 0));
}

int mp_pool_map_slices(mp_pool *p, const char *task, const mp_slice *in, size_t n, mp_result *out,
                       const mp_map_options *opts) {
  if (n && (!in || !out)) return mp__set_error(MP_EINVAL, "mp_pool_map_slices: NULL in or out");
  for (size_t i = 0; i < n; i++)
    if ((!in[i].data && in[i].len) || in[i].len > MP_MAX_MESSAGE)
      return mp__set_error(MP_EINVAL, "mp_pool_map_slices: item %llu is NULL or too large", (unsigned long long)i);
  job *j;
  int rc = map_common(p, "mp_pool_map_slices", task, n, opts, &j);
  if (rc != MP_OK) return rc;
  j->results = out;
  memset(out, 0, n * sizeof *out);
  return run_blocking(p, j, submit(p, j, pick_chunksize(p, n, opts), NULL, 0, in, 0));
}

int mp_pool_map_async(mp_pool *p, const char *task, const mp_slice *in, size_t n, const mp_map_options *opts,
                      mp_callback cb, void *ud, mp_async **out) {
  if (out) *out = NULL;
  if (n && !in) return mp__set_error(MP_EINVAL, "mp_pool_map_async: in is NULL");
  for (size_t i = 0; i < n; i++)
    if ((!in[i].data && in[i].len) || in[i].len > MP_MAX_MESSAGE)
      return mp__set_error(MP_EINVAL, "mp_pool_map_async: item %llu is NULL or too large", (unsigned long long)i);
  job *j;
  int rc = map_common(p, "mp_pool_map_async", task, n, opts, &j);
  if (rc != MP_OK) return rc;
  return submit_async(p, j, pick_chunksize(p, n, opts), in, cb, ud, out, "mp_pool_map_async");
}

/* ================================================================ async */
int mp_async_wait(mp_async *a, double timeout) {
  if (!a) return mp__set_error(MP_EINVAL, "mp_async_wait: NULL");
  return job_wait((job *)a, timeout);
}

int mp_async_ready(mp_async *a) {
  if (!a) return 0;
  job *j = (job *)a;
  mp__mutex_lock(j->pool->lock);
  int r = j->ready;
  mp__mutex_unlock(j->pool->lock);
  return r;
}

/* Every outcome is in: what mp_async_result may show, also to the job's
 * own callback, which runs before the job counts as ready. */
static int job_has_results(job *j) {
  mp__mutex_lock(j->pool->lock);
  int r = j->completed || j->ready;
  mp__mutex_unlock(j->pool->lock);
  return r;
}

const mp_result *mp_async_result(mp_async *a) {
  if (!a || !job_has_results((job *)a)) return NULL;
  job *j = (job *)a;
  return j->n ? &j->results[0] : NULL;
}

const mp_result *mp_async_results(mp_async *a, size_t *n) {
  if (n) *n = 0;
  if (!a || !job_has_results((job *)a)) return NULL;
  job *j = (job *)a;
  if (n) *n = j->n;
  return j->results;
}

int mp_async_cancel(mp_async *a) {
  if (!a) return mp__set_error(MP_EINVAL, "mp_async_cancel: NULL");
  job *j = (job *)a;
  mp_pool *p = j->pool;
  mp__mutex_lock(p->lock);
  if (j->completed) {
    mp__mutex_unlock(p->lock);
    return mp__set_error(MP_ESTATE, "mp_async_cancel: it has already finished");
  }
  j->cancel_requested = 1;
  /* Queued chunks: drop them. */
  chunk *prev = NULL;
  for (chunk *c = p->pending, *next; c; c = next) {
    next = c->next;
    if (c->job != j) {
      prev = c;
      continue;
    }
    if (prev)
      prev->next = next;
    else
      p->pending = next;
    if (p->pending_tail == c) p->pending_tail = prev;
    p->npending--;
    chunk_fail(p, c, MP_ECANCELLED, 0, "cancelled before it ran");
    chunk_free(c);
  }
  /* Held chunks: a running one dies with its worker; one not yet started
   * is marked so its outcome is dropped, and reads MP_ECANCELLED now. */
  for (int i = 0; i < p->nworkers; i++) {
    worker *w = p->workers[i];
    if (!w) continue;
    for (chunk *c = w->held; c; c = c->next) {
      if (c->job != j || c->cancelled) continue;
      if (c == w->held) {
        if (!w->why_killed) {
          w->why_killed = WHY_CANCEL;
          mp__child_signal(w->child, MP__SIG_KILL);
        }
      } else {
        for (size_t k = 0; k < c->n; k++)
          job_deliver(j, c->first + k, MP_ECANCELLED, 0, "cancelled before it ran", NULL, 0);
        j->outcomes -= c->n; /* counted again when its frame arrives */
        c->cancelled = 1;
      }
    }
  }
  poke(p);
  mp__mutex_unlock(p->lock);
  return MP_OK;
}

mp_async *mp_async_free(mp_async *a) {
  if (a) job_unref((job *)a);
  return NULL;
}

/* ============================================================ lifecycle */
int mp_pool_close(mp_pool *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_close: NULL pool");
  mp__mutex_lock(p->lock);
  if (p->state == POOL_RUNNING) p->state = POOL_CLOSED;
  poke(p);
  mp__mutex_unlock(p->lock);
  return MP_OK;
}

int mp_pool_terminate(mp_pool *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_terminate: NULL pool");
  mp__mutex_lock(p->lock);
  if (p->state != POOL_DONE) p->state = POOL_TERMINATING;
  poke(p);
  mp__mutex_unlock(p->lock);
  return MP_OK;
}

int mp_pool_join(mp_pool *p, double timeout) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_join: NULL pool");
  double deadline = mp__deadline(timeout);
  mp__mutex_lock(p->lock);
  if (p->state == POOL_RUNNING) {
    mp__mutex_unlock(p->lock);
    return mp__set_error(MP_ESTATE, "mp_pool_join: close or terminate the pool first");
  }
  while (p->state != POOL_DONE) {
    double left = mp__remaining(deadline);
    if (left == 0) {
      mp__mutex_unlock(p->lock);
      return mp__set_error(MP_ETIMEDOUT, "mp_pool_join: workers are still running");
    }
    mp__cond_wait(p->waiters, p->lock, left);
  }
  mp__thread *t = p->scheduler;
  p->scheduler = NULL;
  mp__mutex_unlock(p->lock);
  mp__thread_join(t);
  return MP_OK;
}

mp_pool *mp_pool_free(mp_pool *p) {
  if (!p) return NULL;
  mp_pool_terminate(p);
  mp_pool_join(p, MP_FOREVER);
  pool_destroy(p);
  return NULL;
}

/* ================================================================= imap */
/* Pulls inputs while the window has room. An index takes ring slot
 * index % cap, and only when that slot is free: in unordered mode a slow
 * early item thus holds the window back instead of being overwritten. */
static size_t free_run(mp_iter *it, size_t want) {
  mp_pool *p = it->pool;
  /* The window first: in order, it is the whole answer, and it keeps the
   * slot scan below to about once per chunk. */
  if (it->pulled + want - it->handed > it->max_in_flight) return 0;
  mp__mutex_lock(p->lock);
  /* Slots found free stay free until pulled: resume where the last look stopped. */
  size_t n = it->known_free;
  while (n < want && it->slot_state[(it->pulled + n) % it->cap] == SLOT_FREE) n++;
  it->known_free = n;
  mp__mutex_unlock(p->lock);
  return n;
}

static int iter_pull(mp_iter *it) {
  /* Called with the lock NOT held: the producer is user code. */
  mp_pool *p = it->pool;
  while (!it->producer_done) {
    /* Whole chunks only: pulling whenever one slot frees up would shrink
     * every later chunk to one item, and each chunk costs a round trip. */
    size_t want = free_run(it, it->chunksize);
    if (want < it->chunksize) break;
    size_t got = 0;
    /* Each item's bytes are copied before the producer is called again. */
    mp__buf held;
    mp__buf_init(&held);
    for (; got < want; got++) {
      mp_slice s = {NULL, 0};
      int r = it->producer(it->ud, it->pulled + got, &s);
      if (r <= 0) {
        it->producer_done = 1;
        if (r < 0) it->producer_error = r;
        break;
      }
      if (!s.data && s.len) {
        it->producer_done = 1;
        it->producer_error = mp__set_error(MP_EINVAL, "imap: the producer gave item %llu as NULL with %llu bytes",
                                           (unsigned long long)(it->pulled + got), (unsigned long long)s.len);
        break;
      }
      it->offsets[got] = held.len;
      mp__buf_put(&held, s.data, s.len);
      it->items[got].len = s.len;
    }
    if (held.failed) {
      mp__buf_release(&held);
      return mp__set_error(MP_ENOMEM, "imap: out of memory");
    }
    for (size_t k = 0; k < got; k++)
      it->items[k].data = held.data ? held.data + it->offsets[k] : (const uint8_t *)"";
    if (got) {
      job *j = it->job;
      mp__mutex_lock(p->lock);
      for (size_t k = 0; k < got; k++) it->slot_state[(it->pulled + k) % it->cap] = SLOT_FLYING;
      j->n = it->pulled + got;
      mp__mutex_unlock(p->lock);
      int rc = submit(p, j, it->chunksize, NULL, 0, it->items, it->pulled);
      mp__buf_release(&held);
      if (rc != MP_OK) return rc;
      it->pulled += got;
      it->known_free -= got;
    } else {
      mp__buf_release(&held);
    }
  }
  return MP_OK;
}

int mp_pool_imap(mp_pool *p, const char *task, mp_producer producer, void *ud, const mp_imap_options *opts,
                 mp_iter **out) {
  if (out) *out = NULL;
  if (!p || !producer || !out) return mp__set_error(MP_EINVAL, "mp_pool_imap: NULL argument");
  int rc = check_task("mp_pool_imap", task);
  if (rc != MP_OK) return rc;
  mp_iter *it = calloc(1, sizeof *it);
  if (!it) return mp__set_error(MP_ENOMEM, "mp_pool_imap: out of memory");
  it->pool = p;
  it->producer = producer;
  it->ud = ud;
  it->chunksize = opts && opts->chunksize ? opts->chunksize : 1;
  if (it->chunksize > MP__MAX_CHUNK_ITEMS) it->chunksize = MP__MAX_CHUNK_ITEMS;
  it->unordered = opts && opts->unordered;
  it->max_in_flight = opts && opts->max_in_flight ? opts->max_in_flight : (size_t)p->nworkers * PREFETCH * it->chunksize;
  if (it->max_in_flight < it->chunksize) it->max_in_flight = it->chunksize;
  it->cap = it->max_in_flight;
  it->job = job_new(p, JOB_IMAP, task, 0);
  it->slot_state = calloc(it->cap, 1);
  it->order = calloc(it->cap, sizeof *it->order);
  it->items = calloc(it->chunksize, sizeof *it->items);
  it->offsets = calloc(it->chunksize, sizeof *it->offsets);
  if (!it->job || !it->slot_state || !it->order || !it->items || !it->offsets ||
      !(it->job->results = calloc(it->cap, sizeof *it->job->results))) {
    if (it->job) free(it->job->results);
    free(it->job);
    free(it->slot_state);
    free(it->order);
    free(it->items);
    free(it->offsets);
    free(it);
    return mp__set_error(MP_ENOMEM, "mp_pool_imap: out of memory");
  }
  it->job->iter = it;
  it->job->user_ref = 1;
  if ((rc = iter_pull(it)) != MP_OK) {
    mp_iter_free(it);
    return rc;
  }
  *out = it;
  return MP_OK;
}

int mp_iter_next(mp_iter *it, double timeout, size_t *index, mp_result *res) {
  if (res) memset(res, 0, sizeof *res);
  if (!it || !res) return mp__set_error(MP_EINVAL, "mp_iter_next: NULL argument");
  int rc = iter_pull(it);
  if (rc != MP_OK) return rc;
  mp_pool *p = it->pool;
  double deadline = mp__deadline(timeout);
  mp__mutex_lock(p->lock);
  for (;;) {
    if (it->handed == it->pulled && it->producer_done) {
      mp__mutex_unlock(p->lock);
      if (it->producer_error) return mp__set_error(it->producer_error, "mp_iter_next: the producer failed (%d)", it->producer_error);
      return mp__set_error(MP_ECLOSED, "mp_iter_next: no more results");
    }
    size_t slot = SIZE_MAX, idx = 0;
    if (it->unordered) {
      if (it->order_head != it->order_tail) {
        idx = it->order[it->order_head++ % it->cap];
        slot = idx % it->cap;
      }
    } else if (it->handed < it->pulled && it->slot_state[it->handed % it->cap] == SLOT_READY) {
      slot = it->handed % it->cap;
      idx = it->handed;
    }
    if (slot != SIZE_MAX) {
      *res = it->job->results[slot];
      memset(&it->job->results[slot], 0, sizeof *res);
      it->slot_state[slot] = SLOT_FREE;
      it->handed++;
      if (index) *index = idx;
      mp__mutex_unlock(p->lock);
      return iter_pull(it);
    }
    double left = mp__remaining(deadline);
    if (left == 0) {
      mp__mutex_unlock(p->lock);
      return mp__set_error(MP_ETIMEDOUT, "mp_iter_next: no result yet");
    }
    if (p->state == POOL_DONE) {
      mp__mutex_unlock(p->lock);
      return mp__set_error(MP_ESTATE, "mp_iter_next: the pool has stopped");
    }
    mp__cond_wait(p->waiters, p->lock, left);
  }
}

mp_iter *mp_iter_free(mp_iter *it) {
  if (!it) return NULL;
  mp_pool *p = it->pool;
  job *j = it->job;
  /* Chunks still out keep pointers to the job: cancel them and wait until
   * every outcome is in, so nothing refers to freed memory. */
  mp__mutex_lock(p->lock);
  int outstanding = j->outcomes < j->n;
  mp__mutex_unlock(p->lock);
  if (outstanding) {
    mp_async_cancel((mp_async *)j);
    mp__mutex_lock(p->lock);
    while (j->outcomes < j->n && p->state != POOL_DONE) mp__cond_wait(p->waiters, p->lock, 0.1);
    mp__mutex_unlock(p->lock);
  }
  for (size_t i = 0; i < it->cap; i++) mp_result_clear(&j->results[i]);
  free(j->results);
  free(j);
  free(it->slot_state);
  free(it->order);
  free(it->items);
  free(it->offsets);
  free(it);
  return NULL;
}
