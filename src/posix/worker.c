/* The worker side of the POSIX backend. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <stdio_ext.h>
#endif

#include "posix.h"

int mp__worker_init_spawned(void) {
  mp__posix_reset_signals(1);
  /* mp__spawn put the parent-liveness pipe on this fixed number. */
  if (!mp__handle_valid(MP__POSIX_LIVENESS_FD))
    return mp__set_error(MP_EPROTO, "worker: no parent-liveness pipe on fd %d", MP__POSIX_LIVENESS_FD);
  /* dup2 put it there without close-on-exec: programs tasks start don't need it. */
  fcntl(MP__POSIX_LIVENESS_FD, F_SETFD, FD_CLOEXEC);
  return mp__posix_watch_parent(MP__POSIX_LIVENESS_FD);
}

void mp__posix_flush_pending(FILE *f) {
#if defined(__GLIBC__)
  if (!__fpending(f)) return;
#endif
  fflush(f);
}

void mp__worker_exit(int code) {
  mp__posix_flush_pending(stdout); /* what the task left */
  mp__posix_flush_pending(stderr);
  /* _exit: a fork child must not run the parent's atexit handlers or flush
   * buffers it inherited; a spawned child follows the same rule. */
  mp__posix_exit_now(code); /* _exit, bound in advance (prebind.c) */
  _exit(code);               /* not reached; says so to the compiler */
}

/* The pipes a child forked by a task must close. Written before any task
 * runs, read only in that child, where closing them is async-signal-safe. */
enum { GUARDED_MAX = 4 };
static int guarded[GUARDED_MAX];
static size_t nguarded;

static void close_guarded_in_child(void) {
  if (!nguarded) return; /* not a worker: write nothing (its page stays shared) */
  for (size_t i = 0; i < nguarded; i++) close(guarded[i]);
  nguarded = 0;
}

static void register_guard(void) { (void)pthread_atfork(NULL, NULL, close_guarded_in_child); }

/* Once per program image: a fork child inherits the registration (and
 * this once's state), a spawned child makes its own. */
void mp__posix_guard_atfork(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, register_guard);
}

void mp__worker_guard_handles(const mp__handle *h, size_t n, size_t nclose) {
  for (size_t i = 0; i < n; i++) {
    if (h[i] == MP__NO_HANDLE) continue;
    int fl = fcntl((int)h[i], F_GETFD);
    if (fl != -1) fcntl((int)h[i], F_SETFD, fl | FD_CLOEXEC);
    if (i < nclose && nguarded < GUARDED_MAX) guarded[nguarded++] = (int)h[i];
  }
  if (nguarded) mp__posix_guard_atfork();
}
