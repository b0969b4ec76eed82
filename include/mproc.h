/*
 * mproc: Python's multiprocessing for C. The public API.
 *
 * Implements the contract in DESIGN.md/mproc-api.h; additions are marked
 * "(addition)".
 *
 * Conventions
 *  - Every function that can fail returns int: MP_OK (0) or a negative MP_E*.
 *  - Objects are opaque; mp_X_free(x) releases x, accepts NULL, returns NULL.
 *  - Timeouts are seconds as double: MP_FOREVER (-1) blocks, 0 only tries.
 *  - Buffers the library hands out (mp_*_recv, mp_queue_get, results) are
 *    released with mp_free().
 *  - Spawn semantics everywhere: a child runs a task looked up by its
 *    registered NAME and gets its argument as BYTES, and only the objects
 *    listed in its options. Nothing else of the parent's memory is relied on,
 *    whatever the start method.
 */
#ifndef MPROC_H
#define MPROC_H

#include <stddef.h>
#include <stdint.h>

/* Symbol visibility: MPROC_API marks the public functions. A shared build
 * defines MPROC_BUILDING_SHARED; users of a shared library on Windows define
 * MPROC_SHARED (the CMake package and mproc.pc do it for them). */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(MPROC_BUILDING_SHARED)
#    define MPROC_API __declspec(dllexport)
#  elif defined(MPROC_SHARED)
#    define MPROC_API __declspec(dllimport)
#  else
#    define MPROC_API
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define MPROC_API __attribute__((visibility("default")))
#else
#  define MPROC_API
#endif

/* printf-style format checking where the compiler has it (addition). */
#if defined(__MINGW32__) && defined(__MINGW_PRINTF_FORMAT)
#  define MPROC_PRINTF(fmt, args) __attribute__((format(__MINGW_PRINTF_FORMAT, fmt, args)))
#elif defined(__GNUC__)
#  define MPROC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#  define MPROC_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MPROC_VERSION_MAJOR 0
#define MPROC_VERSION_MINOR 1
#define MPROC_VERSION_PATCH 0
/* "0.1.0" (addition) */
MPROC_API const char *mp_version_string(void);

/* The largest message a Connection or Queue carries, and the largest task
 * argument or result: 1 GiB. Over it: MP_ETOOBIG (addition). */
#define MP_MAX_MESSAGE ((size_t)1 << 30)

/* ---------------------------------------------------------------- errors */
#define MP_OK          0
#define MP_EINVAL     -1   /* bad argument (NULL where not allowed, bad size) */
#define MP_ENOMEM     -2
#define MP_ETIMEDOUT  -3   /* the timeout ran out */
#define MP_ECLOSED    -4   /* queue/connection closed and drained; peer gone */
#define MP_EFULL      -5   /* non-blocking put on a full queue */
#define MP_EEMPTY     -6   /* non-blocking get on an empty queue */
#define MP_ETASK      -7   /* the task reported failure (see the result's message) */
#define MP_ECRASHED   -8   /* the process running the task died */
#define MP_ENOTASK    -9   /* no task registered under that name */
#define MP_EBOOTSTRAP -10  /* mp_main() not called first, or called in the wrong place */
#define MP_ESTATE     -11  /* not allowed in this state (pool closed, process not started) */
#define MP_ECANCELLED -12
#define MP_EPROTO     -13  /* a malformed message arrived; nothing was delivered */
#define MP_ETOOBIG    -14  /* over a documented size limit */
#define MP_ENOTFOUND  -15  /* no such key (manager dict) */
#define MP_EOWNERDEAD -16  /* lock acquired, but its previous owner died holding it */
#define MP_ENOTSUP    -17  /* not available on this platform/build */
#define MP_ESYS       -18  /* the OS refused; mp_last_error() has its words */

MPROC_API const char *mp_strerror(int err);   /* "timed out" */
MPROC_API const char *mp_err_name(int err);   /* "MP_ETIMEDOUT" */
/* Detail of the last failure on this thread, e.g.
 * "CreateProcessW: The system cannot find the file specified (2)". */
MPROC_API const char *mp_last_error(void);

#define MP_FOREVER (-1.0)

MPROC_API void mp_free(void *p);
MPROC_API int mp_cpu_count(void);
MPROC_API int64_t mp_getpid(void);       /* this process's id (addition: os.getpid()) */

/* ------------------------------------------------ tasks and the main guard */
typedef struct mp_call mp_call;          /* one task invocation, in a worker */
/* A task: 0 is success (its result is what it gave mp_call_return, or
 * nothing); any other value is failure (status MP_ETASK, task_code = the
 * value, message = what it gave mp_call_fail). */
