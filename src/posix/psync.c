/* Process-shared lock and wait point, in shared memory.
 *
 * Lock: a robust, process-shared pthread mutex where the platform has one
 * (Linux, FreeBSD): the kernel hands a dead holder's lock to the next
 * acquirer with EOWNERDEAD. Elsewhere (macOS has no robust mutexes) an
 * owner-pid spin lock: a waiter that finds the owner gone takes it over.
 *
 * Wait point: a futex word on Linux; elsewhere a short-sleep poll of the
 * same word, correct but slower to wake. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "../deadline.h"
#include "posix.h"

#if defined(PTHREAD_MUTEX_ROBUST) || defined(__linux__)
#define HAVE_ROBUST_MUTEX 1
#else
#define HAVE_ROBUST_MUTEX 0
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

static int timed_lock(pthread_mutex_t *m, double timeout) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
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

int mp__plock_acquire(void *slot, mp__handle h, double timeout) {
  pthread_mutex_t *m = slot;
  (void)h;
  int e;
  if (timeout < 0)
    e = pthread_mutex_lock(m);
  else if (timeout == 0)
    e = pthread_mutex_trylock(m);
  else
    e = timed_lock(m, timeout);
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
/* Owner-pid lock. Threads of one process queue on a local mutex first, so
 * the shared word only ever sees one thread per process. */
typedef struct pid_lock {
  volatile uint32_t owner; /* pid, or 0 */
} pid_lock;

static pthread_mutex_t local = PTHREAD_MUTEX_INITIALIZER;

int mp__plock_init(void *slot, mp__handle *h) {
  *h = MP__NO_HANDLE;
  memset(slot, 0, MP__SYNC_SLOT);
  return MP_OK;
}

int mp__plock_acquire(void *slot, mp__handle h, double timeout) {
  pid_lock *l = slot;
  uint32_t me = (uint32_t)getpid();
  double deadline = mp__deadline(timeout);
  double nap = 20e-6;
  (void)h;
  pthread_mutex_lock(&local);
  for (;;) {
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&l->owner, &expected, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return MP_OK;
    if (expected && kill((pid_t)expected, 0) != 0 && errno == ESRCH &&
        __atomic_compare_exchange_n(&l->owner, &expected, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return mp__set_error(MP_EOWNERDEAD, "lock: its previous owner died holding it");
    double left = mp__remaining(deadline);
    if (left == 0) {
      pthread_mutex_unlock(&local);
      return mp__set_error(MP_ETIMEDOUT, "lock: timed out");
    }
    mp__sleep(left > 0 && left < nap ? left : nap);
    if (nap < 1e-3) nap *= 2;
  }
}

void mp__plock_release(void *slot, mp__handle h) {
  pid_lock *l = slot;
  (void)h;
  __atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&local);
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

int mp__pwait_wait(void *slot, mp__handle h, uint32_t seen, double timeout) {
  wait_slot *w = slot;
  (void)h;
  if (timeout == 0) return mp__set_error(MP_ETIMEDOUT, "timed out");
  mp__atomic_add32(&w->waiters, 1);
  int rc = MP_OK;
#if defined(__linux__)
  if (mp__atomic_load32(&w->seq) == seen) {
    struct timespec ts, *tsp = NULL;
    if (timeout > 0) {
      ts.tv_sec = (time_t)timeout;
      ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
      tsp = &ts;
    }
    /* Not FUTEX_PRIVATE: the word is shared between processes. */
    if (syscall(SYS_futex, &w->seq, FUTEX_WAIT, seen, tsp, NULL, 0) != 0 && errno == ETIMEDOUT)
      rc = mp__set_error(MP_ETIMEDOUT, "timed out");
  }
#else
  double deadline = mp__deadline(timeout);
  double nap = 10e-6;
  while (mp__atomic_load32(&w->seq) == seen) {
    double left = mp__remaining(deadline);
    if (left == 0) {
      rc = mp__set_error(MP_ETIMEDOUT, "timed out");
      break;
    }
    mp__sleep(left > 0 && left < nap ? left : nap);
    if (nap < 1e-3) nap *= 2;
  }
#endif
  mp__atomic_add32(&w->waiters, -1);
  return rc;
}

void mp__pwait_wake(void *slot, mp__handle h, int all) {
  wait_slot *w = slot;
  (void)h;
  mp__atomic_add32(&w->seq, 1);
#if defined(__linux__)
  /* Only a syscall when somebody sleeps: a busy queue never pays for it. */
  if (mp__atomic_load32(&w->waiters))
    syscall(SYS_futex, &w->seq, FUTEX_WAKE, all ? INT_MAX : 1, NULL, NULL, 0);
#else
  (void)all;
#endif
}
