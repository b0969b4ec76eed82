/* Threads, mutexes and condition variables: Win32 threads started
 * through the C runtime, slim reader/writer locks, condition variables. */
#include <process.h>
#include <stdlib.h>

#include "win32.h"

struct mp__thread {
  HANDLE h;
  void (*fn)(void *);
  void *arg;
};
struct mp__mutex {
  SRWLOCK lock;
};
struct mp__cond {
  CONDITION_VARIABLE cv;
};

static unsigned __stdcall trampoline(void *p) {
  mp__thread *t = p;
  t->fn(t->arg);
  return 0;
}

int mp__thread_start(mp__thread **out, void (*fn)(void *), void *arg) {
  mp__thread *t = malloc(sizeof *t);
  if (!t) return mp__set_error(MP_ENOMEM, "thread: out of memory");
  t->fn = fn;
  t->arg = arg;
  /* _beginthreadex, not CreateThread: the C runtime sets up its per-thread
   * state. The stack stays small: these threads only wait and copy. */
  uintptr_t h = _beginthreadex(NULL, 256 * 1024, trampoline, t, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
  if (!h) {
    free(t);
    return mp__win_error(MP_ESYS, GetLastError(), "_beginthreadex");
  }
  t->h = (HANDLE)h;
  *out = t;
  return MP_OK;
}

void mp__thread_join(mp__thread *t) {
  if (!t) return;
  WaitForSingleObject(t->h, INFINITE);
  CloseHandle(t->h);
  free(t);
}

int mp__mutex_new(mp__mutex **out) {
  mp__mutex *m = malloc(sizeof *m);
  if (!m) return mp__set_error(MP_ENOMEM, "mutex: out of memory");
  InitializeSRWLock(&m->lock);
  *out = m;
  return MP_OK;
}

void mp__mutex_free(mp__mutex *m) { free(m); }
void mp__mutex_lock(mp__mutex *m) { AcquireSRWLockExclusive(&m->lock); }
void mp__mutex_unlock(mp__mutex *m) { ReleaseSRWLockExclusive(&m->lock); }

int mp__cond_new(mp__cond **out) {
  mp__cond *c = malloc(sizeof *c);
  if (!c) return mp__set_error(MP_ENOMEM, "condition: out of memory");
  InitializeConditionVariable(&c->cv);
  *out = c;
  return MP_OK;
}

void mp__cond_free(mp__cond *c) { free(c); }

int mp__cond_wait(mp__cond *c, mp__mutex *m, double timeout) {
  if (SleepConditionVariableSRW(&c->cv, &m->lock, mp__win_ms(timeout), 0)) return MP_OK;
  return GetLastError() == ERROR_TIMEOUT ? MP_ETIMEDOUT : MP_OK;
}

void mp__cond_signal(mp__cond *c) { WakeConditionVariable(&c->cv); }
void mp__cond_broadcast(mp__cond *c) { WakeAllConditionVariable(&c->cv); }

/* The pid in the high half and a thread number in the low half, worked
 * out once per thread. Not GetCurrentThreadId(): Windows hands a dead
 * thread's id to a new thread soon, and a lock names a dead holder until
 * someone takes it over, so the new thread would take itself for that
 * holder. A process numbers its threads from a clock reading, so one that
 * got a dead process's pid does not repeat its numbers either. */
static MP__THREAD_LOCAL uint64_t my_thread_id;
static volatile uint32_t thread_serial; /* 0: not seeded yet */

uint64_t mp__thread_id(void) {
  uint64_t id = my_thread_id;
  if (id) return id;
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  uint32_t unseeded = 0;
  mp__atomic_cas32(&thread_serial, &unseeded, (uint32_t)now.QuadPart ^ (uint32_t)(now.QuadPart >> 32));
  uint32_t serial = mp__atomic_add32(&thread_serial, 1);
  id = ((uint64_t)GetCurrentProcessId() << 32) | serial;
  my_thread_id = id;
  return id;
}