typedef int (*mp_task_fn)(mp_call *call);

/* Names fn so children can run it: a child looks tasks up by name in its
 * own table, because a function pointer means nothing in a freshly started
 * program. Call it before mp_main(); the same calls run again in every
 * spawned child, so both sides agree on the table.
 * Errors: MP_EINVAL (name or fn NULL, name empty or over 63 bytes, name
 * already registered); MP_EBOOTSTRAP (after mp_main()). Never blocks. */
MPROC_API int mp_register(const char *name, mp_task_fn fn);
#define MP_REGISTER(fn) mp_register(#fn, (fn))

/* The main guard. Call it at the top of main(), after mp_register() calls
 * and before anything that must not run in workers (argument parsing,
 * opening files, creating processes).
 *  - In the program the user started: reads MPROC_START_METHOD and returns
 *    MP_OK (MP_EINVAL for an unknown value, MP_ENOTSUP for fork on
 *    Windows; mp_last_error() says which).
 *  - In a process this library started (its command line carries the
 *    worker mark, never the environment): runs the worker and exits; it
 *    never returns.
 *  - Called twice, or inside a task: MP_EBOOTSTRAP.
 * Creating a process, pool, queue or other object before mp_main() has run
 * fails with MP_EBOOTSTRAP and a message naming the fix, in every start
 * method, so a program written on Linux behaves the same on Windows. */
MPROC_API int mp_main(int argc, char **argv);
MPROC_API int mp_is_worker(void);                   /* 1 inside a process started by mproc */

enum mp_start_method {
  MP_START_DEFAULT = 0, /* fork on POSIX, spawn on Windows; env MPROC_START_METHOD overrides */
  MP_START_FORK,        /* POSIX only; MP_ENOTSUP on Windows */
  MP_START_SPAWN        /* re-run this executable; everywhere */
};

/* Inside a task. `call` is valid until the task returns. */
/* The argument's bytes (valid until the task returns) and their number. */
MPROC_API const void *mp_call_arg(mp_call *call, size_t *len);
/* Copies the argument into dst: MP_EINVAL unless it has exactly size bytes. */
MPROC_API int mp_call_arg_read(mp_call *call, void *dst, size_t size);
/* Sets the task's result (copied; a second call replaces the first).
 * MP_ETOOBIG over MP_MAX_MESSAGE, MP_ENOMEM. */
MPROC_API int mp_call_return(mp_call *call, const void *data, size_t len);
/* Sets the failure message (printf format) and returns MP_ETASK, so a task
 * can `return mp_call_fail(call, "bad input %d", x);`. */
MPROC_API int mp_call_fail(mp_call *call, const char *fmt, ...) MPROC_PRINTF(2, 3);
MPROC_API size_t mp_call_index(mp_call *call);      /* item index inside a map; 0 otherwise */
MPROC_API int mp_call_worker_id(mp_call *call);     /* 0..workers-1 in a pool; 0 in a Process */

/* ---------------------------------------------------- shareable objects
 * Queues, connections, locks, events, semaphores, barriers, shared memory
 * and managers are handed to children by listing them in the options of
 * mp_process_start() or mp_pool_create(); the child reaches the i-th one
 * with the typed mp_call_X(call, i) accessors (NULL if the kind differs or
 * i is out of range). Objects a task gets this way belong to the call:
 * mp_X_free on them does nothing. A child gets nothing it was not given. */
typedef struct mp_object mp_object;

/* ------------------------------------------------------------- results */
typedef struct mp_result {
  int status;        /* MP_OK, MP_ETASK, MP_ECRASHED, MP_ETIMEDOUT, MP_ECANCELLED, ... */
  int task_code;     /* the task's own non-zero return when status == MP_ETASK */
  void *data;        /* result bytes (status == MP_OK); NULL if the task gave none */
  size_t len;
  char *message;     /* failure text, or NULL */
} mp_result;
MPROC_API void mp_result_clear(mp_result *r);       /* frees data and message, zeroes r; NULL is fine */

/* ------------------------------------------------------------- Process
 * One task in its own process (Python's multiprocessing.Process). */
typedef struct mp_process mp_process;
typedef struct mp_process_options {      /* all-zero means defaults */
  const char *name;                      /* shown in errors and logs; default: the task */
  int start_method;                      /* enum mp_start_method */
  mp_object *const *objects;             /* shared with the child */
  size_t nobjects;
} mp_process_options;

