/*
 * The neutral interface both backends implement (src/posix, src/win32).
 *
 * Code above this header never says #ifdef _WIN32; code below it never
 * knows what a pool or a queue is. Every function that can fail returns
 * MP_OK or a negative MP_E* code and, on failure, has set mp_last_error()
 * with the OS's own words (through mp__set_error in src/error.h).
 * Timeouts are seconds: MP_FOREVER (< 0) blocks, 0 only tries.
 */
#ifndef MPROC_PLATFORM_H
#define MPROC_PLATFORM_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc.h"

#ifdef _WIN32
#  define MP__HAVE_FORK 0
#  define MP__DEFAULT_START_METHOD MP_START_SPAWN
#else
#  define MP__HAVE_FORK 1
#  define MP__DEFAULT_START_METHOD MP_START_FORK
#endif

/* MSVC's forms of thread-local storage and of the atomics below. A build
 * for MinGW by clang with -fms-extensions -fms-volatile may take them too
 * (-DMPROC_MSVC_FORMS): scripts/test's msvc leg runs the suite so, under
 * Wine, since no MSVC runs here. */
#if defined(_MSC_VER) || defined(MPROC_MSVC_FORMS)
#  define MP__MSVC_FORMS 1
#else
#  define MP__MSVC_FORMS 0
#endif

#if MP__MSVC_FORMS
#  define MP__THREAD_LOCAL __declspec(thread)
#else
#  define MP__THREAD_LOCAL _Thread_local
#endif

/* Atomics on memory other processes share (relaxed reads for a quick
 * look; acquire/release where they order data). */
#if MP__MSVC_FORMS
#  include <intrin.h>
static inline uint64_t mp__atomic_load64(volatile uint64_t *p) {
  return (uint64_t)_InterlockedCompareExchange64((volatile __int64 *)p, 0, 0);
}
static inline uint32_t mp__atomic_load32(volatile uint32_t *p) {
  return (uint32_t)_InterlockedCompareExchange((volatile long *)p, 0, 0);
}
static inline void mp__atomic_store64(volatile uint64_t *p, uint64_t v) {
  _InterlockedExchange64((volatile __int64 *)p, (__int64)v);
}
static inline uint32_t mp__atomic_add32(volatile uint32_t *p, int32_t d) {
  return (uint32_t)_InterlockedExchangeAdd((volatile long *)p, d) + (uint32_t)d;
}
static inline void mp__atomic_store32(volatile uint32_t *p, uint32_t v) {
  _InterlockedExchange((volatile long *)p, (long)v);
}
/* Release only: what came before is seen first (x86 and x64 keep stores
 * in order, and MSVC's volatile stores have release semantics there). */
