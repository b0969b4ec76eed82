/**
 * @file mproc.h
 * @brief mproc: Python's multiprocessing for C. The public API.
 *
 * Conventions
 *  - Every function that can fail returns int: MP_OK (0) or a negative MP_E*,
 *    and mp_last_error() then has a sentence saying what went wrong, which
 *    starts with the public function that was called ("mp_queue_get: timed
 *    out waiting for a message").
 *  - Predicates (mp_event_is_set, mp_conn_poll, mp_process_is_alive,
 *    mp_async_ready, mp_is_worker) answer 1 or 0 and never an error code,
 *    so `if (pred(x))` always reads right. Given an argument they cannot
 *    use (NULL, a one-way end that only sends, a bad timeout), they set
 *    mp_last_error() and answer what sends the caller on to the call that
 *    reports the error: 0 for "is it set / alive / ready?" (the caller goes
 *    on to wait or join), 1 for mp_conn_poll's "would a receive return at
 *    once?" (it would, with the error).
 *  - Objects are opaque; mp_X_free(x) releases x, accepts NULL, returns NULL.
 *    A pool keeps the objects it was given (a reference of its own) until
 *    it is freed, and a condition the lock it was given: mp_X_free drops
 *    only the caller's hold, and what they need lives on.
 *  - Timeouts are seconds as double, in every call that takes one:
 *    MP_FOREVER (-1) or INFINITY blocks without end (as does any timeout
 *    too long to count, over 10^9 seconds), 0 only tries, a positive number
 *    waits up to that long. Any other negative number, and NaN, is
 *    MP_EINVAL: a deadline computed as "end - now" that has passed must be
 *    given as 0, never as the negative number it comes to.
 *  - Buffers the library hands out (mp_*_recv, mp_queue_get, results) are
 *    released with mp_free().
 *  - Spawn semantics everywhere: a child runs a task looked up by its
 *    registered NAME and gets its argument as BYTES, and only the objects
 *    listed in its options. Nothing else of the parent's memory is relied on,
 *    whatever the start method.
 *  - Options structs (mp_process_options, mp_pool_options, ...): all-zero
 *    means defaults. In C, `mp_pool_options opts = {0};`; in C++,
 *    `mp_pool_options opts{};` (or `= {}`), since `= {0}` there trips
 *    -Wmissing-field-initializers (-Wextra).
 *  - Threads: every function may be called from any thread unless its
 *    comment says otherwise. Callbacks (mp_callback, mp_progress_fn) run on
 *    the pool's callback thread; an mp_producer runs on the thread that
 *    calls mp_pool_imap or mp_iter_next.
 *
 * Every function's comment says what it does, its parameters, the errors it
 * returns and whether it blocks. "Never blocks" means it returns without
 * waiting on another thread or process (it may still take an internal lock
 * held only for a few instructions).
 */
#ifndef MPROC_H
#define MPROC_H

#include <stddef.h>
#include <stdint.h>

/**
 * @def MPROC_API
 * Marks the public functions: exported from the shared library, and the
 * only symbols it exports. A shared build defines MPROC_BUILDING_SHARED;
 * users of the shared library on Windows define MPROC_SHARED (the CMake
 * target mproc::mproc_shared does it for them; without it, calls still
 * link, through a stub).
 */
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

/**
 * @def MPROC_PRINTF
 * printf-style format checking where the compiler has it.
 */
#if defined(__MINGW32__) && !defined(__clang__)
/* The library formats with MinGW's own C99 printf (%zu, %lld), whatever
 * the program's __USE_MINGW_ANSI_STDIO says. (Clang knows no gnu_printf;
 * its printf checks C99 formats already.) */