/* Starts task in a new process with a copy of arg (len bytes).
 * opts may be NULL. The child dies with this process (however this one
 * ends), and holds only the handles of opts->objects.
 * Errors: MP_EINVAL (out or task NULL, arg NULL with len > 0, an unknown
 * start method, a NULL object); MP_ETOOBIG (len over MP_MAX_MESSAGE);
 * MP_ENOTASK (no task of that name); MP_EBOOTSTRAP (before mp_main());
 * MP_ENOTSUP (fork on Windows); MP_ENOMEM; MP_ESYS (the OS refused: fork,
 * exec, CreateProcessW; mp_last_error() has its words).
 * Blocks only to start the child (with spawn, until it has read arg). */
MPROC_API int mp_process_start(mp_process **out, const char *task, const void *arg, size_t len,
                     const mp_process_options *opts);
/* Waits for the child to end and takes its result (a large result is read
 * while the child writes it). MP_OK; MP_ETIMEDOUT if it still runs;
 * MP_EINVAL for NULL. Blocks up to timeout. */
MPROC_API int mp_process_join(mp_process *p, double timeout);
MPROC_API int mp_process_is_alive(mp_process *p);                 /* 1 or 0; never blocks */
/* Exit code: 0 the task succeeded; 1 it failed (mp_process_result has its
 * code and message); -N ended by signal N (terminate and kill read -15 and -9
 * on Windows too, a crash -11 or -6 as on POSIX); another N if the task
 * called exit(N). MP_ESTATE while running. Never blocks. */
MPROC_API int mp_process_exitcode(mp_process *p, int *code);
/* The outcome, a copy the caller clears with mp_result_clear: status MP_OK
 * with the task's bytes; MP_ETASK with its code and message; MP_ECRASHED
 * when it died without a result (the message gives the signal or exit
 * code); MP_EPROTO if what it sent was malformed. MP_ESTATE before the
 * child has ended (join first). Never blocks. */
MPROC_API int mp_process_result(mp_process *p, mp_result *res);
MPROC_API int mp_process_terminate(mp_process *p);                /* SIGTERM / TerminateProcess; never blocks */
MPROC_API int mp_process_kill(mp_process *p);                     /* SIGKILL / TerminateProcess; never blocks */
MPROC_API int64_t mp_process_pid(const mp_process *p);            /* 0 for NULL */
/* Frees p. A child still running is killed and reaped: no zombie, no orphan. */
MPROC_API mp_process *mp_process_free(mp_process *p);

/* ------------------------------------------------- Pipe / Connection
 * Python's Pipe(): two connected ends carrying whole messages of any size
 * up to MP_MAX_MESSAGE. A message never arrives torn: a peer that dies
 * mid-message leaves nothing, and the reader sees MP_ECLOSED. */
typedef struct mp_conn mp_conn;
/* duplex: both ends send and receive. !duplex: a receives, b sends (the
 * wrong direction gives MP_ESTATE). MP_EINVAL for NULL, MP_EBOOTSTRAP
 * before mp_main(), MP_ESYS. */
MPROC_API int mp_pipe(mp_conn **a, mp_conn **b, int duplex);
/* Sends one message; blocks while the pipe is full (until the peer reads).
 * MP_ECLOSED if the peer is gone, MP_ETOOBIG over MP_MAX_MESSAGE. */
MPROC_API int mp_conn_send(mp_conn *c, const void *data, size_t len);
/* Receives one message into *data (release with mp_free), waiting up to
 * timeout: MP_ETIMEDOUT (nothing lost: a message half arrived is kept for
 * the next call), MP_ECLOSED when the peer is gone and nothing is left,
 * MP_EPROTO for a malformed message (the connection is then broken). */
MPROC_API int mp_conn_recv(mp_conn *c, void **data, size_t *len, double timeout);
/* Into the caller's buffer, no allocation: *len gets the message size; if it
 * is over cap, MP_ETOOBIG and the message stays to be read again. */
MPROC_API int mp_conn_recv_into(mp_conn *c, void *buf, size_t cap, size_t *len, double timeout);
/* 1 if a receive would not block (a message, or the end), 0 if nothing
 * came within timeout; <0 on error. */
MPROC_API int mp_conn_poll(mp_conn *c, double timeout);
MPROC_API mp_conn *mp_conn_free(mp_conn *c);
MPROC_API mp_object *mp_conn_obj(mp_conn *c);
MPROC_API mp_conn *mp_call_conn(mp_call *call, size_t i);

/* ---------------------------------------------------------------- Queue
 * Many producers, many consumers, across processes. Messages are byte
 * strings of any size up to MP_QUEUE_MAX_MESSAGE; order is FIFO per producer.
 * The messages live in shared memory, not in the producer: a producer may
 * put and exit before anyone reads (no join-before-drain deadlock). A
 * process killed in the middle of a put or get never leaves a torn message
 * and never wedges the queue; at most its message in flight is lost. */
