/* Private helpers of the POSIX backend. */
#ifndef MPROC_POSIX_H
#define MPROC_POSIX_H

#include <stdio.h>
#include <sys/types.h>

#include "../error.h"
#include "../platform.h"
#include "system_calls.h"

/* Sets mp_last_error to "what: <strerror(err)> (err)" and returns code. */
int mp__posix_error(int code, int err, const char *what);
/* poll(2) timeout in ms from seconds: -1 forever, rounded up otherwise. */
int mp__posix_poll_ms(double timeout);
/* Sets O_NONBLOCK and FD_CLOEXEC; 0 or -1 with errno. */
int mp__posix_prepare_fd(int fd);

/* The parent-liveness pipe: children hold the read end and die at its EOF,
 * which comes when this process (the only writer) is gone. */
int mp__posix_liveness_fd(int *read_end);
/* In a new fork child: forget the parent's pipe (the child makes its own
 * for its own children) and watch the inherited read end. */
void mp__posix_liveness_forget(void);
/* keeper.c: a process of its own that SIGKILLs this one's children when
 * this one ends, so that a stopped child (which runs no watcher) goes too.
 * Told of each child after its fork and after its reaping; started with
 * the first child. forget: in a fork child, whose lock may have been held
 * by another of the parent's threads. */
void mp__posix_keeper_started(int64_t pid);
void mp__posix_keeper_reaped(int64_t pid);
void mp__posix_keeper_forget(void);
/* At mp_main: takes the descriptor number the keeper's pipe will use. */
int mp__posix_keeper_reserve(void);
/* spawn.c: a descriptor readable once pid has ended (Linux's pidfd;
 * async-signal-safe), or -1 where there is none. */
int mp__posix_pidfd_open(pid_t pid);
/* Starts the thread that ends this process when fd reaches EOF. */
int mp__posix_watch_parent(int fd);
/* A file and its folder (or NULL: none) this process made, which the
 * parent watcher removes when it ends the process for its parent's end;
 * where the kernel ends it (PR_SET_PDEATHSIG) nothing named is made. */
void mp__posix_remove_when_orphaned(const char *path, const char *dir);
/* Default dispositions (SIGPIPE ignored) and nothing blocked, for what a
 * worker starts with: every classic signal when all, else those a fork
 * child's task must not inherit from its parent's handlers. */
void mp__posix_reset_signals(int all);

/* prebind.c: binds, once, the library calls a child makes, so that no
 * forked child pays the dynamic linker for them; and the child's _exit. */
void mp__posix_prebind(void);
extern void (*volatile mp__posix_exit_now)(int);
/* worker.c: flushes f if anything waits in it. glibc tells without taking
 * the stream's lock: a write that costs a copied page around a fork. */
void mp__posix_flush_pending(FILE *f);
/* worker.c: the fork handler that closes a worker's guarded pipes. */
void mp__posix_guard_atfork(void);

/* close_fds.c: what a new child closes. The parent takes the census
 * before it forks (it may list /dev/fd, which a fork child may not); the
 * child then closes, async-signal-safely, every open descriptor in
 * [lo, hi] (hi is capped at the descriptor limit's last number). */
typedef struct mp__fd_census {
  int *fds;          /* sorted: what was open, where listed */
  size_t n, cap;
  int few[64];       /* no heap for the usual few (a fork child's parent
                        would pay a copied page for each write) */
  int listed;        /* 0: not listed; every number is closed */
  int max_fd;        /* RLIMIT_NOFILE's last descriptor */
} mp__fd_census;
void mp__posix_fd_census(mp__fd_census *c);
void mp__posix_fd_census_free(mp__fd_census *c);
void mp__posix_close_range(const mp__fd_census *c, int lo, int hi);

#if defined(MPROC_COVERAGE)
/* libgcov's: writes this process's line counts now. A coverage build calls
 * it where a process ends through _exit or exec, which skip the atexit
 * handler that would. */
void __gcov_dump(void);
#endif

/* The fd number the spawned child's liveness pipe lands on; the handed
 * handles follow it. */
#define MP__POSIX_LIVENESS_FD 3
#define MP__POSIX_FIRST_HANDED_FD 4

#endif