#  define MPROC_PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#  define MPROC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#  define MPROC_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup version Version
 * The version this header belongs to. CMakeLists.txt's project(VERSION) is
 * the one source: configuring fails if these numbers disagree with it.
 * @{ */
#define MPROC_VERSION_MAJOR 0 /**< Major version. */
#define MPROC_VERSION_MINOR 1 /**< Minor version. */
#define MPROC_VERSION_PATCH 0 /**< Patch version. */
/**
 * The library's version as text.
 * Compare it with the MPROC_VERSION_* numbers to tell the library a program
 * runs with from the header it was compiled with.
 * @return "MAJOR.MINOR.PATCH", e.g. "0.1.0": a static string. Never fails.
 * Never blocks.
 */
MPROC_API const char *mp_version_string(void);
/** @} */

/**
 * @def MP_MAX_MESSAGE
 * The largest message a Connection or Queue carries, and the largest task
 * argument or result: 1 GiB, as a size_t. Over it: MP_ETOOBIG. (C++ gets a
 * static_cast, so the macro passes -Wold-style-cast.)
 */
#ifdef __cplusplus
#  define MP_MAX_MESSAGE (static_cast<size_t>(1) << 30)
#else
#  define MP_MAX_MESSAGE ((size_t)1 << 30)
#endif

/** @defgroup errors Errors
 * Every call that can fail returns MP_OK or one of these negative codes;
 * mp_last_error() has the detail.
 * @{ */
#define MP_OK          0    /**< Success. */
#define MP_EINVAL     -1   /**< Bad argument (NULL where not allowed, bad size). */
#define MP_ENOMEM     -2   /**< Out of memory. */
#define MP_ETIMEDOUT  -3   /**< The timeout ran out. */
#define MP_ECLOSED    -4   /**< Queue/connection closed and drained; peer gone. */
#define MP_EFULL      -5   /**< Non-blocking put on a full queue. */
#define MP_EEMPTY     -6   /**< Non-blocking get on an empty queue. */
#define MP_ETASK      -7   /**< The task reported failure (see the result's message). */
#define MP_ECRASHED   -8   /**< The process running the task died. */
#define MP_ENOTASK    -9   /**< No task registered under that name. */
#define MP_EBOOTSTRAP -10  /**< mp_main() not called first, or called in the wrong place. */
#define MP_ESTATE     -11  /**< Not allowed in this state (pool closed, process not started). */
#define MP_ECANCELLED -12  /**< The work was cancelled (mp_async_cancel, mp_pool_terminate). */
#define MP_EPROTO     -13  /**< A malformed message arrived; nothing was delivered. */
#define MP_ETOOBIG    -14  /**< Over a documented size limit. */
#define MP_ENOTFOUND  -15  /**< No such key (manager dict) or index (manager list). */
#define MP_EOWNERDEAD -16  /**< Lock acquired, but its previous owner died holding it. */
#define MP_ENOTSUP    -17  /**< Not available on this platform/build. */
#define MP_ESYS       -18  /**< The OS refused; mp_last_error() has its words. */

/**
 * A short description of an error code.
 * @param err an MP_* code (MP_OK included).
 * @return e.g. "timed out" for MP_ETIMEDOUT; "unknown error" for a value
 * that is not a code. A static string. Never fails. Never blocks.
 */
MPROC_API const char *mp_strerror(int err);
/**
 * The name of an error code.
 * @param err an MP_* code (MP_OK included).
 * @return e.g. "MP_ETIMEDOUT"; "MP_E?" for a value that is not a code. A
 * static string. Never fails. Never blocks.
 */
MPROC_API const char *mp_err_name(int err);
/**
 * Detail of the last failure on this thread, e.g.
 * "CreateProcessW: The system cannot find the file specified (2)".
 * Each failing call sets it; a successful one may leave an older text in
 * place, so read it only right after a call returned an error.
 * @return a string owned by this thread (at most 511 bytes), valid until
 * this thread's next mproc call; "" if nothing failed yet. Never fails.
 * Never blocks.
 */
MPROC_API const char *mp_last_error(void);
/** @} */

/** @defgroup util Utilities
 * @{ */
#define MP_FOREVER (-1.0) /**< A timeout that never runs out. */

/**
 * Releases a buffer the library handed out (mp_conn_recv, mp_queue_get,
 * mp_dict_get, mp_list_get, the one block of mp_dict_keys and
 * mp_dict_items, ...).
 * @param p the buffer; NULL is fine. Never fails. Never blocks.
 */
MPROC_API void mp_free(void *p);
/**
 * The number of CPUs this process may run on (its affinity mask on Linux),
 * which is the default number of pool workers.
 * @return at least 1. Never fails. Never blocks.
 */
MPROC_API int mp_cpu_count(void);
/**
 * This process's id (Python's os.getpid()).
 * @return the pid (the process id on Windows). Never fails. Never blocks.
 */
MPROC_API int64_t mp_getpid(void);
/** @} */

/** @defgroup main Tasks and the main guard
 * Work is named: a child looks its task up by name, because a function
 * pointer means nothing in a freshly started program.
 * @{ */
typedef struct mp_call mp_call;          /**< One task invocation, in a worker. */
/** A task. Return 0 for success (its result is what it gave
 * mp_call_return, or nothing); any other value is failure (status MP_ETASK,
 * task_code = the value, message = what it gave mp_call_fail). Runs in the
 * child, on its main thread. */
typedef int (*mp_task_fn)(mp_call *call);

/**
 * Names fn so children can run it: a child looks tasks up by name in its
 * own table, because a function pointer means nothing in a freshly started
 * program. Call it before mp_main(); the same calls run again in every
 * spawned child, so both sides agree on the table.
 * @param name the task's name: 1 to 63 bytes, unique (copied).
 * @param fn the function to run.
 * @retval MP_OK registered.
 * @retval MP_EINVAL name or fn NULL, name empty or over 63 bytes, name
 *         already registered (or one the library uses itself).
 * @retval MP_EBOOTSTRAP called after mp_main().
 * @retval MP_ENOMEM no memory for the table.
 *
 * Never blocks.
 */
MPROC_API int mp_register(const char *name, mp_task_fn fn);
/** mp_register(fn) under the function's own name. */
#define MP_REGISTER(fn) mp_register(#fn, (fn))

/**
 * The main guard. Call it at the top of main(), after mp_register() calls
 * and before anything that must not run in workers (argument parsing,
 * opening files, creating processes), with main's own argc and argv.
 *  - In the program the user started: reads MPROC_START_METHOD and returns
 *    (on POSIX it also sets SIGPIPE to ignored if it was at its default,
 *    so a write to a closed pipe is an error code, not the end of the
 *    program).
 *  - In a process this library started (its command line carries the
 *    worker mark in argv[1]): runs the worker and exits; it never returns.
 *  - In a process this library spawned whose argv lacks the mark (mp_main
 *    was given something other than main's argv): refuses, with
 *    MP_EBOOTSTRAP naming the fix (also on stderr), and from then on every
 *    call that would create a process or object in it fails the same way,
 *    so it cannot go on as the user's program and start children of its
 *    own. (A spawned child's environment carries the mark too, for this;
 *    mp_main removes it at once, so no program a task starts inherits it
 *    or is mistaken for a worker.)
 * Creating a process, pool, queue or other object before mp_main() has run
 * fails with MP_EBOOTSTRAP and a message naming the fix, in every start
 * method, so a program written on Linux behaves the same on Windows.
 * @param argc main()'s argc.
 * @param argv main()'s argv.
 * @retval MP_OK this is the program the user started: go on.
 * @retval MP_EINVAL MPROC_START_METHOD has an unknown value.
 * @retval MP_ENOTSUP MPROC_START_METHOD=fork on Windows.
 * @retval MP_EBOOTSTRAP called twice, or inside a task; or a spawned
 *         worker's argv lacks its mark (above).
 *
 * Never blocks in the user's program; in a worker it runs the work and
 * exits.
 */
MPROC_API int mp_main(int argc, char **argv);
/**
 * Whether this process was started by mproc.
 * @return 1 inside a process started by mproc (once mp_main has taken it
 * over), else 0. Never fails. Never blocks.
 */
MPROC_API int mp_is_worker(void);

/** How a child process starts. */
enum mp_start_method {
  MP_START_DEFAULT = 0, /**< fork on POSIX, spawn on Windows; env MPROC_START_METHOD overrides */
  MP_START_FORK,        /**< POSIX only; MP_ENOTSUP on Windows */
  MP_START_SPAWN        /**< re-run this executable; everywhere */
};

/* Inside a task. `call` is valid until the task returns. */
/**
 * The argument's bytes, in place.
 * @param call the task's call.
 * @param len gets the argument's size in bytes (may be NULL).
 * @return the bytes, valid until the task returns; NULL (and *len 0) for a
 * NULL call; NULL or not for an empty argument. Never blocks.
 */
MPROC_API const void *mp_call_arg(mp_call *call, size_t *len);
/**
 * Copies the argument into dst, checking its size.
 * @param call the task's call.
 * @param dst where to copy it (size bytes).
 * @param size the size the task expects.
 * @retval MP_OK copied.
 * @retval MP_EINVAL a NULL argument, or the argument does not have exactly
 *         size bytes.
 *
 * Never blocks.
 */
MPROC_API int mp_call_arg_read(mp_call *call, void *dst, size_t size);
/**
 * Sets the task's result (copied; a second call replaces the first).
 * @param call the task's call.
 * @param data the result's bytes (may be the previous result's own).
 * @param len their number, up to MP_MAX_MESSAGE.
 * @retval MP_OK set.
 * @retval MP_EINVAL call NULL, or data NULL with len > 0.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ENOMEM no memory for the copy.
 *
 * Never blocks (the bytes travel when the task returns).
 */
MPROC_API int mp_call_return(mp_call *call, const void *data, size_t len);
/**
 * Sets the failure message (printf format) and returns MP_ETASK, so a task
 * can `return mp_call_fail(call, "bad input %d", x);`.
 * @param call the task's call.
 * @param fmt a printf format (NULL: an empty message); the text is cut at
 *        1023 bytes.
 * @return MP_ETASK, always. Never blocks.
 */
MPROC_API int mp_call_fail(mp_call *call, const char *fmt, ...) MPROC_PRINTF(2, 3);
/**
 * The item's index inside a map or imap.
 * @param call the task's call.
 * @return the index of the input item this call runs; 0 for apply, for a
 * Process, and for NULL. Never blocks.
 */
MPROC_API size_t mp_call_index(mp_call *call);
/**
 * Which worker of its pool runs this call.
 * @param call the task's call.
 * @return 0..workers-1 in a pool (a replacement takes the number of the
 * worker it replaces); 0 in a Process and for NULL. Never blocks.
 */
MPROC_API int mp_call_worker_id(mp_call *call);
/** @} */

/** @defgroup objects Shareable objects
 * Queues, connections, locks, events, semaphores, barriers, shared memory
 * and managers are handed to children by listing them in the options of
 * mp_process_start() or mp_pool_create(); the child reaches the i-th one
 * with the typed mp_call_X(call, i) accessors (NULL if the kind differs or
 * i is out of range, and mp_last_error() says which: "mp_call_lock: object
 * 0 is a queue, not a lock", "mp_call_queue: the call has 1 object, so
 * there is no object 5"). Objects a task gets this way belong to the call:
 * mp_X_free on them does nothing. A child gets nothing it was not given,
 * and starts with an empty mp_last_error(), whatever its parent's said.
 *
 * A Process takes its objects as they are when it starts: they may be
 * freed right after mp_process_start returns. A pool gives its objects to
 * every worker it starts, replacements included, so it keeps them until
 * mp_pool_free (the user may free them at once).
 * @{ */
typedef struct mp_object mp_object; /**< Any shareable object, as listed in options. */
/** @} */

/** @defgroup results Results
 * @{ */
/** How a task went, and what it returned. */
typedef struct mp_result {
  int status;        /**< MP_OK, MP_ETASK, MP_ECRASHED, MP_ETIMEDOUT, MP_ECANCELLED, ... */
  int task_code;     /**< the task's own non-zero return when status == MP_ETASK */
  void *data;        /**< result bytes (status == MP_OK); NULL if the task gave none (len 0) */
  size_t len;        /**< the number of bytes at data */
  char *message;     /**< failure text, or NULL */
} mp_result;
/**
 * Frees a result's data and message and zeroes it, ready for reuse.
 * @param r the result; NULL is fine. Never fails. Never blocks.
 */
MPROC_API void mp_result_clear(mp_result *r);
/** @} */

/** @defgroup process Process
 * One task in its own process (Python's multiprocessing.Process).
 *
 * Every child is named after the program, so ps, top and core files say
 * what it is: its argv[0] is the parent's (a spawned child's main() sees
 * it too), and on Linux its thread name is "prog: process", or "prog:
 * worker N" for a pool's worker N ("prog:p" and "prog:wN", with prog cut,
 * where that would not fit Linux's 15 bytes).
 *
 * Start methods and the program's other threads. With fork (the POSIX
 * default) the child is a copy of the parent at the moment of the fork:
 * all of its memory, the data of every thread included, but only the one
 * thread that called fork; the others do not exist in the child, and
 * nothing of theirs runs there. (Of the open descriptors, a fork child
 * keeps only those it was handed: mproc closes the rest.) A lock another
 * thread held at that moment, a library's mutex or the program's own, is
 * therefore held in the child forever, and a task that takes it never
 * returns. mproc's own threads hold no lock across a fork, but the task is
 * the program's code.
 * With spawn the child is a fresh run of the program: one thread, nothing
 * copied, no lock to inherit. That is why spawn is the safe choice for a
 * parent with threads of its own; it costs more per start (an exec and a
 * run of main() up to mp_main), which a pool pays once per worker.
 *
 * A child writes its result into shared memory the parent made for it and
 * exits: it never waits for the parent to read, whatever the result's
 * size, so it ends when its task does (mp_process_is_alive turns 0). What
 * the task printed is flushed as it exits. A task that calls exit(N) ends
 * its process with code N, stdout and stderr flushed; on Linux (glibc)
 * none of the program's atexit handlers or C++ static destructors run in
 * it then (with fork they would be the parent's), as after a return;
 * elsewhere exit() runs those the child has. A C++ exception the task lets
 * escape ends the child at once (nothing of the parent's code runs in it,
 * with fork either) and its result reads MP_ECRASHED saying so. Every
 * function may be called from several threads on the same process at
 * once (several may join it); only mp_process_free must come last.
 * @{ */
typedef struct mp_process mp_process; /**< A child process running one task. */
/** Options of mp_process_start; all-zero means defaults. */
typedef struct mp_process_options {
  const char *name;                      /**< shown in errors and logs; default: the task */
  int start_method;                      /**< enum mp_start_method */
  mp_object *const *objects;             /**< shared with the child (mp_call_X(call, i) there) */
  size_t nobjects;                       /**< the number of objects */
} mp_process_options;

/**
 * Starts task in a new process with a copy of arg.
 * The child dies with this process (however this one ends, and whether
 * the child runs or is stopped), and holds only the handles of
 * opts->objects. On POSIX the first child also starts a keeper, a small
 * process of mproc's own (not this one's child: wait() never sees it),
 * that ends the children still listed when this process ends, and then
 * itself; its pipe uses a descriptor taken at mp_main().
 * @param out gets the process; free it with mp_process_free.
 * @param task the registered name of the task to run.
 * @param arg the argument's bytes (copied to the child).
 * @param len their number, up to MP_MAX_MESSAGE.
 * @param opts options, or NULL for defaults.
 * @retval MP_OK started.
 * @retval MP_EINVAL out or task NULL, arg NULL with len > 0, an unknown
 *         start method, a NULL object.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ENOTASK no task of that name.
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_ENOTSUP fork on Windows.
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS the OS refused (fork, exec, CreateProcessW;
 *         mp_last_error() has its words).
 *
 * Blocks only to start the child (with spawn, until it has read arg).
 */
MPROC_API int mp_process_start(mp_process **out, const char *task, const void *arg, size_t len,
                     const mp_process_options *opts);
/**
 * Waits for the child to end and takes its result (a large result is read
 * while the child writes it).
 * @param p the process.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK it has ended (again at once on later calls).
 * @retval MP_ETIMEDOUT it still runs.
 * @retval MP_EINVAL p NULL.
 * @retval MP_ESYS the OS refused to wait for it.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_process_join(mp_process *p, double timeout);
/**
 * Whether the child still runs (reaps it if it has ended).
 * @param p the process.
 * @return 1 if it runs, 0 if it has ended or p is NULL. Never blocks.
 */
MPROC_API int mp_process_is_alive(mp_process *p);
/**
 * The child's exit code.
 * @param p the process.
 * @param code gets: 0 the task succeeded; 1 it failed (mp_process_result
 *        has its code and message); -N ended by signal N (terminate and
 *        kill read -15 and -9 on Windows too, a crash -11 or -6 as on
 *        POSIX); another N if the task called exit(N).
 * @retval MP_OK *code is set.
 * @retval MP_ESTATE it is still running.
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_ESYS (POSIX) something else reaped it, a program that sets
 *         SIGCHLD to SIG_IGN or whose SIGCHLD handler calls wait, and it
 *         ended without a result, so its code is lost. Joining works there
 *         all the same: a child that wrote its result reads 0 or 1 as
 *         above, and one that did not reads MP_ECRASHED saying why.
 *
 * Never blocks.
 */
MPROC_API int mp_process_exitcode(mp_process *p, int *code);
/**
 * The outcome, a copy the caller clears with mp_result_clear.
 * @param p the process.
 * @param res gets: status MP_OK with the task's bytes; MP_ETASK with its
 *        code and message; MP_ECRASHED when it died without a result (the
 *        message gives the signal or exit code); MP_EPROTO if what it sent
 *        was malformed.
 * @retval MP_OK *res is filled.
 * @retval MP_ESTATE the child has not ended (join first).
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_ENOMEM no memory for the copy.
 *
 * Never blocks.
 */
MPROC_API int mp_process_result(mp_process *p, mp_result *res);
/**
 * Asks the child to end: SIGTERM on POSIX, TerminateProcess on Windows
 * (its exit code then reads -15). Join it afterwards.
 * @param p the process.
 * @retval MP_OK sent, or it had already ended.
 * @retval MP_EINVAL p NULL.
 * @retval MP_ESYS the OS refused.
 *
 * Never blocks.
 */
MPROC_API int mp_process_terminate(mp_process *p);
/**
 * Kills the child: SIGKILL on POSIX, TerminateProcess on Windows (its exit
 * code then reads -9). Join it afterwards.
 * @param p the process.
 * @retval MP_OK sent, or it had already ended.
 * @retval MP_EINVAL p NULL.
 * @retval MP_ESYS the OS refused.
 *
 * Never blocks.
 */
MPROC_API int mp_process_kill(mp_process *p);
/**
 * The child's process id.
 * @param p the process.
 * @return its pid; 0 for NULL. Never fails. Never blocks.
 */
MPROC_API int64_t mp_process_pid(const mp_process *p);
/**
 * Frees p. A child still running is killed and reaped: no zombie, no orphan.
 * @param p the process; NULL is fine.
 * @return NULL. Never fails. Blocks only while a killed child is reaped.
 */
MPROC_API mp_process *mp_process_free(mp_process *p);
/** @} */

/** @defgroup pipe Pipe and Connection
 * Python's Pipe(): two connected ends carrying whole messages of any size
 * up to MP_MAX_MESSAGE. A message never arrives torn: a peer that dies
 * mid-message leaves nothing, and the reader sees MP_ECLOSED. One thread at
 * a time per end and direction.
 *
 * An end can be handed on (listed in a child's options, one child after
 * another): a receive reads its message and nothing past it, so whoever
 * reads the end next finds every message nobody has received. A message
 * this process has begun to take in (mp_conn_poll answered 1, or a receive
 * ran out of time or memory half way) stays with this process's copy of
 * the end: receive it before handing the end on.
 * @{ */
typedef struct mp_conn mp_conn; /**< One end of a pipe. */
/**
 * Makes a pipe: two connected ends.
 * @param a gets the first end (with !duplex, the one that receives).
 * @param b gets the second end (with !duplex, the one that sends).
 * @param duplex non-zero: both ends send and receive; 0: a receives, b
 *        sends (the wrong direction gives MP_ESTATE).
 * @retval MP_OK made.
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS the OS refused.
 *
 * Never blocks.
 */
MPROC_API int mp_pipe(mp_conn **a, mp_conn **b, int duplex);
/**
 * Sends one message.
 * @param c this end.
 * @param data the message's bytes.
 * @param len their number, up to MP_MAX_MESSAGE.
 * @retval MP_OK sent (the peer may not have read it yet).
 * @retval MP_ECLOSED the peer is gone.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ESTATE this end of a one-way pipe only receives.
 * @retval MP_EINVAL c NULL, or data NULL with len > 0.
 * @retval MP_ESYS the OS refused.
 *
 * Blocks while the pipe is full (until the peer reads).
 */
MPROC_API int mp_conn_send(mp_conn *c, const void *data, size_t len);
/**
 * Receives one message into a buffer it allocates.
 * @param c this end.
 * @param data gets the message (release with mp_free).
 * @param len gets its size.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK received.
 * @retval MP_ETIMEDOUT nothing came in time (nothing lost: a message half
 *         arrived is kept for the next call).
 * @retval MP_ECLOSED the peer is gone and nothing is left.
 * @retval MP_EPROTO a malformed message (the connection is then broken).
 * @retval MP_ESTATE this end of a one-way pipe only sends.
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_ENOMEM no memory for the message: nothing is lost, the part
 *         that arrived is kept, and a later receive takes the message (or
 *         mp_conn_recv_into, which needs no memory for it).
 * @retval MP_ESYS the OS refused.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_conn_recv(mp_conn *c, void **data, size_t *len, double timeout);
/**
 * Receives one message into the caller's buffer, without allocating.
 * @param c this end.
 * @param buf where the message goes (may be NULL when cap is 0: a 0-byte
 *        message needs no room).
 * @param cap buf's size.
 * @param len gets the message's size (also when it is over cap).
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK received.
 * @retval MP_ETOOBIG the message is over cap: it stays, to be read again.
 * @retval MP_ENOMEM no memory to keep the part of a message that came
 *         before the timeout ran out: the connection is then broken (this
 *         is the only allocation a receive into buf makes).
 * @retval MP_ETIMEDOUT, MP_ECLOSED, MP_EPROTO, MP_ESTATE, MP_EINVAL,
 *         MP_ESYS as for mp_conn_recv.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_conn_recv_into(mp_conn *c, void *buf, size_t cap, size_t *len, double timeout);
/**
 * Waits until a receive would not block. To know that of a message, it
 * takes the whole message in (the next receive hands it out at once):
 * part of one is not enough.
 * @param c this end.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @return 1 if a receive would not block: a whole message, the end, or a
 * failure a receive would report at once (MP_ENOMEM, MP_ESYS; c NULL, an
 * end that only sends or a bad timeout, which mp_last_error() then names);
 * 0 if not within timeout (what came is kept). A predicate: never an error
 * code (see the conventions). Blocks up to timeout.
 */
MPROC_API int mp_conn_poll(mp_conn *c, double timeout);
/**
 * Closes this end (once no pool here holds it); the peer then reads
 * MP_ECLOSED once it has drained what was sent. In a task, an end from
 * mp_call_conn belongs to the call and this does nothing.
 * @param c this end; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_conn *mp_conn_free(mp_conn *c);
/**
 * This end as an object, to list in a child's options.
 * @param c this end.
 * @return the object (valid as long as c); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_conn_obj(mp_conn *c);
/**
 * In a task: the i-th object of its options, as a connection.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the end (it belongs to the call); NULL if i is out of range or
 * that object is not a connection. Never blocks.
 */
MPROC_API mp_conn *mp_call_conn(mp_call *call, size_t i);
/** @} */

/** @defgroup queue Queue
 * Many producers, many consumers, across processes. Messages are byte
 * strings of any size up to MP_QUEUE_MAX_MESSAGE; order is FIFO per producer.
 * The messages live in shared memory, not in the producer: a producer may
 * put and exit before anyone reads (no join-before-drain deadlock). A
 * process killed in the middle of a put or get never leaves a torn message
 * and never wedges the queue; at most its message in flight is lost.
 * Every call may also return MP_EINVAL for a NULL queue.
 *
 * The store: an unbounded queue holds a backlog up to its store, 4 GiB of
 * address space (1 GiB and 64 MiB on 32-bit systems; memory only where
 * messages are), counting each message, those being put included, as its
 * length rounded up to 16 plus 32 bytes; a put is refused for room only
 * when the messages queued and it come to more than that. A bounded queue
 * holds maxsize messages, in the same store.
 *
 * No call waits for another process's copy: a put reserves its room, lets
 * go of the queue's lock, then copies. Messages come out in the order their
 * room was reserved, so one still being copied holds back those behind it
 * (a get keeps its timeout meanwhile), and one whose producer died in the
 * middle of its copy is skipped.
 * @{ */
typedef struct mp_queue mp_queue; /**< A queue shared by processes. */
#define MP_QUEUE_MAX_MESSAGE MP_MAX_MESSAGE      /**< 1 GiB */
/** Options of mp_queue_create; all-zero means defaults. */
typedef struct mp_queue_options {
  size_t maxsize;                        /**< messages; 0 = unbounded: put never blocks */
  int joinable;                          /**< enables task_done/join */
} mp_queue_options;
/**
 * Makes a queue.
 * @param out gets the queue; free it with mp_queue_free.
 * @param opts options, or NULL for defaults (unbounded, not joinable).
 * @retval MP_OK made.
 * @retval MP_EINVAL out NULL.
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS the OS refused its shared memory or wait objects.
 *
 * Never blocks.
 */
MPROC_API int mp_queue_create(mp_queue **out, const mp_queue_options *opts);
/**
 * Copies a message in.
 * @param q the queue.
 * @param data the message's bytes.
 * @param len their number, up to MP_QUEUE_MAX_MESSAGE.
 * @param timeout seconds to wait for room in a bounded queue that is full;
 *        MP_FOREVER waits as long as it takes, 0 only tries.
 * @retval MP_OK queued.
 * @retval MP_ETIMEDOUT still full after timeout; or, with any timeout,
 *         another process stalled (stopped, say) inside the queue's put
 *         lock, which a put holds only while it reserves its room.
 * @retval MP_EFULL full, with timeout 0: maxsize messages queued, or no
 *         room in the store (see the group's note).
 * @retval MP_ECLOSED after mp_queue_close.
 * @retval MP_ETOOBIG over the limit, or more than this queue's store could
 *         ever hold.
 * @retval MP_ENOMEM an unbounded queue's store is full (see the group's
 *         note for when that is).
 * @retval MP_EPROTO the queue's memory was damaged (scribbled on).
 * @retval MP_EINVAL data NULL with len > 0.
 *
 * Blocks up to timeout while a bounded queue is full; otherwise never.
 */
MPROC_API int mp_queue_put(mp_queue *q, const void *data, size_t len, double timeout);
/**
 * Takes the next message into a buffer it allocates.
 * @param q the queue.
 * @param data gets the message (release with mp_free).
 * @param len gets its size.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only tries.
 * @retval MP_OK taken.
 * @retval MP_ETIMEDOUT nothing came in time (nothing queued, or the next
 *         message still being copied in, or other consumers holding the
 *         get lock the whole time).
 * @retval MP_EEMPTY empty, with timeout 0 (or as for MP_ETIMEDOUT).
 * @retval MP_ECLOSED the queue is closed and drained.
 * @retval MP_ENOMEM no memory for the message (it stays queued).
 * @retval MP_EPROTO the queue's memory was damaged (scribbled on); the
 *         damaged message is dropped.
 * @retval MP_EINVAL a NULL argument.
 *
 * Blocks up to timeout while the queue is empty.
 */
MPROC_API int mp_queue_get(mp_queue *q, void **data, size_t *len, double timeout);
/**
 * The hot path: takes the next message into the caller's buffer, without
 * allocating.
 * @param q the queue.
 * @param buf where the message goes.
 * @param cap buf's size.
 * @param len gets the message's size (also when it is over cap).
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only tries.
 * @retval MP_OK taken.
 * @retval MP_ETOOBIG the message is over cap: it stays at the head.
 * @retval MP_ETIMEDOUT, MP_EEMPTY, MP_ECLOSED, MP_EPROTO, MP_EINVAL as for
 *         mp_queue_get.
 *
 * Blocks up to timeout while the queue is empty.
 */
MPROC_API int mp_queue_get_into(mp_queue *q, void *buf, size_t cap, size_t *len, double timeout);
/**
 * The number of messages queued, puts in progress included: approximate
 * while others put and get, exact when quiet; on every platform (Python's
 * raises on macOS).
 * @param q the queue.
 * @param n gets the count.
 * @retval MP_OK counted.
 * @retval MP_EINVAL a NULL argument.
 *
 * Never blocks.
 */
MPROC_API int mp_queue_qsize(mp_queue *q, size_t *n);
/**
 * No more puts, from anyone: consumers drain what is queued (puts that
 * had reserved their room before it included), then get MP_ECLOSED; every
 * waiting put and get wakes up. Closing twice is fine.
 * @param q the queue.
 * @retval MP_OK closed.
 * @retval MP_EINVAL q NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_queue_close(mp_queue *q);
/**
 * Joinable queues: says one item taken from the queue is finished.
 * @param q the queue.
 * @retval MP_OK counted; the last one wakes mp_queue_join.
 * @retval MP_ESTATE the queue is not joinable, or this was called more
 *         times than items were put.
 * @retval MP_EINVAL q NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_queue_task_done(mp_queue *q);
/**
 * Joinable queues: waits until every item put has been task_done.
 * @param q the queue.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK every item is done.
 * @retval MP_ETIMEDOUT some are not.
 * @retval MP_ESTATE the queue is not joinable.
 * @retval MP_EINVAL q NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_queue_join(mp_queue *q, double timeout);
/**
 * This process lets go (once no pool here holds the queue); the queue
 * lives on for the others that have it, and its memory goes with the last
 * of them. Nothing is left behind. In a task, a queue from mp_call_queue
 * belongs to the call and this does nothing.
 * @param q the queue; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_queue *mp_queue_free(mp_queue *q);
/**
 * The queue as an object, to list in a child's options.
 * @param q the queue.
 * @return the object (valid as long as q); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_queue_obj(mp_queue *q);
/**
 * In a task: the i-th object of its options, as a queue.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the queue (it belongs to the call); NULL if i is out of range or
 * that object is not a queue. Never blocks.
 */
MPROC_API mp_queue *mp_call_queue(mp_call *call, size_t i);
/** @} */

/** @defgroup pool Pool
 * A fixed set of worker processes (Python's multiprocessing.Pool). Work
 * waits in the pool's shared memory, and an idle worker takes the next
 * chunk of it itself, so no item waits behind a busy worker while another
 * is idle, and no call ever waits for a worker to read. Each worker says
 * in shared memory which item it runs and publishes each outcome as the
 * item ends, so:
 *  - a worker that dies (crash, abort, kill -9, the OOM killer) fails
 *    exactly the item it was running with MP_ECRASHED (the message gives
 *    the signal or exit code and the item); the items of its chunk that
 *    finished keep their results, and those it had not started run on
 *    another worker, once;
 *  - an item over task_timeout, counted from that item's start, is killed
 *    with its worker: MP_ETIMEDOUT;
 *  - nothing waits without bound on a worker that may be dead: no hang,
 *    whatever the sizes of arguments and results.
 * A C++ exception a task lets escape ends its worker at once and its item
 * reads MP_ECRASHED with a sentence saying so (nothing below the worker
 * runs: in a fork child, the parent's own code). What a task prints to
 * stdout and stderr is flushed when its chunk ends, and when the worker
 * leaves (a pool that is closed, or freed with no work left, lets its
 * workers leave on their own before anything is killed).
 * Threads: every call may be made from any thread. Each pool has a
 * thread of its own, a scheduler, which replaces workers that died,
 * kills items over their time and collects outcomes nobody else waits
 * for, and, from its first job with a callback or an async progress
 * report, a callback thread, which runs callbacks and the progress
 * reports of async maps in order (a slow callback delays other
 * callbacks, never a caller waiting for its own job: a waiting caller
 * collects its outcomes itself, and a blocking map runs its own
 * progress reports on the calling thread). No thread of the pool holds a lock across fork(); with the
 * fork start method a parent whose other threads hold locks a task needs
 * should still use spawn (the Process notes say why).
 * @{ */
typedef struct mp_pool mp_pool;   /**< A pool of worker processes. */
typedef struct mp_async mp_async; /**< A job submitted without waiting (apply_async, map_async). */
typedef struct mp_iter mp_iter;   /**< Results of mp_pool_imap as they complete. */
/** Called once when an async job is done, ON THE POOL'S CALLBACK THREAD
 * (one per pool; as Python's result handler): keep it short, and do not
 * wait on the same pool's jobs from it (theirs run after it returns). Calling other mproc functions is fine. a is the
 * job, ud what was given with it. The job counts as ready only once its
 * callback has returned, so mp_async_wait returns after the callback ran;
 * inside the callback, mp_async_ready(a) is still 0, but mp_async_result(a)
 * and mp_async_results(a) already give the outcome (as Python passes the
 * result to its callback). */
typedef void (*mp_callback)(mp_async *a, void *ud);
/** Called on the pool's callback thread as items complete (not for every
 * item: reports may be merged): done of total items, and the ud given. */
typedef void (*mp_progress_fn)(size_t done, size_t total, void *ud);

/** Options of mp_pool_create; all-zero means defaults. */
typedef struct mp_pool_options {
  int workers;                           /**< 0: mp_cpu_count() */
  int start_method;                      /**< enum mp_start_method */
  const char *initializer;               /**< task run once in each new worker */
  const void *initarg;                   /**< the initializer's argument */
  size_t initarg_len;                    /**< its size */
  unsigned max_tasks_per_child;          /**< 0: unlimited; chunks a worker runs, then it
                                              leaves and is replaced */
  double task_timeout;                   /**< seconds, 0 (or INFINITY): none; an item running longer,
                                              counted from its own start (never the
                                              initializer's time), is killed with its
                                              worker (status MP_ETIMEDOUT) */
  mp_object *const *objects;             /**< shared with every worker; kept by the pool until
                                              mp_pool_free (they may be freed at once) */
  size_t nobjects;                       /**< the number of objects */
} mp_pool_options;

/** Options of one call (an apply, a map, an imap) that override the
 * pool's for that call's items only; all-zero (or NULL) means the pool's.
 * Given to mp_pool_apply_opts and mp_pool_apply_async_opts, and through
 * mp_map_options.call and mp_imap_options.call. Read during the call
 * only: it may be freed (or changed) as soon as the call returns.
 *
 * timeout: seconds each item of the call may run, counted from that
 * item's own start, as the pool's task_timeout is: an item over it is
 * killed with its worker and reads MP_ETIMEDOUT (the worker is replaced).
 * 0 means the pool's task_timeout; INFINITY means no limit for this call
 * even when the pool has one; shorter or longer than the pool's, it is
 * the one that counts. Calls with different limits may run at once on
 * the same workers: each item is held to its own call's. Negative or NaN
 * is MP_EINVAL.
 *
 * objects / nobjects: reserved for objects given to one call. Not yet
 * supported: any nobjects other than 0 is refused with MP_ENOTSUP (after
 * the checks every object list gets: objects NULL with nobjects > 0, a
 * NULL entry, or more than the most a pool shares are MP_EINVAL); share
 * objects through mp_pool_options.objects meanwhile. */
typedef struct mp_call_options {
  double timeout;                        /**< seconds per item; 0: the pool's task_timeout;
                                              INFINITY: none for this call */
  mp_object *const *objects;             /**< reserved: must be NULL (or nobjects 0) */
  size_t nobjects;                       /**< reserved: must be 0 */
} mp_call_options;

/** Options of the map calls; all-zero (or NULL) means defaults. */
typedef struct mp_map_options {
  size_t chunksize;                      /**< 0: chosen by the pool (about 4 chunks per worker) */
  mp_progress_fn progress;               /**< called as items complete */
  void *progress_ud;                     /**< given to progress */
  mp_result *results;                    /**< optional: per-item outcome, n entries (mp_pool_map: status and message; the bytes go to out) */
  const mp_call_options *call;           /**< optional: this call's time limit (NULL: the pool's) */
} mp_map_options;

/**
 * Starts the workers. An initializer that fails (returns non-zero, or its
 * objects cannot be rebuilt) breaks the pool: every task of the pool then
 * fails at once with MP_ETASK and a sentence naming the initializer and
 * how it ended. One that crashes or exits is restarted after a pause that
 * doubles from 50 ms, and three such deaths in a row break the pool the
 * same way; no task is blamed for them.
 * @param out gets the pool; free it with mp_pool_free.
 * @param opts options, or NULL for defaults.
 * @retval MP_OK started.
 * @retval MP_EINVAL out NULL, negative workers or timeout, an unknown
 *         start method, a NULL object.
 * @retval MP_ENOTASK unknown initializer.
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_ENOTSUP fork on Windows.
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS a worker or a thread of the pool could not be started;
 *         nothing is left half made.
 *
 * Blocks while the workers start.
 */
MPROC_API int mp_pool_create(mp_pool **out, const mp_pool_options *opts);

/**
 * Runs task(arg) on a worker and waits.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param arg the argument's bytes (copied).
 * @param len their number, up to MP_MAX_MESSAGE.
 * @param res gets the outcome (clear it with mp_result_clear): its status
 *        says how the task went: MP_OK, MP_ETASK, MP_ECRASHED,
 *        MP_ETIMEDOUT, MP_ECANCELLED (the pool was terminated).
 * @retval MP_OK the task ran (or was stopped): *res says how.
 * @retval MP_EINVAL p, task or res NULL, arg NULL with len > 0.
 * @retval MP_ENOTASK no task of that name.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ESTATE the pool is closed.
 * @retval MP_ENOMEM out of memory.
 *
 * Blocks until the task is done.
 */
MPROC_API int mp_pool_apply(mp_pool *p, const char *task, const void *arg, size_t len, mp_result *res);
/**
 * mp_pool_apply with options of its own: runs task(arg) on a worker, held
 * to call->timeout instead of the pool's task_timeout, and waits.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param arg the argument's bytes (copied).
 * @param len their number, up to MP_MAX_MESSAGE.
 * @param call this call's options (see mp_call_options); NULL is
 *        mp_pool_apply.
 * @param res gets the outcome, as for mp_pool_apply: MP_ETIMEDOUT in its
 *        status when the task ran past call->timeout (its message names
 *        the call's limit).
 * @retval MP_OK the task ran (or was stopped): *res says how.
 * @retval MP_EINVAL as for mp_pool_apply; also a negative or NaN
 *         call->timeout, or a bad object list in call.
 * @retval MP_ENOTSUP call->nobjects is not 0 (not yet supported).
 * @retval MP_ENOTASK, MP_ETOOBIG, MP_ESTATE, MP_ENOMEM as for
 *         mp_pool_apply.
 *
 * Blocks until the task is done.
 */
MPROC_API int mp_pool_apply_opts(mp_pool *p, const char *task, const void *arg, size_t len,
                                 const mp_call_options *call, mp_result *res);
/**
 * Runs task on n fixed-size items, in chunks on the workers, and waits.
 * A task must return exactly out_size bytes. Every item runs, whatever
 * others do; results come in input order.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param in n items of in_size bytes each, one after the other.
 * @param in_size each item's size, up to MP_MAX_MESSAGE.
 * @param n the number of items (0 is fine).
 * @param out room for n results of out_size bytes each.
 * @param out_size each result's size.
 * @param opts chunk size, progress callback (run on the calling thread
 *        while it waits, the last report, done == n, before the map
 *        returns) and per-item outcomes; NULL for defaults.
 * @return MP_OK when every item succeeded; otherwise the status of the
 * lowest-index failed item (MP_ETASK, MP_ECRASHED, MP_ETIMEDOUT,
 * MP_ECANCELLED, or MP_EINVAL for a result not out_size bytes long), with
 * mp_last_error() naming that item, its status and its message (for a
 * wrong size, both sizes), and opts->results tells each one: its status,
 * task_code and message; a result's bytes are in out only (the entry's
 * data stays NULL and len 0). Errors before anything runs: MP_EINVAL (a
 * NULL argument, n times a size overflows, a bad opts->call: see
 * mp_call_options), MP_ENOTSUP (opts->call->nobjects not 0), MP_ENOTASK,
 * MP_ETOOBIG, MP_ESTATE (pool closed), MP_ENOMEM. With opts->call, each
 * item is held to its timeout instead of the pool's task_timeout.
 * Blocks until every item is done.
 */
MPROC_API int mp_pool_map(mp_pool *p, const char *task, const void *in, size_t in_size, size_t n,
                void *out, size_t out_size, const mp_map_options *opts);
/** A run of bytes: one item of a variable-size map. */
typedef struct mp_slice {
  const void *data; /**< the bytes (NULL is fine when len is 0) */
  size_t len;       /**< their number */
} mp_slice;
/**
 * Runs task on n variable-size items and waits.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param in the n items.
 * @param n the number of items (0 is fine).
 * @param out n outcomes: out[i] gets item i's (clear each with
 *        mp_result_clear).
 * @param opts chunk size and progress callback (run on the calling
 *        thread, as mp_pool_map runs it); NULL for defaults.
 * @return as mp_pool_map returns; MP_EINVAL also for an item NULL with a
 * length, or over MP_MAX_MESSAGE.
 * Blocks until every item is done.
 */
MPROC_API int mp_pool_map_slices(mp_pool *p, const char *task, const mp_slice *in, size_t n,
                       mp_result *out, const mp_map_options *opts);

/**
 * Submits task(arg) and returns at once; the work goes on while the caller
 * does other things.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param arg the argument's bytes (copied).
 * @param len their number, up to MP_MAX_MESSAGE.
 * @param cb called once when the job is ready, on the pool's callback
 *        thread (may be NULL).
 * @param ud given to cb.
 * @param out gets the job (release with mp_async_free); NULL for
 *        fire-and-forget.
 * @retval MP_OK submitted.
 * @retval MP_EINVAL, MP_ENOTASK, MP_ETOOBIG, MP_ESTATE, MP_ENOMEM as for
 *         mp_pool_apply.
 *
 * Never blocks for a worker: the argument is copied into the pool's
 * shared memory (or, while that is full, into the pool's own) and a
 * worker takes it from there.
 */
MPROC_API int mp_pool_apply_async(mp_pool *p, const char *task, const void *arg, size_t len,
                        mp_callback cb, void *ud, mp_async **out);
/**
 * mp_pool_apply_async with options of its own (call->timeout instead of
 * the pool's task_timeout); submits and returns at once.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param arg the argument's bytes (copied).
 * @param len their number, up to MP_MAX_MESSAGE.
 * @param call this call's options (see mp_call_options; read before it
 *        returns); NULL is mp_pool_apply_async.
 * @param cb called once when the job is ready, on the pool's callback
 *        thread (may be NULL).
 * @param ud given to cb.
 * @param out gets the job (release with mp_async_free); NULL for
 *        fire-and-forget.
 * @retval MP_OK submitted.
 * @retval MP_EINVAL, MP_ENOTSUP as for mp_pool_apply_opts.
 * @retval MP_ENOTASK, MP_ETOOBIG, MP_ESTATE, MP_ENOMEM as for
 *         mp_pool_apply.
 *
 * Never blocks for a worker, as mp_pool_apply_async.
 */
MPROC_API int mp_pool_apply_async_opts(mp_pool *p, const char *task, const void *arg, size_t len,
                                       const mp_call_options *call, mp_callback cb, void *ud, mp_async **out);
/**
 * Submits a variable-size map and returns at once.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param in the n items (copied before it returns).
 * @param n the number of items.
 * @param opts chunk size and progress callback (run on the pool's
 *        callback thread, before cb); NULL for defaults
 *        (opts->results is not used: read mp_async_results).
 * @param cb called once when every item is done, on the pool's callback
 *        thread (may be NULL).
 * @param ud given to cb.
 * @param out gets the job (release with mp_async_free); may be NULL.
 * @retval MP_OK submitted.
 * @retval MP_EINVAL, MP_ENOTASK, MP_ESTATE, MP_ENOMEM as for
 *         mp_pool_map_slices.
 *
 * Never blocks for a worker, as mp_pool_apply_async.
 */
MPROC_API int mp_pool_map_async(mp_pool *p, const char *task, const mp_slice *in, size_t n,
                      const mp_map_options *opts, mp_callback cb, void *ud, mp_async **out);
/**
 * Waits until an async job is ready (AsyncResult.wait). A job outlives
 * its pool: once the pool is freed (every job it had not finished then
 * reads MP_ECANCELLED), the job's outcome can still be read, and waits
 * answer at once.
 * @param a the job.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK ready: read it with mp_async_result / mp_async_results.
 * @retval MP_ETIMEDOUT not yet.
 * @retval MP_EINVAL a NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_async_wait(mp_async *a, double timeout);
/**
 * Whether an async job is ready.
 * @param a the job.
 * @return 1 or 0 (0 for NULL). Never blocks.
 */
MPROC_API int mp_async_ready(mp_async *a);
/**
 * An async job's outcome (for map_async: its first item's).
 * @param a the job.
 * @return the outcome, owned by the job (valid until mp_async_free); NULL
 * if it is not done yet (or a is NULL, or a map had no items). Inside the
 * job's own callback it is already there. Never blocks.
 */
MPROC_API const mp_result *mp_async_result(mp_async *a);
/**
 * A map_async job's outcomes, one per item in input order.
 * @param a the job.
 * @param n gets the number of items (0 while not ready).
 * @return the outcomes, owned by the job (valid until mp_async_free); NULL
 * if it is not done yet (inside the job's own callback they are there).
 * Never blocks.
 */
MPROC_API const mp_result *mp_async_results(mp_async *a, size_t *n);
/**
 * Cancels an async job: an item not started never starts; a worker that
 * holds one of its chunks is killed (and replaced), the item it runs with
 * it. An item that finished before the call keeps its result; every item
 * without an outcome reads MP_ECANCELLED, and the job's callback still
 * runs once.
 * @param a the job.
 * @retval MP_OK cancelled.
 * @retval MP_ESTATE it had already finished, or its pool was freed.
 * @retval MP_EINVAL a NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_async_cancel(mp_async *a);
/**
 * Releases the caller's hold on an async job. A job not yet done goes on
 * (its callback still runs); its outcome is then dropped.
 * @param a the job; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_async *mp_async_free(mp_async *a);

/** A source of inputs for mp_pool_imap, pulled only as fast as workers
 * take them (backpressure), so the input may be larger than memory. It
 * runs on the thread that calls mp_pool_imap / mp_iter_next.
 * @param ud what was given to mp_pool_imap.
 * @param index the input's index, 0, 1, 2, ...
 * @param item gets the next input (its bytes are copied before the next call).
 * @return 1: *item is the next input; 0: the end; <0: an error, which
 * mp_iter_next returns once the results before it are out. */
typedef int (*mp_producer)(void *ud, size_t index, mp_slice *item);
/** Options of mp_pool_imap; all-zero (or NULL) means defaults. */
typedef struct mp_imap_options {
  size_t chunksize;                      /**< 0: 1 */
  int unordered;                         /**< 1: completion order (imap_unordered) */
  size_t max_in_flight;                  /**< 0: a few chunks per worker */
  const mp_call_options *call;           /**< optional: this imap's time limit per item (NULL: the pool's) */
} mp_imap_options;
/**
 * Streams task over the inputs a producer gives: results as they complete.
 * @param p the pool.
 * @param task the registered name of the task.
 * @param producer gives the inputs; called on this thread now (to fill the
 *        window) and from mp_iter_next.
 * @param ud given to producer.
 * @param opts chunk size, order and window; NULL for defaults.
 * @param out gets the iterator; free it with mp_iter_free.
 * @retval MP_OK started.
 * @retval MP_EINVAL p, producer or out NULL; a bad opts->call (see
 *         mp_call_options).
 * @retval MP_ENOTSUP opts->call->nobjects is not 0 (not yet supported).
 * @retval MP_ENOTASK no task of that name.
 * @retval MP_ESTATE the pool is closed.
 * @retval MP_ENOMEM out of memory.
 * @retval other a negative value of the producer's own, returned as it is
 *         (and no iterator made) when the producer failed before giving
 *         any input.
 *
 * An imap made before mp_pool_close goes on after it: every input its
 * producer gives is run and its result delivered, and the pool's join
 * waits for it. The producer is asked for each index once.
 *
 * Blocks only while the producer runs.
 */
MPROC_API int mp_pool_imap(mp_pool *p, const char *task, mp_producer producer, void *ud,
                 const mp_imap_options *opts, mp_iter **out);
/**
 * The next result of an imap. One thread at a time per iterator.
 * @param it the iterator.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @param index gets the result's input index (may be NULL).
 * @param res gets the outcome (clear it with mp_result_clear).
 * @retval MP_OK *res is the next result.
 * @retval MP_ETIMEDOUT none came in time.
 * @retval MP_ECLOSED after the last.
 * @retval MP_ESTATE the pool has stopped (terminated; or freed, which
 *         it says at once).
 * @retval MP_EINVAL it or res NULL.
 * @retval other a negative value of the producer's own, returned as it is
 *         once the results before its failure are out.
 * Whatever it returns but MP_OK, *res is left empty.
 *
 * Blocks up to timeout; the producer runs on this thread as room frees up.
 */
MPROC_API int mp_iter_next(mp_iter *it, double timeout, size_t *index, mp_result *res);
/**
 * Frees the iterator and drops the rest: work not yet done is cancelled,
 * as mp_async_cancel does (a queued chunk never runs; a worker holding
 * one is killed and replaced).
 * @param it the iterator; NULL is fine.
 * @return NULL. Never fails. Never blocks: nothing waits for the
 * cancelled work to end, nor for any other.
 */
MPROC_API mp_iter *mp_iter_free(mp_iter *it);

/**
 * No new work: queued and running work still completes; then the workers
 * exit. Closing twice is fine.
 * @param p the pool.
 * @retval MP_OK closed.
 * @retval MP_EINVAL p NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_pool_close(mp_pool *p);
/**
 * After close or terminate: waits for the workers to exit and the pool's
 * threads to end.
 * @param p the pool.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK every worker has exited.
 * @retval MP_ETIMEDOUT they are still at work.
 * @retval MP_ESTATE the pool was neither closed nor terminated.
 * @retval MP_EINVAL p NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_pool_join(mp_pool *p, double timeout);
/**
 * Stops now: workers are killed; unfinished tasks read MP_ECANCELLED (and
 * their callbacks run). Join afterwards.
 * @param p the pool.
 * @retval MP_OK stopping.
 * @retval MP_EINVAL p NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_pool_terminate(mp_pool *p);
/**
 * Frees the pool: one with no work left is closed and its workers leave on
 * their own (flushing what they printed), and any still there after 2
 * seconds are killed; one with work left is terminated. Do not call it
 * from one of the pool's callbacks. Jobs and iterators may outlive it
 * (see mp_async_wait, mp_iter_next).
 * @param p the pool; NULL is fine.
 * @return NULL. Never fails. Blocks until the workers are gone.
 */
MPROC_API mp_pool *mp_pool_free(mp_pool *p);
/** @} */

/** @defgroup wait Waiting on many
 * Python's multiprocessing.connection.wait and concurrent.futures.wait /
 * as_completed: one call waits for the first of a mixed set of jobs,
 * processes, connections and queues to be ready, and says which are.
 * What "ready" means is what the kind's own non-blocking call would see:
 *  - a job (mp_async): mp_async_ready would answer 1 (its outcome can be
 *    read); a job whose pool was freed is ready (it reads MP_ECANCELLED);
 *  - a process: it has ended, however (a crash, a kill: ended);
 *  - a connection: mp_conn_poll(c, 0) would answer 1: a whole message, the
 *    peer gone (MP_ECLOSED waits), or a failure a receive reports at once.
 *    Looking is mp_conn_poll's, so it takes a message in, and counts as a
 *    receive: one thread at a time per end, as for every receive;
 *  - a queue: a message is queued (one still being copied in counts: a
 *    get then waits only for that copy), or the queue is closed (a get
 *    then takes what is left, or answers MP_ECLOSED at once).
 * Nothing is taken: the caller then makes the kind's own call (with
 * timeout 0 if it likes; between threads or processes that share the
 * object, another may take it first, as after any poll).
 *
 * How it waits: on the OS's own objects, never spinning: the pools of the
 * set's jobs wake it when one of their jobs becomes ready; a queue's
 * watcher (a thread of this process, started the first time a queue is
 * waited on or asked for its handle, ended by mp_queue_free) wakes it
 * when the queue becomes ready; processes are waited on through their
 * pidfd (Linux) or process HANDLE (Windows), and connections through
 * their descriptor (POSIX). What the OS cannot wait on with the rest, a
 * connection on Windows (a named pipe does not signal when data comes)
 * and a process on POSIX without pidfds, is looked at again every
 * millisecond while the set holds one: such an object is seen at most
 * about 1 ms after it becomes ready (plus the OS's timer granularity),
 * and a set without one, and with no queue, costs nothing while it
 * waits. A watched queue has a cost of its own, from its first wait to
 * mp_queue_free, whether or not anyone waits: one thread per queue, which
 * also looks at the queue every 50 ms (about 20 wake-ups a second, a
 * safety net against a wake-up lost between processes), and each put on
 * it, in any process, makes a wake-up call. For thousands of queues, wait
 * on a few and let the rest be read by their consumers.
 *
 * Objects stay the caller's: none may be freed while an mp_wait on it
 * runs (as for any call on it); a job's pool may be (its jobs then become
 * ready). Several threads may wait at once on sets that share jobs,
 * processes and queues.
 *
 * as_completed (handle each job as it finishes):
 * @code
 * mp_waitable set[N];
 * for (size_t i = 0; i < N; i++) set[i] = mp_waitable_async(jobs[i]);
 * size_t left = N;
 * while (left) {
 *   int n = mp_wait(set, left, 60.0);
 *   if (n < 0) break;                         // MP_ETIMEDOUT or an error
 *   for (size_t i = 0; i < left;)
 *     if (set[i].ready) {
 *       handle(mp_async_result(set[i].obj));  // ready: this never waits
 *       set[i] = set[--left];                 // done with it: out of the set
 *     } else {
 *       i++;
 *     }
 * }
 * @endcode
 *
 * Event loops: mp_pool_fileno, mp_queue_fileno and mp_conn_fileno (POSIX)
 * give a descriptor (POSIX) or HANDLE (Windows) to put in epoll, poll,
 * libuv or WaitForMultipleObjects; then the non-blocking calls
 * (mp_async_ready, mp_queue_get with timeout 0, mp_conn_poll(c, 0)) say
 * what is ready.
 * @{ */
/** A file descriptor (POSIX) or a HANDLE (Windows, where a SOCKET is cast
 * to one): what the pollable handles give and mp_oshandle takes. */
#if defined(_WIN32)
typedef void *mp_os_handle;
#else
typedef int mp_os_handle;
#endif
/** What mp_waitable::obj is. */
enum mp_wait_kind {
  MP_WAIT_ASYNC = 1,   /**< an mp_async* */
  MP_WAIT_PROCESS = 2, /**< an mp_process* */
  MP_WAIT_CONN = 3,    /**< an mp_conn* (an end that receives) */
  MP_WAIT_QUEUE = 4    /**< an mp_queue* */
};
/** One entry of mp_wait's set; make it with mp_waitable_async() and the
 * others, which fill kind to match the object's type. */
typedef struct mp_waitable {
  int kind;   /**< enum mp_wait_kind */
  void *obj;  /**< the object */
  int ready;  /**< set by mp_wait: 1 ready, 0 not */
} mp_waitable;
/** The most objects one mp_wait takes. */
#define MP_WAIT_MAX 65536
/** A set entry for a job. @param a the job. @return the entry. */
static inline mp_waitable mp_waitable_async(mp_async *a) {
  mp_waitable w = {MP_WAIT_ASYNC, a, 0};
  return w;
}
/** A set entry for a process. @param p the process. @return the entry. */
static inline mp_waitable mp_waitable_process(mp_process *p) {
  mp_waitable w = {MP_WAIT_PROCESS, p, 0};
  return w;
}
/** A set entry for a connection. @param c the end. @return the entry. */
static inline mp_waitable mp_waitable_conn(mp_conn *c) {
  mp_waitable w = {MP_WAIT_CONN, c, 0};
  return w;
}
/** A set entry for a queue. @param q the queue. @return the entry. */
static inline mp_waitable mp_waitable_queue(mp_queue *q) {
  mp_waitable w = {MP_WAIT_QUEUE, q, 0};
  return w;
}
/**
 * Waits until at least one object of the set is ready, or the timeout
 * runs out, and marks each: set[i].ready is 1 if it was ready at the last
 * look, else 0 (also on every error).
 * @param set the objects (each at most once).
 * @param n their number, 1 to MP_WAIT_MAX.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only
 *        looks (objects already ready answer at once, whatever the timeout).
 * @return the number of ready objects (1..n), or:
 * @retval MP_ETIMEDOUT none was ready in time (every ready is 0).
 * @retval MP_EINVAL set NULL, n 0, an entry NULL or of an unknown kind,
 *         an object twice, a bad timeout.
 * @retval MP_ESTATE a connection that only sends.
 * @retval MP_ETOOBIG n over MP_WAIT_MAX.
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS the OS refused a wait (poll, WaitForMultipleObjects).
 *
 * Blocks up to timeout, on the OS's objects (see the group's note on the
 * 1 ms bound for connections on Windows).
 */
MPROC_API int mp_wait(mp_waitable *set, size_t n, double timeout);
/**
 * A handle an event loop can wait on for the pool's jobs: readable
 * (POSIX) / signalled (Windows) once any job of the pool became ready
 * since the last mp_pool_fileno_clear, and until the next. Level-style:
 * it stays so until cleared; a wake-up may find no new job ready (one
 * that a caller already saw; or the pool was freed). So an event loop
 * clears first, then looks at its jobs with mp_async_ready, and misses
 * none. The handle is the pool's: do not close it, read it, or give it to
 * a child (it is close-on-exec / not inheritable); it stays valid, and
 * the same, until the pool is freed.
 * @param p the pool.
 * @param out gets the handle.
 * @retval MP_OK *out is set.
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_ESYS the OS refused to make it.
 *
 * Never blocks.
 */
MPROC_API int mp_pool_fileno(mp_pool *p, mp_os_handle *out);
/**
 * Clears the pool's handle (see mp_pool_fileno); before it was asked
 * for, does nothing.
 * @param p the pool.
 * @retval MP_OK cleared.
 * @retval MP_EINVAL p NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_pool_fileno_clear(mp_pool *p);
/**
 * A handle an event loop can wait on for the queue: readable (POSIX) /
 * signalled (Windows) while the queue is ready as mp_wait means it (a
 * message queued, or closed), shortly after it becomes so (what a thread
 * of this process, started by the first call, sees: the queue's other
 * users are other processes, which cannot signal it). Level-style, and
 * it may lag both ways: a wake-up may find the queue empty again
 * (mp_queue_get with timeout 0 then answers MP_EEMPTY; wait again), and
 * it stays set a moment after a get drains the queue. It is the queue's
 * (this process's copy): do not close or read it; valid, and the same,
 * until mp_queue_free; close-on-exec / not inheritable. While a queue is
 * watched so (or by mp_wait), each put in any process costs a wake-up
 * call.
 * @param q the queue.
 * @param out gets the handle.
 * @retval MP_OK *out is set.
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_ENOMEM, MP_ESYS the watcher thread or its handle could not
 *         be made.
 *
 * Never blocks.
 */
MPROC_API int mp_queue_fileno(mp_queue *q, mp_os_handle *out);
/**
 * The descriptor an event loop can wait on for this end (POSIX): readable
 * while the pipe holds bytes or the peer is gone. Level-triggered, and a
 * wake-up may be spurious (part of a message came): then mp_conn_poll(c,
 * 0) answers 0; look again at the next one. After mp_conn_poll answered
 * 1, receive before waiting on the descriptor again (the message is then
 * in this process, not the pipe). It is the end's own: do not close, read
 * or write it; valid until mp_conn_free. Close-on-exec.
 * @param c this end (one that receives).
 * @param out gets the descriptor.
 * @retval MP_OK *out is set.
 * @retval MP_EINVAL a NULL argument.
 * @retval MP_ESTATE this end of a one-way pipe only sends.
 * @retval MP_ENOTSUP Windows: a named pipe's HANDLE does not signal when
 *         data comes (use mp_wait, or a thread that calls mp_conn_poll).
 *
 * Never blocks.
 */
MPROC_API int mp_conn_fileno(mp_conn *c, mp_os_handle *out);
/** @} */

/** @defgroup sync Synchronization
 * Python's Lock, RLock, Semaphore, BoundedSemaphore, Event, Barrier and
 * Condition, across processes. Each lives in shared memory of its own (a
 * page; a condition's also holds its table of waiters) and is handed to
 * children like any object (mp_lock_obj(l) in the options' objects;
 * mp_call_lock(call, i) in the child). What they have in common:
 *  - Every blocking call takes a timeout in seconds, as the conventions
 *    say: MP_FOREVER blocks, 0 only tries. Running out gives MP_ETIMEDOUT
 *    (also for a try that would have blocked).
 *  - Creating one before mp_main() gives MP_EBOOTSTRAP; a NULL argument
 *    gives MP_EINVAL; mp_last_error() says which. Creating may also give
 *    MP_ENOMEM, or MP_ESYS when the OS refuses the shared page or a kernel
 *    object.
 *  - mp_X_free(x) lets this process go of x (NULL is fine; returns NULL)
 *    once nothing here holds it (a pool given it, a condition given the
 *    lock: see the conventions); the object lives on for the other
 *    processes that have it, and is gone with the last of them, however it
 *    ends. In a task, objects from mp_call_X belong to the call: freeing
 *    them does nothing.
 *  - Nothing is named in the system and nothing is left behind.
 *  - mp_X_obj(x) is x as an object to list in a child's options (NULL for
 *    NULL); mp_call_X(call, i) is, in a task, the i-th object of its
 *    options as an X (NULL if i is out of range or the kind differs, with
 *    mp_last_error() saying which).
 * @{ */
typedef struct mp_lock mp_lock;           /**< Lock or RLock. */
typedef struct mp_semaphore mp_semaphore; /**< Semaphore or BoundedSemaphore. */
typedef struct mp_event mp_event;         /**< Event. */
typedef struct mp_barrier mp_barrier;     /**< Barrier. */
typedef struct mp_condition mp_condition; /**< Condition. */
/** The most threads that wait on one condition at once, in all processes. */
#define MP_CONDITION_MAX_WAITERS 1024

/**
 * Makes a Lock or an RLock. A lock belongs to the thread that acquired it:
 * only that thread releases it.
 * Robust: if the holder's process (or thread) dies holding the lock, the
 * next acquirer gets MP_EOWNERDEAD, holds the lock, and should repair
 * whatever the lock protects (a plain lock's depth is then 1). A holder
 * that lets go of it without releasing it counts as one that died: a task
 * that returns holding it (its worker hands it on before it runs anything
 * else, so the next task of a pool worker does not find it still held),
 * or a thread that frees the lock it holds.
 * Uncontended acquire + release costs no system call on Linux.
 * @param out gets the lock; free it with mp_lock_free.
 * @param recursive 0: a Lock; non-zero: an RLock (its holder may take it
 *        again, and releases it as many times).
 * @retval MP_OK made.
 * @retval MP_EINVAL, MP_EBOOTSTRAP, MP_ENOMEM, MP_ESYS as for every
 *         synchronization object.
 *
 * Never blocks.
 */
MPROC_API int mp_lock_create(mp_lock **out, int recursive);
/**
 * Takes the lock.
 * @param l the lock.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only tries.
 * @retval MP_OK acquired. A recursive lock held by this thread is taken
 *         once more at once.
 * @retval MP_EOWNERDEAD acquired; the previous owner died holding it, or
 *         let go of it without releasing it (see mp_lock_create).
 * @retval MP_ETIMEDOUT another thread holds it still.
 * @retval MP_ESTATE this thread already holds this plain lock (it would
 *         wait for itself).
 * @retval MP_ETOOBIG a recursive lock taken 2^32-1 times.
 * @retval MP_EINVAL l NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_lock_acquire(mp_lock *l, double timeout);
/**
 * Gives back one level of this thread's hold; the last one frees the lock.
 * @param l the lock.
 * @retval MP_OK released.
 * @retval MP_ESTATE this thread does not hold it.
 * @retval MP_EINVAL l NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_lock_release(mp_lock *l);
/**
 * Lets go of the lock in this process (see the group's notes). Safe while
 * this thread holds it: the lock is then handed on as its holder's death
 * would, and its next acquirer gets MP_EOWNERDEAD.
 * @param l the lock; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_lock *mp_lock_free(mp_lock *l);

/**
 * Makes a Semaphore: a count that acquire takes one from (blocking at
 * zero) and release gives one back to. A process that dies does not give
 * back what it took.
 * @param out gets the semaphore; free it with mp_semaphore_free.
 * @param value the count to start with.
 * @param max 0: unbounded (Semaphore); otherwise the count never goes
 *        above max (BoundedSemaphore).
 * @retval MP_OK made.
 * @retval MP_EINVAL value over a non-zero max, or out NULL.
 * @retval MP_EBOOTSTRAP, MP_ENOMEM, MP_ESYS as for every synchronization
 *         object.
 *
 * Never blocks.
 */
MPROC_API int mp_semaphore_create(mp_semaphore **out, unsigned value, unsigned max /* 0: unbounded */);
/**
 * Takes one from the count, waiting while it is zero.
 * @param s the semaphore.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only tries.
 * @retval MP_OK taken.
 * @retval MP_ETIMEDOUT the count stayed zero.
 * @retval MP_EINVAL s NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_semaphore_acquire(mp_semaphore *s, double timeout);
/**
 * Gives one back to the count, waking a waiter.
 * @param s the semaphore.
 * @retval MP_OK given back.
 * @retval MP_EFULL the count is at max (bounded) or at UINT32_MAX.
 * @retval MP_EINVAL s NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_semaphore_release(mp_semaphore *s);
/**
 * The count now (Python's get_value, on every platform).
 * @param s the semaphore.
 * @param value gets the count (it may change at once).
 * @retval MP_OK read.
 * @retval MP_EINVAL a NULL argument.
 *
 * Never blocks.
 */
MPROC_API int mp_semaphore_value(mp_semaphore *s, unsigned *value);
/**
 * Lets go of the semaphore in this process (see the group's notes).
 * @param s the semaphore; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_semaphore *mp_semaphore_free(mp_semaphore *s);

/**
 * Makes an Event: a flag, initially clear.
 * @param out gets the event; free it with mp_event_free.
 * @retval MP_OK made.
 * @retval MP_EINVAL, MP_EBOOTSTRAP, MP_ENOMEM, MP_ESYS as for every
 *         synchronization object.
 *
 * Never blocks.
 */
MPROC_API int mp_event_create(mp_event **out);
/**
 * Sets the flag and wakes every waiter.
 * @param e the event.
 * @retval MP_OK set.
 * @retval MP_EINVAL e NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_event_set(mp_event *e);
/**
 * Clears the flag.
 * @param e the event.
 * @retval MP_OK cleared.
 * @retval MP_EINVAL e NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_event_clear(mp_event *e);
/**
 * Whether the flag is set.
 * @param e the event.
 * @return 1 or 0 (0 for NULL, with mp_last_error() saying so: a
 * predicate, see the conventions). Never blocks.
 */
MPROC_API int mp_event_is_set(mp_event *e);
/**
 * Waits until the flag is set. A waiter woken by set returns MP_OK even if
 * the flag was cleared again since.
 * @param e the event.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK set.
 * @retval MP_ETIMEDOUT not set in time.
 * @retval MP_EINVAL e NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_event_wait(mp_event *e, double timeout);
/**
 * Lets go of the event in this process (see the group's notes).
 * @param e the event; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_event *mp_event_free(mp_event *e);

/**
 * Makes a Barrier for parties processes or threads: each wait blocks until
 * parties waits have arrived, then all return MP_OK and the barrier is
 * ready for the next round. A wait that times out breaks the barrier (as
 * Python's BrokenBarrierError): it returns MP_ETIMEDOUT, and every other
 * waiter, and every later wait, gets MP_ESTATE until mp_barrier_reset.
 * A process that dies while waiting is not noticed: give waits a timeout,
 * or mp_barrier_abort from a process that sees it die.
 * @param out gets the barrier; free it with mp_barrier_free.
 * @param parties how many waits make a round (at least 1).
 * @retval MP_OK made.
 * @retval MP_EINVAL parties 0, or out NULL.
 * @retval MP_EBOOTSTRAP, MP_ENOMEM, MP_ESYS as for every synchronization
 *         object.
 *
 * Never blocks.
 */
MPROC_API int mp_barrier_create(mp_barrier **out, unsigned parties);
/**
 * Waits for the round's other parties.
 * @param b the barrier.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only looks.
 * @retval MP_OK the round is complete.
 * @retval MP_ETIMEDOUT the timeout ran out: this breaks the barrier for all.
 * @retval MP_ESTATE the barrier is broken (a wait timed out, it was
 *         aborted, or a party died holding its internal lock), or it was
 *         reset while this party waited.
 * @retval MP_EINVAL b NULL.
 *
 * Blocks up to timeout.
 */
MPROC_API int mp_barrier_wait(mp_barrier *b, double timeout);
/**
 * mp_barrier_wait, telling the party its place in the round (Python's
 * wait() returns it): the arrivals are numbered 0 (first) to parties - 1
 * (last, which completes the round), each number given to one party, so
 * parties can pick one of them to do a job for the round (`if (index ==
 * 0) ...`).
 * @param b the barrier.
 * @param timeout as for mp_barrier_wait.
 * @param index gets the place, 0..parties-1, whatever the outcome (may be
 *        NULL; not set when the call fails before arriving).
 * @return as mp_barrier_wait. Blocks up to timeout.
 */
MPROC_API int mp_barrier_wait_index(mp_barrier *b, double timeout, unsigned *index);
/**
 * Back to a fresh round (Python's reset): the parties still waiting get
 * MP_ESTATE, and a broken barrier is usable again. A round that completed
 * is not undone: the parties it released get MP_OK, even those that had
 * not yet woken up when the reset came.
 * @param b the barrier.
 * @retval MP_OK reset.
 * @retval MP_EINVAL b NULL.
 *
 * Blocks only for the barrier's internal lock (held briefly).
 */
MPROC_API int mp_barrier_reset(mp_barrier *b);
/**
 * Breaks the barrier now (Python's abort); waiters and later
 * waits get MP_ESTATE until mp_barrier_reset.
 * @param b the barrier.
 * @retval MP_OK broken.
 * @retval MP_EINVAL b NULL.
 *
 * Blocks only for the barrier's internal lock (held briefly).
 */
MPROC_API int mp_barrier_abort(mp_barrier *b);
/**
 * Lets go of the barrier in this process (see the group's notes).
 * @param b the barrier; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_barrier *mp_barrier_free(mp_barrier *b);

/**
 * Makes a Condition around a lock. A child given the condition gets its
 * lock with it. wait and notify need the calling thread to hold the lock
 * (MP_ESTATE otherwise). At most MP_CONDITION_MAX_WAITERS threads, of all
 * processes, wait on one condition at once. A waiter that dies in its
 * wait (its process killed) is passed over: no notify is spent on it, and
 * its place comes back.
 * @param out gets the condition; free it with mp_condition_free.
 * @param lock the lock to use (the condition keeps it for as long as it
 *        lives, so it may be freed first); NULL: the condition makes its
 *        own, recursive (Python's default RLock).
 * @retval MP_OK made.
 * @retval MP_EINVAL, MP_EBOOTSTRAP, MP_ENOMEM, MP_ESYS as for every
 *         synchronization object.
 *
 * Never blocks.
 */
MPROC_API int mp_condition_create(mp_condition **out, mp_lock *lock /* NULL: its own */);
/**
 * Releases the lock (every level of a recursive one), sleeps until
 * notified or the timeout, then takes the lock back (blocking, as Python
 * does) before it returns. Wake-ups may be spurious in effect (a notify
 * taken by another waiter): re-check the predicate in a loop.
 * @param c the condition; the calling thread holds its lock.
 * @param timeout seconds to sleep; MP_FOREVER as long as it takes.
 * @retval MP_OK notified.
 * @retval MP_ETIMEDOUT not notified in time.
 * @retval MP_EOWNERDEAD notified or not, the lock came back from a holder
 *         that died.
 * @retval MP_ESTATE this thread does not hold the lock.
 * @retval MP_ETOOBIG MP_CONDITION_MAX_WAITERS threads already wait on it
 *         (this one did not wait, and still holds the lock).
 * @retval MP_EINVAL c NULL.
 *
 * Blocks up to timeout, then until the lock is free.
 */
MPROC_API int mp_condition_wait(mp_condition *c, double timeout);
/** A condition's predicate (mp_condition_wait_for): non-zero once what the
 * caller waits for is true. It runs holding the condition's lock. */
typedef int (*mp_predicate)(void *ud);
/**
 * Waits until pred(ud) is true (Python's wait_for): checks it first, then
 * waits on the condition and checks again after each wake, and once more
 * when the time is up.
 * @param c the condition; the calling thread holds its lock (and holds it
 *        again whenever it returns).
 * @param pred the predicate, called with the lock held.
 * @param ud given to pred.
 * @param timeout seconds in all; MP_FOREVER as long as it takes, 0 only
 *        checks.
 * @retval MP_OK pred is true.
 * @retval MP_ETIMEDOUT pred was still false when the time ran out.
 * @retval MP_EOWNERDEAD the lock came back from a holder that died: repair
 *         what it guards, then wait again (pred is not asked then).
 * @retval MP_ESTATE this thread does not hold the lock.
 * @retval MP_ETOOBIG as for mp_condition_wait.
 * @retval MP_EINVAL c or pred NULL, or a bad timeout.
 *
 * Blocks up to timeout, then until the lock is free.
 */
MPROC_API int mp_condition_wait_for(mp_condition *c, mp_predicate pred, void *ud, double timeout);
/**
 * Wakes up to n waiters (that were waiting before the call), those that
 * came first first; waiters whose process has ended are passed over.
 * @param c the condition; the calling thread holds its lock.
 * @param n how many at most (0 wakes none).
 * @retval MP_OK done.
 * @retval MP_ESTATE this thread does not hold the lock.
 * @retval MP_EINVAL c NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_condition_notify(mp_condition *c, unsigned n);
/**
 * Wakes every waiter (that was waiting before the call).
 * @param c the condition; the calling thread holds its lock.
 * @retval MP_OK done.
 * @retval MP_ESTATE this thread does not hold the lock.
 * @retval MP_EINVAL c NULL.
 *
 * Never blocks.
 */
MPROC_API int mp_condition_notify_all(mp_condition *c);
/**
 * Takes the condition's lock: mp_lock_acquire of it.
 * @param c the condition.
 * @param timeout seconds; MP_FOREVER waits as long as it takes, 0 only tries.
 * @return as mp_lock_acquire. Blocks up to timeout.
 */
MPROC_API int mp_condition_acquire(mp_condition *c, double timeout);
/**
 * Releases the condition's lock: mp_lock_release of it.
 * @param c the condition.
 * @return as mp_lock_release. Never blocks.
 */
MPROC_API int mp_condition_release(mp_condition *c);
/**
 * Lets go of the condition in this process (see the group's notes), and of
 * the lock it made itself, if it did.
 * @param c the condition; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_condition *mp_condition_free(mp_condition *c);

/**
 * The lock as an object, to list in a child's options.
 * @param l the lock.
 * @return the object (valid as long as l); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_lock_obj(mp_lock *l);
/**
 * The semaphore as an object, to list in a child's options.
 * @param s the semaphore.
 * @return the object (valid as long as s); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_semaphore_obj(mp_semaphore *s);
/**
 * The event as an object, to list in a child's options.
 * @param e the event.
 * @return the object (valid as long as e); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_event_obj(mp_event *e);
/**
 * The barrier as an object, to list in a child's options.
 * @param b the barrier.
 * @return the object (valid as long as b); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_barrier_obj(mp_barrier *b);
/**
 * The condition (with its lock) as an object, to list in a child's options.
 * @param c the condition.
 * @return the object (valid as long as c); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_condition_obj(mp_condition *c);
/**
 * In a task: the i-th object of its options, as a lock.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the lock (it belongs to the call); NULL if i is out of range or
 * that object is not a lock. Never blocks.
 */
MPROC_API mp_lock *mp_call_lock(mp_call *call, size_t i);
/**
 * In a task: the i-th object of its options, as a semaphore.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the semaphore (it belongs to the call); NULL if i is out of
 * range or that object is not a semaphore. Never blocks.
 */
MPROC_API mp_semaphore *mp_call_semaphore(mp_call *call, size_t i);
/**
 * In a task: the i-th object of its options, as an event.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the event (it belongs to the call); NULL if i is out of range or
 * that object is not an event. Never blocks.
 */
MPROC_API mp_event *mp_call_event(mp_call *call, size_t i);
/**
 * In a task: the i-th object of its options, as a barrier.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the barrier (it belongs to the call); NULL if i is out of range
 * or that object is not a barrier. Never blocks.
 */
MPROC_API mp_barrier *mp_call_barrier(mp_call *call, size_t i);
/**
 * In a task: the i-th object of its options, as a condition.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the condition (it belongs to the call); NULL if i is out of
 * range or that object is not a condition. Never blocks.
 */
MPROC_API mp_condition *mp_call_condition(mp_call *call, size_t i);
/** @} */

/** @defgroup shm Shared memory
 * A block of bytes, zero-filled, mapped in every process it is given to
 * (mp_shm_obj in the options, mp_call_shm in the child) at an address of
 * that process's own: store offsets in it, never pointers. Pages take
 * memory only once written (Windows charges its commit limit up front).
 * It has no name, and it is gone when the last process that has it frees
 * it or ends. Guard concurrent changes with a Lock.
 * @{ */
typedef struct mp_shm mp_shm; /**< A block of shared memory. */
/**
 * Makes a block of shared memory, zero-filled.
 * @param out gets the block; free it with mp_shm_free.
 * @param size its size in bytes (at least 1).
 * @retval MP_OK made.
 * @retval MP_EINVAL size 0, or out NULL.
 * @retval MP_ETOOBIG past half the address space, or more than the system
 *         lets a process map.
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS the OS refused.
 *
 * Never blocks.
 */
MPROC_API int mp_shm_create(mp_shm **out, size_t size);
/**
 * Where the block is mapped in this process.
 * @param s the block.
 * @return its first byte, page-aligned; NULL for NULL. Never blocks.
 */
MPROC_API void *mp_shm_ptr(mp_shm *s);
/**
 * The block's size.
 * @param s the block.
 * @return its size in bytes; 0 for NULL. Never blocks.
 */
MPROC_API size_t mp_shm_size(mp_shm *s);
/**
 * Unmaps the block in this process (once no pool here holds it); it is
 * gone when the last user frees it. In a task, a block from mp_call_shm
 * belongs to the call and this does nothing.
 * @param s the block; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_shm *mp_shm_free(mp_shm *s);
/**
 * The block as an object, to list in a child's options.
 * @param s the block.
 * @return the object (valid as long as s); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_shm_obj(mp_shm *s);
/**
 * In a task: the i-th object of its options, as shared memory.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the block (it belongs to the call); NULL if i is out of range or
 * that object is not shared memory. Never blocks.
 */
MPROC_API mp_shm *mp_call_shm(mp_call *call, size_t i);
/** @} */

/** @defgroup oshandle OS handles
 * A file descriptor (POSIX) or HANDLE (Windows) of this process handed to
 * the children it is listed for (mp_oshandle_obj in the options'
 * objects, mp_call_oshandle in the child): an open file, a pipe, a
 * socket; a listening socket handed to a pool's workers, each accepting
 * on it, is a prefork server. It reaches only the children whose options
 * list it (POSIX: close-on-exec, and every descriptor not listed is
 * closed in the child; Windows: handed with
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST, never inheritable otherwise), a
 * pool's replacement workers included. Parent and children share the one
 * open file (its offset, its flags) as after dup().
 *
 * Windows: files, pipes and other kernel handles are duplicated with
 * DuplicateHandle. A SOCKET is passed the same way, which Windows
 * supports only for sockets of the base providers (no layered service
 * providers); WSADuplicateSocket is not used.
 * @{ */
/* mp_os_handle: see "Waiting on many". */
typedef struct mp_oshandle mp_oshandle; /**< An OS handle to hand to children. */
/**
 * Wraps a copy of an OS handle, to list in children's options. The
 * library duplicates h (dup / DuplicateHandle): the caller keeps h and
 * may close it at any time, even right after a start; the copy lives
 * until mp_oshandle_free and the last pool holding it are done.
 * @param out gets the object; free it with mp_oshandle_free.
 * @param h an open descriptor / HANDLE of this process.
 * @retval MP_OK made.
 * @retval MP_EINVAL out NULL, or h not open (-1, INVALID_HANDLE_VALUE, a
 *         closed descriptor).
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_ENOMEM out of memory.
 * @retval MP_ESYS the OS refused the copy (e.g. out of descriptors).
 *
 * Never blocks.
 */
MPROC_API int mp_oshandle_create(mp_oshandle **out, mp_os_handle h);
/**
 * The library's copy in this process (not the h given to create).
 * @param x the object.
 * @return the descriptor / HANDLE, owned by x: do not close it; -1 (or
 * INVALID_HANDLE_VALUE) for NULL. Never blocks.
 */
MPROC_API mp_os_handle mp_oshandle_get(mp_oshandle *x);
/**
 * Closes this process's copy (once no pool here holds it). Children keep
 * theirs. In a task, an object from the call belongs to the call and this
 * does nothing.
 * @param x the object; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_oshandle *mp_oshandle_free(mp_oshandle *x);
/**
 * The handle as an object, to list in a child's options.
 * @param x the object.
 * @return the object (valid as long as x); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_oshandle_obj(mp_oshandle *x);
/**
 * In a task: the i-th object of its options, as an OS handle.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @param out gets the descriptor / HANDLE. It belongs to the call (in a
 *        pool, to the worker: every task of that worker gets the same
 *        one): use it during the task, never close it; dup it to keep it
 *        past the task. It is close-on-exec / not inheritable.
 * @retval MP_OK *out set.
 * @retval MP_EINVAL call or out NULL, i out of range, or object i is of
 *         another kind ("mp_call_oshandle: object 0 is a queue, not a
 *         handle"); *out is then -1 / INVALID_HANDLE_VALUE.
 *
 * Never blocks.
 */
MPROC_API int mp_call_oshandle(mp_call *call, size_t i, mp_os_handle *out);
/** @} */

/** @defgroup manager Manager
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
 * dropped) and MP_ESYS.
 *
 * Every call is one request that the server carries out in one step under
 * its one lock: no other process sees half of a pop, a setdefault, an
 * update or an insert, and keys and items are a snapshot. As in Python, a
 * missing key and an index out of range are errors (MP_ENOTFOUND, Python's
 * KeyError and IndexError), and dicts keep their keys in insertion order.
 * A call that returns MP_ENOMEM after its reply arrived (no memory here
 * for the answer) was carried out all the same.
 * @{ */
typedef struct mp_manager mp_manager; /**< A manager: its server process, or a handle to it. */
typedef struct mp_dict mp_dict;       /**< A proxy for a dict in the server. */
typedef struct mp_list mp_list;       /**< A proxy for a list in the server. */
#define MP_MANAGER_KEY_MAX 1024   /**< The longest key or name, in bytes. */
/** mp_list_pop's index for the last item (Python's l.pop()). */
#define MP_LIST_LAST SIZE_MAX
/** One entry of mp_dict_items. Every pointer points into the one block
 * mp_dict_items hands out. */
typedef struct mp_dict_item {
  const char *key; /**< The key, NUL-terminated. */
  const void *val; /**< Its value's bytes, aligned as malloc's (non-NULL even for 0 bytes). */
  size_t len;      /**< Their number. */
} mp_dict_item;

/**
 * Starts the server process (by the default start method) and waits until
 * it listens.
 * @param out gets the manager; free it with mp_manager_free.
 * @retval MP_OK running.
 * @retval MP_EBOOTSTRAP before mp_main().
 * @retval MP_EINVAL, MP_ENOMEM, MP_ESYS as for every manager call (MP_ESYS
 *         also when the server could not be started).
 *
 * Blocks while the server starts.
 */
MPROC_API int mp_manager_start(mp_manager **out);
/**
 * The dict called name, created empty if it does not exist yet: every
 * process that opens the same name sees the same one. Dicts and lists have
 * separate names.
 * @param m the manager.
 * @param name its name.
 * @param out gets a proxy for this process; free it with mp_dict_free (the
 *        data stays in the server).
 * @retval MP_OK opened.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_manager_dict(mp_manager *m, const char *name, mp_dict **out);
/**
 * The list called name, created empty if it does not exist yet (as
 * mp_manager_dict).
 * @param m the manager.
 * @param name its name.
 * @param out gets a proxy for this process; free it with mp_list_free.
 * @retval MP_OK opened.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_manager_list(mp_manager *m, const char *name, mp_list **out);
/**
 * d[key] = the len bytes at val (copied).
 * @param d the dict.
 * @param key the key.
 * @param val the value's bytes.
 * @param len their number, up to MP_MAX_MESSAGE.
 * @retval MP_OK set.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_set(mp_dict *d, const char *key, const void *val, size_t len);
/**
 * A copy of d[key].
 * @param d the dict.
 * @param key the key.
 * @param val gets the bytes (release with mp_free; non-NULL even for 0
 *        bytes).
 * @param len gets their number.
 * @retval MP_OK read.
 * @retval MP_ENOTFOUND there is no such key.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_get(mp_dict *d, const char *key, void **val, size_t *len);
/**
 * Removes d[key].
 * @param d the dict.
 * @param key the key.
 * @retval MP_OK removed.
 * @retval MP_ENOTFOUND there was no such key.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_del(mp_dict *d, const char *key);
/**
 * Whether d has key (Python's `key in d`). Unlike the predicates this is
 * a call that can fail (the server may be gone), so it answers in *found.
 * @param d the dict.
 * @param key the key.
 * @param found gets 1 if the key is there, 0 if not (0 on failure).
 * @retval MP_OK looked.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_contains(mp_dict *d, const char *key, int *found);
/**
 * Removes d[key] and hands out its value, in one step (Python's
 * d.pop(key)): of several processes popping the same key, one gets it.
 * @param d the dict.
 * @param key the key.
 * @param val gets the bytes (release with mp_free; non-NULL even for 0
 *        bytes; NULL on failure).
 * @param len gets their number.
 * @retval MP_OK removed and read.
 * @retval MP_ENOTFOUND there is no such key.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call
 *         (MP_ENOMEM here: the key is gone, its bytes are lost).
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_pop(mp_dict *d, const char *key, void **val, size_t *len);
/**
 * d[key] = a copy of dflt's dlen bytes unless key is there, in one step,
 * and what d[key] is afterwards (Python's d.setdefault(key, default)): of
 * several processes setting the same key, the first one's value stays and
 * all of them read it.
 * @param d the dict.
 * @param key the key.
 * @param dflt the default's bytes (NULL for 0 bytes is fine).
 * @param dlen their number, up to MP_MAX_MESSAGE.
 * @param val gets a copy of d[key] afterwards (release with mp_free); NULL
 *        to have nothing back (the server then sends no bytes).
 * @param len gets their number; NULL exactly when val is NULL.
 * @retval MP_OK done.
 * @retval MP_ETOOBIG dlen over MP_MAX_MESSAGE.
 * @retval MP_EINVAL only one of val and len is NULL, and as for every
 *         manager call.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_setdefault(mp_dict *d, const char *key, const void *dflt, size_t dlen, void **val,
                                 size_t *len);
/**
 * Removes every key of d (Python's d.clear()).
 * @param d the dict.
 * @retval MP_OK emptied.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_clear(mp_dict *d);
/**
 * dst[k] = src[k] for every key of src, in one step (Python's
 * dst.update(src)): keys dst had keep their place, new ones come at the
 * end in src's order. No bytes travel: the server shares the values.
 * @param dst the dict to change.
 * @param src the dict to copy from (the same as dst is fine: nothing
 *        changes); both of the same manager.
 * @retval MP_OK updated.
 * @retval MP_EINVAL the dicts belong to different managers, or as for
 *         every manager call.
 * @retval MP_ENOMEM the server ran out of memory (dst did not change).
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_update(mp_dict *dst, mp_dict *src);
/**
 * The keys of d, all taken in one step, in insertion order (Python's
 * list(d.keys())).
 * @param d the dict.
 * @param keys gets an array of *n NUL-terminated keys. The array and the
 *        strings are one block: release it with one mp_free(*keys)
 *        (non-NULL even for an empty dict; NULL on failure).
 * @param n gets the number of keys.
 * @retval MP_OK read.
 * @retval MP_ETOOBIG the keys come to more than MP_MAX_MESSAGE bytes (8,
 *         and 4 more per key than the keys' lengths).
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server; a reply over 64 KiB comes over
 * the socket rather than the shared-memory lane.
 */
MPROC_API int mp_dict_keys(mp_dict *d, char ***keys, size_t *n);
/**
 * The keys of d and their values, all taken in one step, in insertion
 * order (Python's list(d.items())).
 * @param d the dict.
 * @param items gets an array of *n entries (mp_dict_item). The array, the
 *        keys and the values are one block: release it with one
 *        mp_free(*items) (non-NULL even for an empty dict; NULL on
 *        failure).
 * @param n gets the number of entries.
 * @retval MP_OK read.
 * @retval MP_ETOOBIG the keys and values come to more than MP_MAX_MESSAGE
 *         bytes (8, and 12 more per entry than their lengths).
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server; a reply over 64 KiB comes over
 * the socket rather than the shared-memory lane.
 */
MPROC_API int mp_dict_items(mp_dict *d, mp_dict_item **items, size_t *n);
/**
 * The number of keys in d.
 * @param d the dict.
 * @param n gets it.
 * @retval MP_OK counted.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_len(mp_dict *d, size_t *n);
/**
 * d[key] += delta in one step in the server, so concurrent adders never
 * lose an update (the d[k] += 1 trap of get-then-set). The value is an
 * int64_t in this machine's byte order (8 bytes, as mp_dict_get returns
 * it); a missing key counts from 0.
 * @param d the dict.
 * @param key the key.
 * @param delta what to add (0 reads the value).
 * @param now gets the new value (may be NULL).
 * @retval MP_OK added.
 * @retval MP_EINVAL the value there is not 8 bytes, or the sum would
 *         overflow (nothing changes then).
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_dict_add_i64(mp_dict *d, const char *key, int64_t delta, int64_t *now);
/**
 * Appends a copy of len bytes to the list.
 * @param l the list.
 * @param val the item's bytes.
 * @param len their number, up to MP_MAX_MESSAGE.
 * @retval MP_OK appended.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_append(mp_list *l, const void *val, size_t len);
/**
 * A copy of item i.
 * @param l the list.
 * @param i the item's index, from 0.
 * @param val gets the bytes (release with mp_free).
 * @param len gets their number.
 * @retval MP_OK read.
 * @retval MP_ENOTFOUND i is not below the length.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_get(mp_list *l, size_t i, void **val, size_t *len);
/**
 * Item i = a copy of len bytes (Python's l[i] = value).
 * @param l the list.
 * @param i the item's index, from 0.
 * @param val the bytes.
 * @param len their number, up to MP_MAX_MESSAGE.
 * @retval MP_OK set.
 * @retval MP_ENOTFOUND i is not below the length (as mp_list_get).
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_set(mp_list *l, size_t i, const void *val, size_t len);
/**
 * Inserts a copy of len bytes before item i, in one step (Python's
 * l.insert(i, value)): as in Python, an i at or past the length appends.
 * @param l the list.
 * @param i where the item goes, from 0.
 * @param val the bytes.
 * @param len their number, up to MP_MAX_MESSAGE.
 * @retval MP_OK inserted.
 * @retval MP_ETOOBIG len over MP_MAX_MESSAGE.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_insert(mp_list *l, size_t i, const void *val, size_t len);
/**
 * Removes item i and hands it out, in one step (Python's l.pop(i)): of
 * several processes popping, each gets a different item.
 * @param l the list.
 * @param i the item's index, from 0, or MP_LIST_LAST for the last one.
 * @param val gets the bytes (release with mp_free; NULL on failure).
 * @param len gets their number.
 * @retval MP_OK removed and read.
 * @retval MP_ENOTFOUND i is not below the length, or the list is empty.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call
 *         (MP_ENOMEM here: the item is gone, its bytes are lost).
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_pop(mp_list *l, size_t i, void **val, size_t *len);
/**
 * Removes item i (Python's del l[i]).
 * @param l the list.
 * @param i the item's index, from 0 (MP_LIST_LAST is an index out of range
 *        here, as any other that large).
 * @retval MP_OK removed.
 * @retval MP_ENOTFOUND i is not below the length.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_delete(mp_list *l, size_t i);
/**
 * Appends src's items, as src is at that moment, in one step (Python's
 * l.extend(src)). No bytes travel: the server shares the values. To
 * append many new items, mp_list_append each (there is no array form).
 * @param l the list to grow.
 * @param src the list to copy from (l itself is fine: it doubles); both
 *        of the same manager.
 * @retval MP_OK extended.
 * @retval MP_EINVAL the lists belong to different managers, or as for
 *         every manager call.
 * @retval MP_ENOMEM the server ran out of memory (l did not change).
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_extend(mp_list *l, mp_list *src);
/**
 * The number of items in the list.
 * @param l the list.
 * @param n gets it.
 * @retval MP_OK counted.
 * @retval MP_ECLOSED the server is gone.
 * @retval MP_EINVAL, MP_ENOMEM, MP_EPROTO, MP_ESYS as for every manager call.
 *
 * Blocks for one round trip to the server.
 */
MPROC_API int mp_list_len(mp_list *l, size_t *n);
/**
 * Frees the proxy only; the data stays in the server for other proxies. A
 * proxy outliving its manager is safe: its calls read MP_ECLOSED.
 * @param d the proxy; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_dict *mp_dict_free(mp_dict *d);
/**
 * Frees the proxy only, as mp_dict_free.
 * @param l the proxy; NULL is fine.
 * @return NULL. Never fails. Never blocks.
 */
MPROC_API mp_list *mp_list_free(mp_list *l);
/**
 * Ends the server cleanly and reaps it (a server that does not end within
 * a few seconds is killed); every later call, from any process, reads
 * MP_ECLOSED.
 * @param m the manager.
 * @retval MP_OK ended (again at once after the first time).
 * @retval MP_ESTATE this process did not start the manager.
 * @retval MP_EINVAL m NULL.
 *
 * Blocks until the server has ended (a few seconds at most).
 */
MPROC_API int mp_manager_shutdown(mp_manager *m);
/**
 * In the process that started it: shuts the server down and frees m (once
 * no pool holds it: a pool given the manager keeps it, and its server
 * serving, until the pool is freed). In a task, the manager belongs to
 * the call and this does nothing.
 * @param m the manager; NULL is fine.
 * @return NULL. Never fails. Blocks as mp_manager_shutdown.
 */
MPROC_API mp_manager *mp_manager_free(mp_manager *m);
/**
 * The manager as an object, to list in a child's options. The child gets
 * no handle, only the server's name and a token: it connects on its first
 * call.
 * @param m the manager.
 * @return the object (valid as long as m); NULL for NULL. Never blocks.
 */
MPROC_API mp_object *mp_manager_obj(mp_manager *m);
/**
 * In a task: the i-th object of its options, as a manager.
 * @param call the task's call.
 * @param i the object's place in the options' objects.
 * @return the manager (it belongs to the call); NULL if i is out of range
 * or that object is not a manager. Never blocks.
 */
MPROC_API mp_manager *mp_call_manager(mp_call *call, size_t i);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* MPROC_H */