typedef struct mp_queue mp_queue;
#define MP_QUEUE_MAX_MESSAGE MP_MAX_MESSAGE      /* 1 GiB */
typedef struct mp_queue_options {        /* all-zero means defaults */
  size_t maxsize;                        /* messages; 0 = unbounded: put never blocks */
  int joinable;                          /* enables task_done/join */
} mp_queue_options;
/* opts may be NULL. MP_EINVAL, MP_EBOOTSTRAP, MP_ENOMEM, MP_ESYS. */
MPROC_API int mp_queue_create(mp_queue **out, const mp_queue_options *opts);
/* Copies len bytes in. Bounded and full: waits up to timeout for room
 * (MP_ETIMEDOUT; with timeout 0, MP_EFULL). MP_ECLOSED after
 * mp_queue_close, MP_ETOOBIG over the limit, MP_ENOMEM if an unbounded
 * queue's store (4 GiB of address space, memory only where used) is full. */
MPROC_API int mp_queue_put(mp_queue *q, const void *data, size_t len, double timeout);
/* Takes the next message into *data (release with mp_free). Waits up to
 * timeout: MP_ETIMEDOUT (with timeout 0, MP_EEMPTY); MP_ECLOSED once the
 * queue is closed and drained. */
MPROC_API int mp_queue_get(mp_queue *q, void **data, size_t *len, double timeout);
/* The hot path: into the caller's buffer, no allocation; over cap gives
 * MP_ETOOBIG with *len set and the message left at the head. */
MPROC_API int mp_queue_get_into(mp_queue *q, void *buf, size_t cap, size_t *len, double timeout);
/* Messages queued: approximate while others put and get, exact when quiet;
 * on every platform (Python's raises on macOS). Never blocks. */
MPROC_API int mp_queue_qsize(mp_queue *q, size_t *n);
/* No more puts, from anyone: consumers drain what is queued, then get MP_ECLOSED. */
MPROC_API int mp_queue_close(mp_queue *q);
/* Joinable queues only (else MP_ESTATE): one put item is finished;
 * MP_ESTATE if called more times than items were put. */
MPROC_API int mp_queue_task_done(mp_queue *q);
/* Waits until every item put has been task_done: MP_OK, MP_ETIMEDOUT. */
MPROC_API int mp_queue_join(mp_queue *q, double timeout);
/* This process lets go; the queue lives on for the others that have it,
 * and its memory goes with the last of them. Nothing is left behind. */
MPROC_API mp_queue *mp_queue_free(mp_queue *q);
MPROC_API mp_object *mp_queue_obj(mp_queue *q);
MPROC_API mp_queue *mp_call_queue(mp_call *call, size_t i);

/* ----------------------------------------------------------------- Pool
 * A fixed set of worker processes (Python's multiprocessing.Pool). Each
 * pool has one scheduler thread, which hands work to workers, notices
 * workers that die or overrun task_timeout, replaces them, and runs
 * callbacks. The pool knows which worker holds which task, so:
 *  - a worker that dies (crash, abort, kill -9, the OOM killer) fails
 *    exactly the items it was running with MP_ECRASHED (the message gives
 *    the signal or exit code); the rest of the work goes on, on a
 *    replacement worker;
 *  - a task over task_timeout is killed with its worker: MP_ETIMEDOUT;
 *  - nothing waits without bound on a worker that may be dead: no hang.
 * Threads: every call may be made from any thread. No thread of the pool
 * holds a lock across fork(); with the fork start method a parent whose
 * other threads hold locks a task needs should still use spawn (README). */
typedef struct mp_pool mp_pool;
typedef struct mp_async mp_async;
typedef struct mp_iter mp_iter;
/* Called once when an async job is ready, ON THE POOL'S SCHEDULER THREAD
 * (as in Python): keep it short, do not block in it, and do not wait on
 * the same pool from it. Calling other mproc functions is fine. */
typedef void (*mp_callback)(mp_async *a, void *ud);
/* Called on the pool's scheduler thread as items complete (not for every
 * item: reports may be merged). */
typedef void (*mp_progress_fn)(size_t done, size_t total, void *ud);

