/* Process-shared lock and wait point, in shared memory.
 *
 * Lock: a robust, process-shared pthread mutex where the platform has one
 * (Linux, FreeBSD): the kernel hands a dead holder's lock to the next
 * acquirer with EOWNERDEAD, and an uncontended lock/unlock is two atomic
 * instructions, no system call. Elsewhere (macOS has no robust mutexes) an
 * owner-word lock: the word holds the holder's mp__thread_id(), whose high
 * half is its pid, so a waiter that finds that process gone takes it over;
 * a thread that ends holding one marks it so (a list per thread).
 *
 * Wait point: a futex word on Linux; elsewhere a short-sleep poll of the
 * same word, correct but slower to wake.
 *
 * Building with -DMPROC_PORTABLE_POSIX takes the macOS paths on Linux too,
 * so they can be tested where the robust ones exist (system_calls.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../deadline.h"
#include "posix.h"

#define HAVE_FUTEX MP__HAVE_FUTEX
#define HAVE_ROBUST_MUTEX MP__HAVE_ROBUST_MUTEX
#if HAVE_FUTEX
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#if HAVE_ROBUST_MUTEX
typedef char lock_fits_slot[sizeof(pthread_mutex_t) <= MP__SYNC_SLOT ? 1 : -1];

int mp__plock_init(void *slot, mp__handle *h) {
  pthread_mutexattr_t a;
  *h = MP__NO_HANDLE;
  int e = pthread_mutexattr_init(&a);
  if (!e) e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (!e) e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (!e) e = pthread_mutex_init((pthread_mutex_t *)slot, &a);
  pthread_mutexattr_destroy(&a);
  return e ? mp__posix_error(MP_ESYS, e, "pthread_mutex_init (robust, process-shared)") : MP_OK;
}

/* ThreadSanitizer (GCC 12, LLVM 14) records a lock taken by
 * pthread_mutex_clocklock not at all, and one taken by
 * pthread_mutex_timedlock only when it returns 0, not EOWNERDEAD: TSan then
 * calls the next unlock "unlock of an unlocked mutex" and what the lock
 * guards racy. Its trylock is fully intercepted, so a TSan build waits by
 * polling trylock (speed does not matter there). */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static int timed_lock(pthread_mutex_t *m, double timeout) {
#if UNDER_TSAN
  double end = mp__now() + timeout;
  int e;
  while ((e = pthread_mutex_trylock(m)) == EBUSY && mp__now() < end) mp__sleep(50e-6);
  return e == EBUSY ? ETIMEDOUT : e;
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
  /* The monotonic clock: a change of wall-clock time cannot stretch it. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double end = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + timeout;
  ts.tv_sec = (time_t)end;
  ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
  return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
#else
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double end = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + timeout;
  ts.tv_sec = (time_t)end;
  ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
  return pthread_mutex_timedlock(m, &ts);
#endif
}

/* A holder keeps the lock for a few hundred nanoseconds (a queue's
 * bookkeeping and copy), far less than sleeping in the kernel and being
 * woken costs: try a little longer before taking the blocking path. */
#define LOCK_SPINS 100

static int spin_trylock(pthread_mutex_t *m) {
  int e = EBUSY;
  for (int i = 0; i < LOCK_SPINS && e == EBUSY; i++) {
    if (i) mp__cpu_relax();
    e = pthread_mutex_trylock(m);
  }
  return e;
}

int mp__plock_acquire(void *slot, mp__handle h, double timeout) {
  pthread_mutex_t *m = slot;
  (void)h;
  int e = timeout == 0 ? pthread_mutex_trylock(m) : spin_trylock(m);
  if (e == EBUSY && timeout != 0) e = timeout < 0 ? pthread_mutex_lock(m) : timed_lock(m, timeout);
  if (e == 0) return MP_OK;
  if (e == EBUSY || e == ETIMEDOUT) return mp__set_error(MP_ETIMEDOUT, "lock: timed out");
  if (e == EOWNERDEAD) {
    pthread_mutex_consistent(m);
    return mp__set_error(MP_EOWNERDEAD, "lock: its previous owner died holding it");
  }
  return mp__posix_error(MP_ESYS, e, "pthread_mutex_lock");
}

void mp__plock_release(void *slot, mp__handle h) {
  (void)h;
  pthread_mutex_unlock((pthread_mutex_t *)slot);
}
#else
/* Owner-word lock. Every thread competes on the shared word itself (no
 * process-local mutex in front of it, which would make a thread that
 * holds one lock deadlock on the next). A holder is known to be gone when
 * its process has ended (holder_gone says how that is told, zombies
 * included), or when the holder's thread ended holding it: each thread
 * keeps a list of the locks it holds, and a thread-specific destructor
 * marks those still held at its end OWNER_ENDED, as the kernel's robust
 * list does for a pthread mutex. */
typedef struct owner_lock {
  volatile uint64_t owner; /* mp__thread_id() of the holder, OWNER_ENDED, or 0 */
} owner_lock;

/* No thread has this id (its pid half would be 0). */
#define OWNER_ENDED 1u
#define SPIN_TRIES 200

/* The locks one thread holds: every lock is taken and let go within one
 * call on one thread, but a user's mp_lock, held between calls. A thread
 * holding more at once than this is rare enough to go untracked past it
 * (its end is then seen only with its process's). */
#define HELD_MAX 64
typedef struct held_locks {
  uint64_t me;
  size_t n;
  owner_lock *locks[HELD_MAX];
} held_locks;

static pthread_key_t held_key;
static int held_key_made; /* 0 until pthread_once made it, -1 if it could not */
static pthread_once_t held_once = PTHREAD_ONCE_INIT;

/* At a thread's end: what it still holds, it held when it ended. Its
 * memory is still mapped: a lock's page stays while its holder lives
 * (lock.c keeps it through a free by another thread). */
static void held_at_end(void *v) {
  held_locks *h = v;
  for (size_t i = 0; i < h->n; i++) {
    uint64_t expect = h->me;
    __atomic_compare_exchange_n(&h->locks[i]->owner, &expect, (uint64_t)OWNER_ENDED, 0, __ATOMIC_RELEASE,
                                __ATOMIC_RELAXED);
  }
  free(h);
}

static void make_held_key(void) { held_key_made = pthread_key_create(&held_key, held_at_end) == 0 ? 1 : -1; }

static held_locks *my_held(uint64_t me) {
  pthread_once(&held_once, make_held_key);
  if (held_key_made != 1) return NULL;
  held_locks *h = pthread_getspecific(held_key);
  if (h && h->me != me) h->n = 0; /* a fork child's copy of its parent thread's list */
  if (!h && (h = calloc(1, sizeof *h)) != NULL) {
    if (pthread_setspecific(held_key, h) != 0) {
      free(h);
      return NULL;
    }
  }
  if (h) h->me = me;
  return h;
}

static void held_add(owner_lock *l, uint64_t me) {
  held_locks *h = my_held(me);
  if (h && h->n < HELD_MAX) h->locks[h->n++] = l;
}

static void held_remove(owner_lock *l) {
  if (held_key_made != 1) return;
  held_locks *h = pthread_getspecific(held_key);
  if (!h) return;
  for (size_t i = h->n; i-- > 0;)
    if (h->locks[i] == l) {
      h->locks[i] = h->locks[--h->n];
      return;
    }
}

int mp__plock_init(void *slot, mp__handle *h) {
  *h = MP__NO_HANDLE;
  memset(slot, 0, MP__SYNC_SLOT);
  return MP_OK;
}

static int take(owner_lock *l, uint64_t *seen, uint64_t me) {
  return __atomic_compare_exchange_n(&l->owner, seen, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* The holder's thread ended holding it, or its process has ended. A
 * zombie (killed, not yet reaped: a sibling's parent may join it only
 * later) has ended too: mp__pid_alive tells one where the system says
 * (/proc on Linux, sysctl on macOS), and elsewhere one of our own children
 * is looked at with waitid(WNOWAIT), which leaves it to be reaped. */
static int holder_gone(uint64_t owner) {
  if (owner == OWNER_ENDED) return 1;
  pid_t pid = (pid_t)(owner >> 32);
  if (!owner || pid <= 0) return 0;
  if (!mp__pid_alive(pid)) return 1;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

int mp__plock_acquire(void *slot, mp__handle h, double timeout) {
  owner_lock *l = slot;
  uint64_t me = mp__thread_id();
  double deadline = 0;
  double nap = 20e-6;
  (void)h;
  for (int round = 0;; round++) {
    uint64_t seen = 0;
    if (take(l, &seen, me)) {
      held_add(l, me);
      return MP_OK;
    }
    if (round == 0) deadline = mp__deadline(timeout);
    if (round < SPIN_TRIES && timeout != 0) {
      /* The holder usually lets go within a few hundred nanoseconds. */
      if ((round & 15) == 15) mp__yield();
      continue;
    }
    if (holder_gone(seen) && take(l, &seen, me)) {
      held_add(l, me);
      return mp__set_error(MP_EOWNERDEAD, "lock: its previous owner died holding it");
    }
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "lock: timed out");
    mp__sleep(left > 0 && left < nap ? left : nap);
    if (nap < 1e-3) nap *= 2;
  }
}

void mp__plock_release(void *slot, mp__handle h) {
  owner_lock *l = slot;
  (void)h;
  held_remove(l);
  __atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
}
#endif

/* ------------------------------------------------------------ wait point */
typedef struct wait_slot {
  volatile uint32_t seq;
  volatile uint32_t waiters;
} wait_slot;

int mp__pwait_init(void *slot, mp__handle *h) {
  *h = MP__NO_HANDLE;
  memset(slot, 0, MP__SYNC_SLOT);
  return MP_OK;
}

uint32_t mp__pwait_seq(void *slot) { return mp__atomic_load32(&((wait_slot *)slot)->seq); }

/* Sleeps while seq == seen: until a wake, the timeout (MP_ETIMEDOUT), or
 * a spurious return (callers look again). */
static int sleep_while_seen(wait_slot *w, uint32_t seen, double timeout) {
#if HAVE_FUTEX
  struct timespec ts, *tsp = NULL;
  if (timeout > 0) {
    ts.tv_sec = (time_t)timeout;
    ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
    tsp = &ts;
  }
  /* Not FUTEX_PRIVATE: the word is shared between processes. */
  if (syscall(SYS_futex, &w->seq, FUTEX_WAIT, seen, tsp, NULL, 0) != 0 && errno == ETIMEDOUT)
    return mp__set_error(MP_ETIMEDOUT, "timed out");
  return MP_OK;
#else
  double deadline = mp__deadline(timeout);
  double nap = 10e-6;
  while (mp__atomic_load32(&w->seq) == seen) {
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "timed out");
    mp__sleep(left > 0 && left < nap ? left : nap);
    if (nap < 1e-3) nap *= 2;
  }
  return MP_OK;
#endif
}

int mp__pwait_wait(void *slot, mp__handle h, uint32_t seen, double timeout) {
  wait_slot *w = slot;
  (void)h;
  if (timeout == 0) return mp__set_error(MP_ETIMEDOUT, "timed out");
  mp__atomic_add32(&w->waiters, 1);
  int rc = mp__atomic_load32(&w->seq) == seen ? sleep_while_seen(w, seen, timeout) : MP_OK;
  mp__atomic_add32(&w->waiters, -1);
  return rc;
}

void mp__pwait_wake(void *slot, mp__handle h, int all) {
  wait_slot *w = slot;
  (void)h;
  mp__atomic_add32(&w->seq, 1);
#if HAVE_FUTEX
  /* Only a syscall when somebody sleeps: a busy queue never pays for it. */
  if (mp__atomic_load32(&w->waiters))
    syscall(SYS_futex, &w->seq, FUTEX_WAKE, all ? INT_MAX : 1, NULL, NULL, 0);
#else
  (void)all;
#endif
}

/* ----------------------------------------------- announce, look, sleep */
uint32_t mp__pwait_prepare(void *slot) {
  wait_slot *w = slot;
  mp__atomic_add32(&w->waiters, 1);
  return mp__atomic_load32(&w->seq);
}

void mp__pwait_cancel(void *slot) { mp__atomic_add32(&((wait_slot *)slot)->waiters, -1); }

uint32_t mp__pwait_sleepers(void *slot) { return mp__atomic_load32(&((wait_slot *)slot)->waiters); }

int mp__pwait_commit(void *slot, mp__handle h, uint32_t seen, double timeout) {
  (void)h;
  int rc = timeout == 0 ? mp__set_error(MP_ETIMEDOUT, "timed out") : sleep_while_seen(slot, seen, timeout);
  mp__pwait_cancel(slot);
  return rc;
}

void mp__pwait_wake_sleepers(void *slot, mp__handle h, int all) {
  wait_slot *w = slot;
  (void)h;
  if (!mp__atomic_load32(&w->waiters)) return; /* the common case: one read */
  mp__atomic_add32(&w->seq, 1);
#if HAVE_FUTEX
  syscall(SYS_futex, &w->seq, FUTEX_WAKE, all ? INT_MAX : 1, NULL, NULL, 0);
#else
  (void)all;
#endif
}