static inline void mp__atomic_store32_release(volatile uint32_t *p, uint32_t v) { *p = v; }
static inline void mp__atomic_add64(volatile uint64_t *p, int64_t d) {
  _InterlockedExchangeAdd64((volatile __int64 *)p, d);
}
/* A full fence: no load after it is done before a store before it is seen. */
static inline void mp__atomic_fence(void) {
  static volatile long word;
  _InterlockedOr(&word, 0);
}
static inline int mp__atomic_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired) {
  uint64_t seen = (uint64_t)_InterlockedCompareExchange64((volatile __int64 *)p, (__int64)desired, (__int64)*expected);
  if (seen == *expected) return 1;
  *expected = seen;
  return 0;
}
/* C11's compare_exchange_strong: on failure *expected gets the value seen. */
static inline int mp__atomic_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired) {
  uint32_t seen = (uint32_t)_InterlockedCompareExchange((volatile long *)p, (long)desired, (long)*expected);
  if (seen == *expected) return 1;
  *expected = seen;
  return 0;
}
#else
static inline uint64_t mp__atomic_load64(volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
/* Sequentially consistent: a wait point's waiter and waker each write one
 * word then read the other's (Dekker), which weaker orders would break. */
static inline uint32_t mp__atomic_load32(volatile uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void mp__atomic_store64(volatile uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint32_t mp__atomic_add32(volatile uint32_t *p, int32_t d) {
  return __atomic_add_fetch(p, (uint32_t)d, __ATOMIC_SEQ_CST);
}
static inline void mp__atomic_store32(volatile uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
/* Release only: what came before is seen first; no fence after it. */
static inline void mp__atomic_store32_release(volatile uint32_t *p, uint32_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline void mp__atomic_add64(volatile uint64_t *p, int64_t d) {
  __atomic_add_fetch(p, (uint64_t)d, __ATOMIC_SEQ_CST);
}
/* A full fence: no load after it is done before a store before it is seen.
 * ThreadSanitizer does not model fences (GCC refuses them under it): a
 * sequentially consistent read-modify-write, which it does, stands in. */
#if defined(__SANITIZE_THREAD__)
#  define MP__TSAN_BUILD 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define MP__TSAN_BUILD 1
#  endif
#endif
#if defined(MP__TSAN_BUILD)
static inline void mp__atomic_fence(void) {
  static volatile uint64_t word;
  __atomic_fetch_add(&word, 0, __ATOMIC_SEQ_CST);
}
#else
static inline void mp__atomic_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif
static inline int mp__atomic_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired) {
  return __atomic_compare_exchange_n(p, expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/* C11's compare_exchange_strong: on failure *expected gets the value seen. */
static inline int mp__atomic_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired) {
  return __atomic_compare_exchange_n(p, expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
#endif

/* One step of a spin-wait: tells the CPU this is a busy loop (pause on
 * x86, yield on ARM), which saves power and lets a sibling hyperthread run. */
#if MP__MSVC_FORMS && (defined(_M_X64) || defined(_M_IX86) || defined(__x86_64__) || defined(__i386__))
static inline void mp__cpu_relax(void) { _mm_pause(); }
#elif defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
static inline void mp__cpu_relax(void) { __builtin_ia32_pause(); }
#elif defined(__GNUC__) && defined(__aarch64__)
static inline void mp__cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void mp__cpu_relax(void) {}
#endif

/* A kernel object a child can be handed: a file descriptor on POSIX, a
 * HANDLE on Windows, carried as an integer so the core can put it in a
 * bootstrap message. */
typedef intptr_t mp__handle;
#define MP__NO_HANDLE ((mp__handle)-1)

/* ------------------------------------------------------------ process-wide */
/* Once, from mp_main() in the program the user started: e.g. SIGPIPE is
 * ignored on POSIX so a write to a dead peer returns an error. */
int mp__platform_parent_init(void);
int mp__cpu_count(void);
int64_t mp__getpid(void);
double mp__now(void);                    /* monotonic seconds */
/* The same clock, to within a few milliseconds, and cheaper to read: for
 * a pool's task_timeout, read once per item. The same in every process. */
double mp__now_coarse(void);
void mp__sleep(double seconds);
void mp__yield(void);                    /* let another thread or process run */
/* Is a process with this pid still running (not ended, not a zombie)?
 * 1 or 0. Used by tests that check no child outlived its parent, and by a
 * Condition to pass over waiters that died in their wait. */
int mp__pid_alive(int64_t pid);
/* Sends the platform's SIGKILL equivalent to any pid (tests). */
int mp__pid_kill(int64_t pid);
/* 1 if h names an open descriptor/handle in this process, else 0. Tests use
 * it to prove a child holds nothing it was not handed. */
int mp__handle_valid(mp__handle h);
/* How many descriptors/handles this process has open (tests check that a
 * test leaves as many as it found); -1 if the platform cannot tell. */
int mp__open_handle_count(void);
/* Children of this process that nobody owns any more: ended ones that were
 * never reaped (zombies; reaped now) plus 1 if any is still running. A test
 * that frees everything it started must see 0. Windows (no zombies; job
 * objects end children): 0. */
int mp__stray_children(void);

/* ----------------------------------------------------------------- pipes */
/* A one-way byte pipe. Both ends are close-on-exec / non-inheritable from
 * birth; only mp__spawn hands them to a child. The read end supports
 * timeouts. */
int mp__pipe(mp__handle *read_end, mp__handle *write_end);
void mp__handle_close(mp__handle h);     /* accepts MP__NO_HANDLE */
/* A copy of the caller's descriptor/HANDLE h that this process owns,
 * never inherited by a child mp__spawn was not told to hand it to (POSIX:
 * close-on-exec; Windows: not inheritable). MP_EINVAL when h is not an
 * open descriptor/handle, MP_ESYS when the OS refuses; messages name api. */
int mp__handle_dup(mp__handle h, mp__handle *out, const char *api);
/* Reads 1..cap bytes: MP_OK with *got > 0; MP_ECLOSED at end of stream
 * (every writer gone); MP_ETIMEDOUT if nothing came within timeout. */
int mp__read(mp__handle h, void *buf, size_t cap, size_t *got, double timeout);
/* For a read end whose one reader only ever waits with MP_FOREVER (a pool
 * worker's task pipe, a pool reader thread's result pipe): lets a read
 * wait inside the kernel, one system call where a timed read needs up to
 * three. After this, mp__read on h must not be given a timeout. POSIX
 * clears O_NONBLOCK; a Windows read already waits in one call. */
int mp__handle_reads_block(mp__handle h);
/* Writes all len bytes, blocking; MP_ECLOSED if the reader is gone. */
int mp__write_all(mp__handle h, const void *buf, size_t len);
/* The same for several parts written in order, gathered into as few
 * system calls as the OS allows (a frame header and its payload). */
typedef struct mp__iovec {
  const void *base;
  size_t len;
} mp__iovec;
int mp__write_parts(mp__handle h, const mp__iovec *parts, size_t n);

/* --------------------------------------------------------------- threads */
/* In-process threads, mutexes and condition variables (the pool's
 * scheduler and readers). Opaque, heap-allocated, never shared with a
 * child. Waits take a timeout and report MP_ETIMEDOUT. */
typedef struct mp__thread mp__thread;
typedef struct mp__mutex mp__mutex;
typedef struct mp__cond mp__cond;
int mp__thread_start(mp__thread **out, void (*fn)(void *), void *arg);
void mp__thread_join(mp__thread *t);     /* and frees it */
int mp__mutex_new(mp__mutex **out);
void mp__mutex_free(mp__mutex *m);
void mp__mutex_lock(mp__mutex *m);
void mp__mutex_unlock(mp__mutex *m);
int mp__cond_new(mp__cond **out);
void mp__cond_free(mp__cond *c);
int mp__cond_wait(mp__cond *c, mp__mutex *m, double timeout);
void mp__cond_signal(mp__cond *c);
void mp__cond_broadcast(mp__cond *c);
/* The calling thread as one non-zero number no other live thread of any
 * process has at the same time: what a lock records as its owner, so a
 * recursive lock knows its holder and a release by anyone else is refused.
 * The high 32 bits are the process id; the low ones are not repeated by a
 * later process that gets the same pid, since a lock may still name a
 * dead holder. Cheap (no system call after the first in a thread); a fork
 * child gets a new one. */
uint64_t mp__thread_id(void);

/* --------------------------------------------------------- shared memory */
/* Anonymous memory several processes map: zero-filled, reserved sparsely
 * where the OS allows (pages cost memory only once written), gone when the
 * last mapping and handle are. No name is ever left behind. */
int mp__shm_create(size_t size, mp__handle *h, void **addr);
/* The same, not mapped here: for memory only a child writes, and that
 * other children of this process then do not inherit a mapping of. */
int mp__shm_new(size_t size, mp__handle *h);
int mp__shm_attach(mp__handle h, size_t size, void **addr);
/* Makes [addr, addr+len) of a mapping usable before its first use in this
 * process. Windows reserves a section and commits pages on demand; POSIX
 * maps them on first touch and this does nothing. MP_ENOMEM when the
 * system cannot back them. */
int mp__shm_commit(void *addr, size_t len);
void mp__shm_detach(void *addr, size_t size);
/* Gives whole pages inside [addr, addr+len) back to the OS; they read as
 * zero afterwards. Best effort: a no-op where the OS cannot. */
void mp__shm_discard(void *addr, size_t len);

/* The store of a Queue: address space reserved once, memory only where
 * messages are. It must hold one message of MP_MAX_MESSAGE. A build may
 * reserve less (-DMP__QUEUE_RING_BYTES=n, a multiple of 16, and then its
 * queues take messages up to about n): scripts/test's valgrind leg does,
 * since valgrind's leak check reads every page a fork child inherited, and
 * reading a hole of the ring's memfd allocates it, 4 GiB per queue.
 * MP__QUEUE_WARM_BYTES (a multiple of 16) is the warm ring in front of the
 * store, which a queue that keeps up cycles through without touching new
 * pages (src/queue_ring.h). */
#ifndef MP__QUEUE_RING_BYTES
#  if UINTPTR_MAX > 0xFFFFFFFFu
#    define MP__QUEUE_RING_BYTES ((uint64_t)4 << 30)
#  else
#    define MP__QUEUE_RING_BYTES (((uint64_t)1 << 30) + ((uint64_t)64 << 20))
#  endif
#endif
#ifndef MP__QUEUE_WARM_BYTES
#  define MP__QUEUE_WARM_BYTES ((uint64_t)64 << 20)
#endif

/* ------------------------------------------- process-shared synchronization
 * Each object lives in a 64-byte slot inside shared memory; where the OS
 * needs a kernel object too (Windows), its handle travels with the memory
 * like any other handle. A slot is set up once by its creator (_init), then
 * used by every process that maps it, each with the handle value it got. */
#define MP__SYNC_SLOT 64

/* A lock that survives its holder's death: the next acquirer gets
 * MP_EOWNERDEAD, holds the lock, and must repair what it guards. */
int mp__plock_init(void *slot, mp__handle *h);
int mp__plock_acquire(void *slot, mp__handle h, double timeout);  /* OK, EOWNERDEAD, ETIMEDOUT */
void mp__plock_release(void *slot, mp__handle h);

/* A place to sleep until something changes. mp__pwait_seq reads a counter
 * that every wake bumps; wait returns when it differs from seen, when woken,
 * on timeout (MP_ETIMEDOUT), or spuriously: callers re-check their state. */
int mp__pwait_init(void *slot, mp__handle *h);
uint32_t mp__pwait_seq(void *slot);
int mp__pwait_wait(void *slot, mp__handle h, uint32_t seen, double timeout);
void mp__pwait_wake(void *slot, mp__handle h, int all);
/* The cheaper protocol of the same slot, for hot paths (a queue's put and
 * get), where most wakes find nobody asleep. A sleeper announces itself
 * (prepare), then looks at its state under the lock that guards it, then
 * either sleeps (commit) or withdraws (cancel). A waker changes the state
 * under that lock and then calls wake_sleepers, which costs one read when
 * nobody announced. Use one protocol or the other on a slot, not both. */
uint32_t mp__pwait_prepare(void *slot);
int mp__pwait_commit(void *slot, mp__handle h, uint32_t seen, double timeout); /* OK or ETIMEDOUT */
void mp__pwait_cancel(void *slot);
void mp__pwait_wake_sleepers(void *slot, mp__handle h, int all);
/* How many have announced themselves on the slot and not yet withdrawn
 * (asleep, or about to be): what tests wait for before they wake them. */
uint32_t mp__pwait_sleepers(void *slot);

/* -------------------------------------------------------------- children */
enum { MP__SIG_TERM = 15, MP__SIG_KILL = 9 };

typedef struct mp__child mp__child;

typedef struct mp__spawn_options {
  int method;                  /* MP_START_FORK or MP_START_SPAWN (resolved) */
  const mp__handle *handles;   /* what the child gets, nothing else */
  size_t nhandles;
  /* fork: the child calls this and exits with its return value. */
  int (*fork_entry)(void *ud);
  void *fork_ud;
  /* spawn: the one argument after the program name (the worker token).
   * The child's environment gets it too, as MP__WORKER_ENV=<spawn_arg>
   * (replacing any it would inherit), so a child whose mp_main was not
   * given main's own argv still knows it is a worker. */
  const char *spawn_arg;
} mp__spawn_options;

#define MP__WORKER_ENV "MPROC_WORKER_TOKEN"

/* Copies the environment variable name into buf (cap bytes, with its
 * NUL) and removes it from this process's environment, so nothing this
 * process starts inherits it. 1 if it was there and fit, else 0 (removed
 * all the same). */
int mp__env_take(const char *name, char *buf, size_t cap);

/* The value handles[i] has inside a child started with method, known before
 * the spawn so it can be written into the bootstrap message. */
mp__handle mp__child_handle(int method, const mp__handle *handles, size_t i);

/* Starts a child that dies with this process (parent-liveness pipe and
 * PR_SET_PDEATHSIG on POSIX; a kill-on-close job object on Windows).
 * MP_ENOTSUP for fork where there is none. */
int mp__spawn(mp__child **out, const mp__spawn_options *opts);
int64_t mp__child_pid(const mp__child *c);
/* Waits up to timeout for the child to end and reaps it. MP_OK with
 * *exitcode: >= 0 the exit status, -N ended by signal N (Windows maps
 * terminate/kill to -15/-9 and crashes to the matching signal).
 * MP_ETIMEDOUT while it runs. Once ended, it answers the same again.
 * MP__EXIT_UNKNOWN: it has ended, but something else reaped it (POSIX:
 * SIGCHLD set to SIG_IGN, or a SIGCHLD handler that calls wait), so how
 * it ended is lost. */
#define MP__EXIT_UNKNOWN INT_MIN
int mp__child_wait(mp__child *c, double timeout, int *exitcode);
/* Waits up to timeout for the child to end, without reaping it: any
 * number of threads may wait at once, and the child's exit status stays
 * for mp__child_wait. MP_OK once it has ended, MP_ETIMEDOUT while it runs. */
int mp__child_wait_exit(mp__child *c, double timeout);
/* MP__SIG_TERM or MP__SIG_KILL; MP_OK if already ended. */
int mp__child_signal(mp__child *c, int sig);
/* Kills the child if it still runs, reaps it, frees c. */
void mp__child_free(mp__child *c);
/* What mp__wait_handles can wait on for the child's end: its pidfd
 * (Linux), its process HANDLE (Windows); MP__NO_HANDLE where there is none
 * (other POSIX: mp_wait then looks every slice). Owned by c. */
mp__handle mp__child_wait_handle(const mp__child *c);

/* ---------------------------------------------------------------- waiting
 * mp_wait and the pollable handles (src/wait.c). A waiter is a flag an
 * event loop can watch: a non-blocking close-on-exec pipe (POSIX: its read
 * end is readable while set), a manual-reset non-inheritable Event
 * (Windows). signal sets it from any thread and never blocks; clear
 * resets it. */
typedef struct mp__waiter mp__waiter;
int mp__waiter_new(mp__waiter **out);
void mp__waiter_free(mp__waiter *w);            /* accepts NULL */
void mp__waiter_signal(mp__waiter *w);
void mp__waiter_clear(mp__waiter *w);
mp__handle mp__waiter_handle(const mp__waiter *w);
/* What a wait can watch for a pipe's read end to have bytes or its end:
 * the descriptor itself (POSIX); MP__NO_HANDLE on Windows, where a named
 * pipe's HANDLE does not signal when data comes. */
mp__handle mp__read_wait_handle(mp__handle rd);
/* Waits until one of h (read ends, waiter handles, child wait handles)
 * is readable / signalled: MP_OK, or MP_ETIMEDOUT. n may be 0 (a sleep). */
int mp__wait_handles(const mp__handle *h, size_t n, double timeout);

/* ------------------------------------------------------------- endpoints
 * A meeting point that processes which share no handle can reach by name:
 * how any process given a manager gets its own channel to a server that
 * was already running. The name is fresh, random and private to this
 * user where the OS allows (Linux: an abstract Unix socket, gone with its
 * listener; other POSIX: a Unix socket in a private mkdtemp directory;
 * Windows: a local-only named pipe). It is not a secret: whoever connects
 * must still prove itself to the server (the manager sends a random
 * token). A connection is two handles, close-on-exec / non-inheritable:
 * one to read from with mp__read, one to write to with mp__write_all and
 * mp__write_parts, each closed with mp__handle_close. When the peer
 * goes, reads see MP_ECLOSED and writes fail with it. (POSIX: a pair of
 * pipes the listener hands over the socket, because a pipe wakes its
 * reader faster than a socket does; Windows: the duplex pipe instance and
 * a duplicate of its handle.) */
#define MP__ENDPOINT_NAME_MAX 128
typedef struct mp__listener mp__listener;
/* Listens on a new name, written to name (NUL-terminated). */
int mp__endpoint_listen(mp__listener **out, char name[MP__ENDPOINT_NAME_MAX]);
/* The next connection: MP_OK with *rd and *wr, or MP_ETIMEDOUT. It never
 * waits on a client that connected and then said nothing. */
int mp__endpoint_accept(mp__listener *l, mp__handle *rd, mp__handle *wr, double timeout);
/* Connects to a listener: MP_OK with *rd and *wr; MP_ECLOSED if nobody
 * listens under that name (the server is gone); MP_ETIMEDOUT if it stayed
 * busy. */
int mp__endpoint_connect(const char *name, mp__handle *rd, mp__handle *wr, double timeout);
/* Stops listening and removes the name; connections already made stay. */
void mp__endpoint_close(mp__listener *l);
/* Removes what a listener that was killed left of its name (a filesystem
 * name's socket file and private directory; nothing where names die with
 * their listener). For the listener's parent, after reaping it. */
void mp__endpoint_remove(const char *name);

/* len bytes from the OS's cryptographic generator (tokens, names). */
int mp__random_bytes(void *buf, size_t len);

/* ------------------------------------------------------- inside a worker */
/* First thing a spawned worker does (after exec / CreateProcess): default
 * signal handling, no crash dialogs, and dying with the parent. A fork
 * child gets the same from mp__spawn before fork_entry runs, and there also
 * closes every descriptor it was not handed. */
int mp__worker_init_spawned(void);
/* The handles a worker was handed stay the worker's own: programs a task
 * starts do not inherit them (close-on-exec; not inheritable), and on
 * POSIX a child a task forks closes the first nclose of them (the task and
 * result pipes), so no descendant keeps a pipe open that must read EOF
 * when the worker ends. */
void mp__worker_guard_handles(const mp__handle *h, size_t n, size_t nclose);
/* Flushes stdout and stderr and ends this process at once with code. */
void mp__worker_exit(int code);
/* Writes what is buffered in stdout and stderr (no call at all where
 * nothing is: a fork child's pages stay shared). */
void mp__flush_stdio(void);
/* Calls a task so that a C++ exception it lets escape never unwinds past
 * this call into the code below it (in a fork child, the parent's own
 * frames): escaped(call) runs instead (to record the outcome), then the
 * process ends. It runs whether or not anything below would have caught
 * the exception. */
typedef void (*mp__escape_fn)(mp_call *call);
int mp__task_call(mp_task_fn fn, mp_call *call, mp__escape_fn escaped);
/* Inside escaped: 1 when all that is known is that the task aborted
 * (MinGW cannot tell an uncaught exception from abort()), 0 when an
 * exception certainly escaped. */
int mp__task_aborted(void);
/* From here on, a task that calls exit(N) ends this process as a return
 * would: stdout and stderr flushed, code N, and none of the program's
 * atexit handlers or C++ static destructors run (with fork they are the
 * parent's, and nothing of the parent's code runs in a child). Where the
 * C library cannot say the code to a handler (only glibc's on_exit can),
 * nothing changes: exit() runs what it would. */
void mp__worker_fence_exit(void);
/* Names this worker after the program, so ps, top and core files say what
 * it is: on Linux its thread name (what /proc/PID/comm, top and a core
 * file's name show), "prog: worker N" for a pool's worker N (pool_worker >=
 * 0) and "prog: process" for a Process (pool_worker < 0), shortened to
 * "prog:wN" / "prog:p" with prog cut where that would not fit the 15 bytes
 * Linux keeps. Elsewhere nothing: a spawned child's command line already
 * names the program (mp__spawn gives it the parent's argv[0]). */
void mp__worker_set_name(int pool_worker);

#endif /* MPROC_PLATFORM_H */