typedef struct mp_pool_options {         /* all-zero means defaults */
  int workers;                           /* 0: mp_cpu_count() */
  int start_method;
  const char *initializer;               /* task run once in each new worker */
  const void *initarg;
  size_t initarg_len;
  unsigned max_tasks_per_child;          /* 0: unlimited; then the worker is replaced */
  double task_timeout;                   /* seconds, 0: none; a task over it is killed
                                            with its worker (status MP_ETIMEDOUT) */
  mp_object *const *objects;             /* shared with every worker */
  size_t nobjects;
} mp_pool_options;

typedef struct mp_map_options {          /* all-zero (or NULL) means defaults */
  size_t chunksize;                      /* 0: chosen by the pool (about 4 chunks per worker) */
  mp_progress_fn progress;               /* called as items complete */
  void *progress_ud;
  mp_result *results;                    /* optional: per-item outcome, n entries */
} mp_map_options;

/* Starts the workers (opts may be NULL). An initializer that fails makes
 * every task of the pool fail with its message (MP_ETASK), never a loop of
 * restarts. Errors: MP_EINVAL (negative workers or timeout, unknown start
 * method, NULL objects), MP_ENOTASK (unknown initializer), MP_EBOOTSTRAP,
 * MP_ENOTSUP, MP_ENOMEM, MP_ESYS (a worker could not be started; nothing
 * is left half made). Blocks while the workers start. */
MPROC_API int mp_pool_create(mp_pool **out, const mp_pool_options *opts);

/* Blocking. */
/* Runs task(arg) on a worker and waits: MP_OK with *res filled (its status
 * says how the task went: MP_OK, MP_ETASK, MP_ECRASHED, MP_ETIMEDOUT, ...).
 * Errors before anything runs: MP_EINVAL, MP_ENOTASK, MP_ETOOBIG,
 * MP_ESTATE (pool closed). */
MPROC_API int mp_pool_apply(mp_pool *p, const char *task, const void *arg, size_t len, mp_result *res);
/* n fixed-size items in, n fixed-size results out (a task must return exactly
 * out_size bytes). Returns MP_OK, or the status of the lowest-index failed
 * item; every other item still runs, and opts->results tells each one.
 * Results come in input order. Blocks until every item is done. */
MPROC_API int mp_pool_map(mp_pool *p, const char *task, const void *in, size_t in_size, size_t n,
                void *out, size_t out_size, const mp_map_options *opts);
typedef struct mp_slice { const void *data; size_t len; } mp_slice;
/* Variable-size items: out[i] gets item i's outcome (clear each with
 * mp_result_clear). Returns as mp_pool_map does. */
MPROC_API int mp_pool_map_slices(mp_pool *p, const char *task, const mp_slice *in, size_t n,
                       mp_result *out, const mp_map_options *opts);

/* Non-blocking: returns at once; the work goes on while the caller does
 * other things. cb (may be NULL) runs on the pool's thread when the job is
 * ready. out may be NULL for fire-and-forget; otherwise release *out with
 * mp_async_free. Errors as for the blocking forms. */
MPROC_API int mp_pool_apply_async(mp_pool *p, const char *task, const void *arg, size_t len,
                        mp_callback cb, void *ud, mp_async **out);
MPROC_API int mp_pool_map_async(mp_pool *p, const char *task, const mp_slice *in, size_t n,
                      const mp_map_options *opts, mp_callback cb, void *ud, mp_async **out);
MPROC_API int mp_async_wait(mp_async *a, double timeout);         /* MP_OK when ready, MP_ETIMEDOUT */
MPROC_API int mp_async_ready(mp_async *a);                        /* 1 or 0; never blocks */
MPROC_API const mp_result *mp_async_result(mp_async *a);          /* after ready; map_async: first item */
MPROC_API const mp_result *mp_async_results(mp_async *a, size_t *n); /* map_async: all items */
/* A queued task is dropped; a running one is killed with its worker (which
 * is replaced). Either way it reads MP_ECANCELLED. MP_ESTATE if it had
 * already finished. Never blocks. */
MPROC_API int mp_async_cancel(mp_async *a);
MPROC_API mp_async *mp_async_free(mp_async *a);

/* Streaming: results as they complete. Inputs come from a producer callback,
 * pulled only as fast as workers take them (backpressure), so the input may be
 * larger than memory. next() returns MP_ECLOSED after the last result.
 * The producer runs on the thread that calls mp_pool_imap / mp_iter_next. */
/* 1: *item is the next input (its bytes are copied before the next call), 0: end, <0: error */
typedef int (*mp_producer)(void *ud, size_t index, mp_slice *item);
typedef struct mp_imap_options {
  size_t chunksize;                      /* 0: 1 */
  int unordered;                         /* 1: completion order (imap_unordered) */
  size_t max_in_flight;                  /* 0: a few chunks per worker */
} mp_imap_options;
MPROC_API int mp_pool_imap(mp_pool *p, const char *task, mp_producer producer, void *ud,
                 const mp_imap_options *opts, mp_iter **out);
