/* The pool's parts, and what they share. How a task travels through them
 * is drawn in docs/architecture.md ("Pool"):
 *
 *   pool.c           the public calls: create, apply, map, close, join, free
 *   pool_jobs.c      jobs and their outcomes, waiting, the mp_async calls
 *   pool_dispatch.c  chunks: into the task ring (or a queue of their own
 *                    while it is full), cancelled, reclaimed, run again
 *   pool_collect.c   reading the workers' result rings into jobs
 *   pool_workers.c   starting, watching, killing and burying workers
 *   pool_sched.c     the scheduler thread and the callback thread
 *   pool_imap.c      imap: inputs pulled as room frees up
 *
 * Locking: one mutex (the anchor's) guards everything below, in every
 * thread; it is never held across a fork, a sleep, a join or user code
 * (callbacks, progress, producers). Workers are never written to: the
 * task ring and the bells are all the pool has to say. */
#ifndef MPROC_POOL_INTERNAL_H
#define MPROC_POOL_INTERNAL_H

#include "core.h"
#include "deadline.h"
#include "pool_out.h"
#include "pool_ring.h"

enum { JOB_APPLY = 1, JOB_MAP = 2, JOB_IMAP = 3 };
enum { POOL_RUNNING = 0, POOL_CLOSED = 1, POOL_TERMINATING = 2, POOL_DONE = 3 };
/* Why the pool killed a worker. */
enum { WHY_NONE = 0, WHY_TIMEOUT, WHY_CANCEL, WHY_TERMINATE, WHY_PROTO, WHY_STUCK };
enum { SLOT_FREE = 0, SLOT_FLYING = 1, SLOT_READY = 2 }; /* imap's ring */
#define POOL_MAX_WORKERS 4096

typedef struct job job;
typedef struct worker worker;

/* What outlives the pool: the lock and the waiters' condition, which the
 * handles of jobs still use after mp_pool_free (they then find pool NULL). */
typedef struct pool_anchor {
  mp__mutex *lock;
  mp__cond *waiters;          /* callers waiting for jobs, imap items, the end */
  mp_pool *pool;              /* NULL once freed */
  size_t refs;                /* the pool's, and one per job handle */
  struct mp__watch *watchers; /* mp_wait calls waiting on its jobs now */
  mp__waiter *handle;         /* mp_pool_fileno's, once asked for */
} pool_anchor;

struct job {
  pool_anchor *anchor;
  int kind;
  char task[MP__TASK_NAME_MAX + 1];
  size_t n, outcomes;
  mp_result *results;         /* per item, or NULL (a blocking fixed map) */
  int owns_results;
  void *fixed_out;            /* a blocking fixed map: results land here */
  size_t out_size;
  size_t first_fail;          /* lowest failed index, n if none */
  int first_fail_status;
  char *first_fail_text;
  mp_callback cb;
  void *ud;
  mp_progress_fn progress;
  void *progress_ud;
  int progress_queued;
  int caller_reports;          /* a blocking map: its caller runs progress */
  size_t reported;             /* outcomes the caller last reported */
  job *next_progress;
  int cancelled;              /* its items still to come read MP_ECANCELLED */
  int completed;              /* every item has an outcome */
  volatile uint32_t ready;    /* and its callback has run */
  int user_ref, pool_ref;
  size_t live_chunks;         /* chunks that still name it */
  job *next_done;
  mp_iter *iter;
  size_t ring;                /* imap: results is a ring of this many */
  double limit;               /* seconds each item may run, from its start; 0: no limit
                                 (its call's timeout, else the pool's task_timeout) */
  int own_limit;              /* limit is its call's, not the pool's (for the message) */
};

/* A chunk in the task ring, by seq (the deque below). */
enum { CHUNK_QUEUED = 0, CHUNK_HELD = 1, CHUNK_DONE = 2 };
typedef struct chunk {
  uint64_t seq;
  uint64_t at;                /* its record's offset */
  uint32_t ring_count;        /* the record's number, as head counts them */
  int phase;                  /* CHUNK_*: DONE once no outcome matters and no
                                 worker reads the record any more */
  job *job;                   /* NULL once its job is gone */
  size_t first;
  uint32_t n, delivered;      /* outcomes in so far, in order */
  int holder;                 /* the slot that took it, once known; -1 */
  int cancelled;              /* outcomes still to come are dropped */
} chunk;

/* A chunk waiting for room in the ring, with its payload. */
typedef struct pending {
  job *job;
  size_t first;
  uint32_t n;
  mp__buf payload;
  struct pending *next;
} pending;

struct worker {
  mp_pool *pool;
  int slot;
  mp__child *child;
  int64_t pid;
  mp__thread *watcher;
  int exited;                 /* its watcher saw it end */
  int why;                    /* WHY_*: killed on purpose */
  uint64_t kill_seq;          /* the run a kill was for */
  uint32_t kill_runs;
  mp__out_reader in;          /* its result ring, as read */
  uint64_t cur_seq;           /* the chunk its outcomes are about */
  int init_failed, init_code; /* its initializer reported failure */
  char *init_text;
  char proto_text[200];       /* what was wrong with what it wrote (WHY_PROTO) */
};

