/* Process-shared lock and wait point, from kernel objects whose handles
 * travel with the shared memory.
 *
 * Lock: an unnamed mutex. When its holder ends without releasing it the
 * system marks it abandoned, and the next wait returns WAIT_ABANDONED
 * with the lock held: that is MP_EOWNERDEAD.
 *
 * Wait point: a counter in the slot (bumped by every wake) and a
 * semaphore that sleepers wait on; a wake releases it once per sleeper
 * (or once), and only when somebody sleeps. A release nobody consumed
 * makes a later wait return early, which the contract allows: callers
 * re-check their state. */
#include <limits.h>
#include <string.h>

#include "../deadline.h"
#include "win32.h"

int mp__plock_init(void *slot, mp__handle *h) {
  memset(slot, 0, MP__SYNC_SLOT);
  HANDLE m = CreateMutexW(NULL, FALSE, NULL);
  if (!m) {
    *h = MP__NO_HANDLE;
    return mp__win_error(MP_ESYS, GetLastError(), "CreateMutexW");
  }
  *h = MP__AS_HANDLE(m);
  return MP_OK;
}

/* Wine abandons a killed thread's mutexes and wakes their waiters before
 * it sends the signal that stops the thread (kill_thread in its server),
 * so for a moment the dead holder may still be running its critical
 * section beside the new one: a queue producer killed mid-copy went on
 * copying into the record its successor was writing. Windows abandons a
 * mutex only once its thread has stopped. So under Wine the next owner
 * gives the signal time to land before it touches what the lock guards;
 * an owner's death is rare, so the wait costs nothing in the steady state. */
#define WINE_DEATH_GRACE_MS 50
static int under_wine(void) {
  static volatile LONG answer; /* 0 unknown, 1 no, 2 yes */
  LONG a = answer;
  if (!a) {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    a = ntdll && GetProcAddress(ntdll, "wine_get_version") ? 2 : 1;
    answer = a;
  }
  return a == 2;
}

int mp__plock_acquire(void *slot, mp__handle h, double timeout) {
  (void)slot;
  DWORD w = WaitForSingleObject(MP__HANDLE_OF(h), mp__win_ms(timeout));
  if (w == WAIT_OBJECT_0) return MP_OK;
  if (w == WAIT_ABANDONED) {
    if (under_wine()) Sleep(WINE_DEATH_GRACE_MS);
    return mp__set_error(MP_EOWNERDEAD, "lock: its previous owner died holding it");
  }
  if (w == WAIT_TIMEOUT) return mp__set_error(MP_ETIMEDOUT, "lock: timed out");
  return mp__win_error(MP_ESYS, GetLastError(), "WaitForSingleObject (lock)");
}

void mp__plock_release(void *slot, mp__handle h) {
  (void)slot;
  ReleaseMutex(MP__HANDLE_OF(h));
}

typedef struct wait_slot {
  volatile uint32_t seq;
  volatile uint32_t waiters;
} wait_slot;

int mp__pwait_init(void *slot, mp__handle *h) {
  memset(slot, 0, MP__SYNC_SLOT);
  HANDLE s = CreateSemaphoreW(NULL, 0, LONG_MAX, NULL);
  if (!s) {
    *h = MP__NO_HANDLE;
    return mp__win_error(MP_ESYS, GetLastError(), "CreateSemaphoreW");
  }
  *h = MP__AS_HANDLE(s);
  return MP_OK;
}

uint32_t mp__pwait_seq(void *slot) { return mp__atomic_load32(&((wait_slot *)slot)->seq); }

/* Sleeps on the semaphore until seq moves past seen, a permit comes, or
 * the timeout. In slices: a semaphore has no notion of whom a permit was
 * for, so a waiter that came after a wake can take the permit meant for
 * one that came before it; the one robbed then sees seq move at its next
 * slice instead of sleeping until its timeout (a barrier's next round
 * would otherwise wait for it forever). */
#define WAIT_SLICE_MS 10
static int sleep_until_moved(wait_slot *w, HANDLE sem, uint32_t seen, double timeout) {
  double deadline = mp__deadline(timeout);
  while (mp__atomic_load32(&w->seq) == seen) {
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "timed out");
    DWORD ms = mp__win_ms(left);
    DWORD r = WaitForSingleObject(sem, ms < WAIT_SLICE_MS ? ms : WAIT_SLICE_MS);
    if (r == WAIT_OBJECT_0) return MP_OK; /* woken (perhaps spuriously: callers look again) */
    if (r != WAIT_TIMEOUT) return mp__win_error(MP_ESYS, GetLastError(), "WaitForSingleObject (wait point)");
  }
  return MP_OK;
}

int mp__pwait_wait(void *slot, mp__handle h, uint32_t seen, double timeout) {
  wait_slot *w = slot;
  if (timeout == 0) return mp__set_error(MP_ETIMEDOUT, "timed out");
  mp__atomic_add32(&w->waiters, 1);
  /* A wake between the caller's look and here bumped seq: do not sleep. */
  int rc = sleep_until_moved(w, MP__HANDLE_OF(h), seen, timeout);
  mp__atomic_add32(&w->waiters, -1);
  return rc;
}

void mp__pwait_wake(void *slot, mp__handle h, int all) {
  wait_slot *w = slot;
  mp__atomic_add32(&w->seq, 1);
  uint32_t sleepers = mp__atomic_load32(&w->waiters);
  if (sleepers) ReleaseSemaphore(MP__HANDLE_OF(h), all ? (LONG)sleepers : 1, NULL);
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
  wait_slot *w = slot;
  int rc = timeout == 0 ? mp__set_error(MP_ETIMEDOUT, "timed out")
                        : sleep_until_moved(w, MP__HANDLE_OF(h), seen, timeout);
  mp__pwait_cancel(slot);
  return rc;
}

void mp__pwait_wake_sleepers(void *slot, mp__handle h, int all) {
  wait_slot *w = slot;
  uint32_t sleepers = mp__atomic_load32(&w->waiters);
  if (!sleepers) return; /* the common case: one read */
  mp__atomic_add32(&w->seq, 1);
  ReleaseSemaphore(MP__HANDLE_OF(h), all ? (LONG)sleepers : 1, NULL);
}