/* The next result and its input index: MP_OK; MP_ETIMEDOUT; MP_ECLOSED
 * after the last; the producer's own negative value if it failed.
 * One thread at a time per iterator. */
MPROC_API int mp_iter_next(mp_iter *it, double timeout, size_t *index, mp_result *res);
/* Drops the rest: work not yet done is cancelled. */
MPROC_API mp_iter *mp_iter_free(mp_iter *it);

MPROC_API int mp_pool_close(mp_pool *p);          /* no new work; queued work still runs */
/* After close or terminate: waits for the workers to exit (MP_ESTATE
 * before, MP_ETIMEDOUT if they are still at work). */
MPROC_API int mp_pool_join(mp_pool *p, double timeout);
MPROC_API int mp_pool_terminate(mp_pool *p);      /* stop now; unfinished tasks read MP_ECANCELLED */
MPROC_API mp_pool *mp_pool_free(mp_pool *p);      /* terminate if needed, join, free */

/* --------------------------------------------- Synchronization (issue: sync)
 * Python's Lock, RLock, Semaphore, BoundedSemaphore, Event, Barrier and
 * Condition, across processes. Each lives in its own page of shared memory
 * and is handed to children like any object (mp_lock_obj(l) in the
 * options' objects; mp_call_lock(call, i) in the child). What they have in
 * common:
 *  - Every blocking call takes a timeout in seconds: MP_FOREVER blocks, 0
 *    only tries. Running out gives MP_ETIMEDOUT (also for a try that would
 *    have blocked).
 *  - Creating one before mp_main() gives MP_EBOOTSTRAP; a NULL argument
 *    gives MP_EINVAL; mp_last_error() says which.
 *  - mp_X_free(x) lets this process go of x (NULL is fine; returns NULL);
 *    the object lives on for the other processes that have it, and is gone
 *    with the last of them, however it ends. In a task, objects from
 *    mp_call_X belong to the call: freeing them does nothing.
 *  - Nothing is named in the system and nothing is left behind. */
typedef struct mp_lock mp_lock;
typedef struct mp_semaphore mp_semaphore;
typedef struct mp_event mp_event;
typedef struct mp_barrier mp_barrier;
typedef struct mp_condition mp_condition;

/* Lock (recursive == 0) or RLock (recursive != 0). A lock belongs to the
 * thread that acquired it: only that thread releases it.
 * Robust: if the holder's process (or thread) dies holding the lock, the
 * next acquirer gets MP_EOWNERDEAD, holds the lock, and should repair
 * whatever the lock protects (a plain lock's depth is then 1).
 * Uncontended acquire + release costs no system call on Linux. */
MPROC_API int mp_lock_create(mp_lock **out, int recursive);
/* MP_OK, MP_EOWNERDEAD (acquired; the previous owner died holding it),
 * MP_ETIMEDOUT. A recursive lock held by this thread is taken once more
 * at once; a plain one gives MP_ESTATE (it would wait for itself). */
MPROC_API int mp_lock_acquire(mp_lock *l, double timeout);
/* One level of this thread's hold; MP_ESTATE if this thread does not hold it. */
MPROC_API int mp_lock_release(mp_lock *l);
MPROC_API mp_lock *mp_lock_free(mp_lock *l);

/* Semaphore: a count that acquire takes one from (blocking at zero) and
 * release gives one back to. max 0: unbounded (Semaphore); otherwise the
 * count never goes above max (BoundedSemaphore), and value must be <= max
 * (MP_EINVAL). A process that dies does not give back what it took. */
MPROC_API int mp_semaphore_create(mp_semaphore **out, unsigned value, unsigned max /* 0: unbounded */);
MPROC_API int mp_semaphore_acquire(mp_semaphore *s, double timeout);  /* MP_OK, MP_ETIMEDOUT */
/* Never blocks; MP_EFULL past max (bounded) or past UINT32_MAX. */
MPROC_API int mp_semaphore_release(mp_semaphore *s);
/* The count now (addition: Python's get_value, on every platform). */
MPROC_API int mp_semaphore_value(mp_semaphore *s, unsigned *value);
MPROC_API mp_semaphore *mp_semaphore_free(mp_semaphore *s);

/* Event: a flag, initially clear. set wakes every waiter; a waiter woken
 * by set returns MP_OK even if the flag was cleared again since. */