struct mp_pool {
  pool_anchor *anchor;
  mp__mutex *lock;            /* anchor->lock */
  mp__arena arena;
  mp__tasks_writer ring;
  int state;
  int nworkers;
  worker **workers;
  int method;
  char initializer[MP__TASK_NAME_MAX + 1];
  void *initarg;
  size_t initarg_len;
  unsigned max_tasks;
  double task_timeout;
  double shortest_call_limit; /* the shortest call timeout ever submitted, 0: none: how
                                 often the scheduler must look at running items */
  mp_object **objects;
  size_t nobjects;
  /* chunks in the ring: seq first_seq + i at chunks[(first_seq + i) % cap] */
  chunk *chunks;
  size_t chunks_cap;
  uint64_t first_seq, next_seq;
  pending *pending, *pending_tail;
  size_t npending;
  size_t outstanding;         /* chunks not done, in the ring or pending */
  size_t open_iters;          /* imaps whose producer may give more */
  mp__thread *scheduler;
  unsigned events;            /* bumped by every poke */
  int collectors;             /* caller threads reading the result rings */
  mp__thread *callbacker;
  mp__cond *cb_cond;
  job *done_head, *done_tail; /* complete, callbacks to run, in order */
  job *progress_jobs;
  int cb_running, cb_quit;
  char *broken;               /* why no work can run (initializer) */
  int broken_code;
  int init_deaths;            /* initializers that died in a row */
  double restart_at;          /* no replacement before (backoff) */
  int start_failures;
  char start_error[256];
};

/* pool_jobs.c */
job *mp__job_new(mp_pool *p, int kind, const char *task, size_t n);
void mp__job_release(job *j);                        /* frees it once nothing holds it */
void mp__job_deliver(job *j, size_t index, int status, int code, const char *text, const void *data, size_t len,
                     mp__buf *big);
void mp__job_fail_items(job *j, size_t first, size_t n, int status, const char *text);
void mp__job_check_completed(mp_pool *p, job *j);
int mp__job_wait(job *j, double timeout, const char *api);
void mp__job_unref(job *j);
void mp__anchor_unref(pool_anchor *a);               /* lock held; may free it */
int mp__check_task(const char *api, const char *task);

/* pool_watch.c: a job became ready (or the pool went): tells every
 * mp_wait waiting on the pool's jobs, and mp_pool_fileno's handle. Lock
 * held. */
void mp__anchor_notify(pool_anchor *a);

/* pool_callopts.c */
int mp__call_options_check(const char *api, const mp_call_options *call);
/* Holds j's items to call's timeout (or the pool's). Before its submit. */
void mp__job_take_call_options(mp_pool *p, job *j, const mp_call_options *call);
/* The limit (seconds, 0: none) that the item a worker runs from chunk
 * seq is held to. Lock held. */
double mp__pool_limit_of(mp_pool *p, uint64_t seq);

/* pool_dispatch.c */
typedef struct chunk_src {
  const uint8_t *packed;      /* n items of item_size bytes, or */
  size_t item_size;
  const mp_slice *slices;     /* n slices */
} chunk_src;
int mp__pool_submit(mp_pool *p, job *j, size_t first, size_t n, size_t chunksize, const chunk_src *src,
                    int even_if_closed, const char *api);
chunk *mp__chunk_of(mp_pool *p, uint64_t seq);
void mp__chunk_done(mp_pool *p, chunk *c);
void mp__pool_reclaim(mp_pool *p);
void mp__pool_dispatch(mp_pool *p);
void mp__pool_cancel_job(mp_pool *p, job *j, int status, const char *text);
void mp__pool_cancel_all(mp_pool *p, int status, const char *text);
void mp__pool_requeue(mp_pool *p, chunk *c, uint32_t from);
void mp__pool_wake_workers(mp_pool *p, size_t published);
void mp__pool_free_queues(mp_pool *p);

/* pool_collect.c */
size_t mp__pool_collect(mp_pool *p);
size_t mp__pool_collect_worker(mp_pool *p, worker *w);
void mp__collector_enter(mp_pool *p);
void mp__collector_leave(mp_pool *p);
/* Waits, collecting, until done(ud) or the deadline: MP_OK or MP_ETIMEDOUT.
 * Lock held on entry and exit. */
int mp__pool_wait_until(mp_pool *p, int (*done)(void *ud), void *ud, double deadline);
int mp__pool_outcomes_waiting(mp_pool *p);

/* pool_workers.c */
int mp__worker_start(mp_pool *p, int slot, worker **out);
void mp__worker_kill(mp_pool *p, worker *w, int why);
void mp__worker_kill_run(mp_pool *p, worker *w, int why, uint64_t seq, uint32_t runs);
void mp__worker_bury(mp_pool *p, worker *w);
void mp__pool_replace_workers(mp_pool *p);
double mp__pool_enforce_timeouts(mp_pool *p);
void mp__worker_free(worker *w);
int mp__worker_holds(const mp_pool *p, int slot, const chunk *c);

/* pool_sched.c */
int mp__pool_start_threads(mp_pool *p);
int mp__pool_need_callbacks(mp_pool *p, const job *j, const char *api); /* lock held */
void mp__pool_poke(mp_pool *p);                      /* wakes the scheduler; lock held */
void mp__pool_queue_callbacks(mp_pool *p, job *j);  /* j complete, with a callback or progress */
void mp__pool_note_progress(mp_pool *p, job *j);

/* pool_imap.c */
void mp__iter_delivered(mp_iter *it, size_t index);

#endif
