/* Threads, mutexes and condition variables: pthreads, with condition
 * waits on the monotonic clock so a wall-clock change cannot stretch one. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

struct mp__thread {
  pthread_t t;
  void (*fn)(void *);
  void *arg;
};
struct mp__mutex {
  pthread_mutex_t m;
};
struct mp__cond {
  pthread_cond_t c;
};

static void *trampoline(void *p) {
  mp__thread *t = p;
  t->fn(t->arg);
  return NULL;
}

int mp__thread_start(mp__thread **out, void (*fn)(void *), void *arg) {
  mp__thread *t = malloc(sizeof *t);
  if (!t) return mp__set_error(MP_ENOMEM, "thread: out of memory");
  t->fn = fn;
  t->arg = arg;
  /* The library's threads take no signals: they belong to the program. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int e = pthread_create(&t->t, NULL, trampoline, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e) {
    free(t);
    return mp__posix_error(MP_ESYS, e, "pthread_create");
  }
  *out = t;
  return MP_OK;
}

void mp__thread_join(mp__thread *t) {
  if (!t) return;
  pthread_join(t->t, NULL);
  free(t);
}

int mp__mutex_new(mp__mutex **out) {
  mp__mutex *m = malloc(sizeof *m);
  if (!m) return mp__set_error(MP_ENOMEM, "mutex: out of memory");
  pthread_mutex_init(&m->m, NULL);
  *out = m;
  return MP_OK;
}

void mp__mutex_free(mp__mutex *m) {
  if (!m) return;
  pthread_mutex_destroy(&m->m);
  free(m);
}

void mp__mutex_lock(mp__mutex *m) { pthread_mutex_lock(&m->m); }
void mp__mutex_unlock(mp__mutex *m) { pthread_mutex_unlock(&m->m); }

int mp__cond_new(mp__cond **out) {
  mp__cond *c = malloc(sizeof *c);
  if (!c) return mp__set_error(MP_ENOMEM, "condition: out of memory");
  pthread_condattr_t a;
  pthread_condattr_init(&a);
#if !defined(__APPLE__)
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
#endif
  pthread_cond_init(&c->c, &a);
  pthread_condattr_destroy(&a);
  *out = c;
  return MP_OK;
}

void mp__cond_free(mp__cond *c) {
  if (!c) return;
  pthread_cond_destroy(&c->c);
  free(c);
}

int mp__cond_wait(mp__cond *c, mp__mutex *m, double timeout) {
  if (timeout < 0) {
    pthread_cond_wait(&c->c, &m->m);
    return MP_OK;
  }
  struct timespec ts;
#if defined(__APPLE__)
  ts.tv_sec = (time_t)timeout;
  ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
  int e = pthread_cond_timedwait_relative_np(&c->c, &m->m, &ts);
#else
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double end = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + timeout;
  ts.tv_sec = (time_t)end;
  ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
  int e = pthread_cond_timedwait(&c->c, &m->m, &ts);
#endif
  return e == ETIMEDOUT ? MP_ETIMEDOUT : MP_OK;
}

void mp__cond_signal(mp__cond *c) { pthread_cond_signal(&c->c); }
void mp__cond_broadcast(mp__cond *c) { pthread_cond_broadcast(&c->c); }

/* ------------------------------------------------------------ thread ids */
/* The pid in the high half and a thread number in the low half: unique
 * across processes, and no system call per use (getpid() is one on
 * current glibc, so both are worked out once per thread). A process
 * numbers its threads from a clock reading, not from 1: a lock names a
 * dead holder until someone takes it over, and a new process that got the
 * dead one's pid must not take itself for that holder. A fork child's
 * thread is a new thread of a new process: the atfork handler makes it
 * start over. */
static _Thread_local uint64_t my_thread_id;
static volatile uint32_t thread_serial; /* 0: not seeded in this process */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_thread_id(void) {
  my_thread_id = 0;
  thread_serial = 0;
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, forget_thread_id); }

static uint32_t clock_seed(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec << 12);
}

uint64_t mp__thread_id(void) {
  uint64_t id = my_thread_id;
  if (id) return id;
  pthread_once(&atfork_once, register_atfork);
  uint32_t unseeded = 0;
  mp__atomic_cas32(&thread_serial, &unseeded, clock_seed());
  uint32_t serial = mp__atomic_add32(&thread_serial, 1);
  id = ((uint64_t)(uint32_t)getpid() << 32) | serial;
  my_thread_id = id;
  return id;
}