MPROC_API int mp_event_create(mp_event **out);
MPROC_API int mp_event_set(mp_event *e);
MPROC_API int mp_event_clear(mp_event *e);
MPROC_API int mp_event_is_set(mp_event *e);                       /* 1 or 0 (MP_EINVAL for NULL) */
MPROC_API int mp_event_wait(mp_event *e, double timeout);         /* MP_OK once set, MP_ETIMEDOUT */
MPROC_API mp_event *mp_event_free(mp_event *e);

/* Barrier for parties (>= 1) processes or threads: each wait blocks until
 * parties waits have arrived, then all return MP_OK and the barrier is
 * ready for the next round. A wait that times out breaks the barrier (as
 * Python's BrokenBarrierError): it returns MP_ETIMEDOUT, and every other
 * waiter, and every later wait, gets MP_ESTATE until mp_barrier_reset.
 * A process that dies while waiting is not noticed: give waits a timeout,
 * or mp_barrier_abort from a process that sees it die. */
MPROC_API int mp_barrier_create(mp_barrier **out, unsigned parties);
MPROC_API int mp_barrier_wait(mp_barrier *b, double timeout);     /* MP_ETIMEDOUT breaks it for all */
/* Addition: back to a fresh round; current waiters get MP_ESTATE (Python's reset). */
MPROC_API int mp_barrier_reset(mp_barrier *b);
/* Addition: breaks it now; waiters get MP_ESTATE (Python's abort). */
MPROC_API int mp_barrier_abort(mp_barrier *b);
MPROC_API mp_barrier *mp_barrier_free(mp_barrier *b);

/* Condition around a lock: lock NULL makes its own, recursive (Python's
 * default RLock); otherwise lock is used and must outlive the condition.
 * A child given the condition gets its lock with it. wait and notify need
 * the calling thread to hold the lock (MP_ESTATE otherwise). */
MPROC_API int mp_condition_create(mp_condition **out, mp_lock *lock /* NULL: its own */);
/* Releases the lock (every level of a recursive one), sleeps until
 * notified or the timeout, then takes the lock back (blocking, as Python
 * does) before it returns: MP_OK notified, MP_ETIMEDOUT not, MP_EOWNERDEAD
 * notified or not, the lock came back from a holder that died. Wake-ups
 * may be spurious in effect (a notify taken by another waiter): re-check
 * the predicate in a loop. */
MPROC_API int mp_condition_wait(mp_condition *c, double timeout); /* caller holds the lock */
/* Wakes up to n waiters (that were waiting before the call); never blocks. */
MPROC_API int mp_condition_notify(mp_condition *c, unsigned n);
MPROC_API int mp_condition_notify_all(mp_condition *c);
/* Addition: mp_lock_acquire/mp_lock_release of the condition's lock. */
MPROC_API int mp_condition_acquire(mp_condition *c, double timeout);
MPROC_API int mp_condition_release(mp_condition *c);
MPROC_API mp_condition *mp_condition_free(mp_condition *c);

MPROC_API mp_object *mp_lock_obj(mp_lock *l);
MPROC_API mp_object *mp_semaphore_obj(mp_semaphore *s);
MPROC_API mp_object *mp_event_obj(mp_event *e);
MPROC_API mp_object *mp_barrier_obj(mp_barrier *b);
MPROC_API mp_object *mp_condition_obj(mp_condition *c);
MPROC_API mp_lock *mp_call_lock(mp_call *call, size_t i);
MPROC_API mp_semaphore *mp_call_semaphore(mp_call *call, size_t i);
MPROC_API mp_event *mp_call_event(mp_call *call, size_t i);
MPROC_API mp_barrier *mp_call_barrier(mp_call *call, size_t i);
MPROC_API mp_condition *mp_call_condition(mp_call *call, size_t i);

/* ------------------------------------------------ Shared memory (issue: sync)
 * A block of size bytes (>= 1; MP_EINVAL for 0, MP_ETOOBIG past half the
 * address space), zero-filled, mapped in every process it is given to
 * (mp_shm_obj in the options, mp_call_shm in the child) at an address of
 * that process's own: store offsets in it, never pointers. Pages take
 * memory only once written (Windows charges its commit limit up front).
 * It has no name, and it is gone when the last process that has it frees
 * it or ends. Guard concurrent changes with a Lock. */
typedef struct mp_shm mp_shm;
MPROC_API int mp_shm_create(mp_shm **out, size_t size);           /* zero-filled */
MPROC_API void *mp_shm_ptr(mp_shm *s);                            /* page-aligned; NULL for NULL */
MPROC_API size_t mp_shm_size(mp_shm *s);                          /* 0 for NULL */
MPROC_API mp_shm *mp_shm_free(mp_shm *s);                         /* unmapped; gone when the last user frees */
MPROC_API mp_object *mp_shm_obj(mp_shm *s);
MPROC_API mp_shm *mp_call_shm(mp_call *call, size_t i);

