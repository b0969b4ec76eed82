/* The worker side of the POSIX backend. */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <stdio_ext.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "posix.h"
#include "result_area.h"

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

#if defined(__GLIBC__) && !defined(MPROC_PORTABLE_POSIX)
/* Registered last, so it runs first: before the parent's handlers, after
 * any the task registered itself. */
static void exit_as_a_return(int status, void *unused) {
  (void)unused;
  mp__result_area_close(); /* a Process's, if its task wrote none */
  mp__worker_exit(status);
}
void mp__worker_fence_exit(void) { (void)on_exit(exit_as_a_return, NULL); }
#else
void mp__worker_fence_exit(void) {}
#endif

void mp__flush_stdio(void) {
  mp__posix_flush_pending(stdout);
  mp__posix_flush_pending(stderr);
}

void mp__worker_exit(int code) {
  mp__posix_flush_pending(stdout); /* what the task left */
  mp__posix_flush_pending(stderr);
#if defined(MPROC_COVERAGE)
  __gcov_dump(); /* _exit below skips the atexit handler that would */
#endif
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

#if defined(__linux__)
/* Linux keeps 15 bytes of a thread's name (16 with the NUL). */
enum { NAME_MAX_LEN = 15 };

/* Appends at most max bytes of text to s (which has at bytes), within
 * NAME_MAX_LEN; returns the new length. */
static size_t append(char *s, size_t at, const char *text, size_t max) {
  for (size_t i = 0; text[i] && i < max && at < NAME_MAX_LEN; i++) s[at++] = text[i];
  s[at] = '\0';
  return at;
}

/* "prog: worker N" / "prog: process" where it fits, else "prog:wN" /
 * "prog:p" with prog cut to fit: the program and the worker's number are
 * what tell workers apart in top. No stdio: a fork child would bind
 * printf's family anew (see prebind.c). */
static void worker_name(char out[NAME_MAX_LEN + 1], const char *prog, int pool_worker) {
  char number[12], reversed[12];
  size_t digits = 0;
  unsigned v = pool_worker >= 0 ? (unsigned)pool_worker : 0;
  do {
    reversed[digits++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < digits; i++) number[i] = reversed[digits - 1 - i];
  number[pool_worker >= 0 ? digits : 0] = '\0';
  const char *label = pool_worker >= 0 ? ": worker " : ": process";
  const char *tag = pool_worker >= 0 ? ":w" : ":p";
  size_t tail = strlen(number), at = 0;
  out[0] = '\0';
  if (strlen(prog) + strlen(label) + tail <= NAME_MAX_LEN) {
    at = append(out, at, prog, NAME_MAX_LEN);
    at = append(out, at, label, NAME_MAX_LEN);
  } else {
    at = append(out, at, prog, NAME_MAX_LEN - strlen(tag) - tail);
    at = append(out, at, tag, NAME_MAX_LEN);
  }
  append(out, at, number, NAME_MAX_LEN);
}
#endif

void mp__worker_set_name(int pool_worker) {
#if defined(__linux__)
  /* The basename of argv[0], which a spawned child has from its parent
   * (spawn.c), so fork and spawn workers read the same. */
  const char *prog = program_invocation_short_name;
  char name[NAME_MAX_LEN + 1];
  worker_name(name, prog && *prog ? prog : "mproc", pool_worker);
  (void)prctl(PR_SET_NAME, name, 0, 0, 0); /* this thread: the main one, which runs tasks */
#else
  (void)pool_worker;
#endif
}