/* ------------------------------------------------------ Manager (issue: sync)
 * A server process that holds named dicts and lists of byte values; any
 * process given the manager (listed in options.objects, reached with
 * mp_call_manager) uses them through proxies. Every call is one round trip
 * to the server over this process's own connection, made on its first
 * call and shared by its threads (one call at a time). Calls block until
 * the server answers; none waits on a server that is gone: a manager that
 * was shut down, freed, or died (even in the middle of a call) reads
 * MP_ECLOSED, and a call cut off that way may or may not have been applied.
 * The server is a child of the process that started it and ends when that
 * process frees it, shuts it down, or dies.
 *
 * Keys and names are C strings of at most MP_MANAGER_KEY_MAX bytes (more:
 * MP_EINVAL); values are bytes, 0 to MP_MAX_MESSAGE of them (more:
 * MP_ETOOBIG). Every call may also return MP_EINVAL for a NULL argument,
 * MP_ENOMEM, MP_EPROTO (the server answered nonsense: the connection is
 * dropped) and MP_ESYS. */
typedef struct mp_manager mp_manager;
typedef struct mp_dict mp_dict;
typedef struct mp_list mp_list;
#define MP_MANAGER_KEY_MAX 1024   /* (addition) */

/* Starts the server process (by the default start method) and waits until
 * it listens. MP_EBOOTSTRAP before mp_main(). */
MPROC_API int mp_manager_start(mp_manager **out);
/* The dict (list) called name, created empty if it does not exist yet:
 * every process that opens the same name sees the same one. Dicts and
 * lists have separate names. *out is a proxy for this process; free it
 * with mp_dict_free (the data stays in the server). */
MPROC_API int mp_manager_dict(mp_manager *m, const char *name, mp_dict **out);
MPROC_API int mp_manager_list(mp_manager *m, const char *name, mp_list **out);
/* d[key] = the len bytes at val (copied). */
MPROC_API int mp_dict_set(mp_dict *d, const char *key, const void *val, size_t len);
/* A copy of d[key] in *val (release with mp_free; non-NULL even for 0
 * bytes) and its size in *len. MP_ENOTFOUND if there is no such key. */
MPROC_API int mp_dict_get(mp_dict *d, const char *key, void **val, size_t *len);
MPROC_API int mp_dict_del(mp_dict *d, const char *key);   /* MP_ENOTFOUND if absent */
MPROC_API int mp_dict_len(mp_dict *d, size_t *n);
/* d[key] += delta in one step in the server, so concurrent adders never
 * lose an update (the d[k] += 1 trap of get-then-set). The value is an
 * int64_t in this machine's byte order (8 bytes, as mp_dict_get returns
 * it); a missing key counts from 0. *now (may be NULL) gets the new value.
 * MP_EINVAL if the value there is not 8 bytes or the sum would overflow
 * (nothing changes then). */
MPROC_API int mp_dict_add_i64(mp_dict *d, const char *key, int64_t delta, int64_t *now);
MPROC_API int mp_list_append(mp_list *l, const void *val, size_t len);
/* A copy of item i (mp_free it); MP_ENOTFOUND if i >= the length. */
MPROC_API int mp_list_get(mp_list *l, size_t i, void **val, size_t *len);
MPROC_API int mp_list_len(mp_list *l, size_t *n);
/* Free the proxy only; the data stays in the server for other proxies. A
 * proxy outliving its manager is safe: its calls read MP_ECLOSED. */
MPROC_API mp_dict *mp_dict_free(mp_dict *d);
MPROC_API mp_list *mp_list_free(mp_list *l);
/* Ends the server cleanly and reaps it (a server that does not end within
 * a few seconds is killed); every later call, from any process, reads
 * MP_ECLOSED. Only the process that started the manager may: elsewhere
 * MP_ESTATE. Again after the first: MP_OK. */
MPROC_API int mp_manager_shutdown(mp_manager *m);
/* In the process that started it: shuts the server down and frees m. In a
 * task, the manager belongs to the call and this does nothing. */
MPROC_API mp_manager *mp_manager_free(mp_manager *m);
MPROC_API mp_object *mp_manager_obj(mp_manager *m);
MPROC_API mp_manager *mp_call_manager(mp_call *call, size_t i);

#ifdef __cplusplus
}
#endif
#endif /* MPROC_H */
