/* Closing, in a new child, the descriptors it was not handed.
 *
 * Linux closes a whole range in one call (close_range), the BSDs close
 * everything from a number up (closefrom). Elsewhere (macOS) the only
 * portable way is a close() per number, and up to RLIMIT_NOFILE that is
 * 20000 system calls per start under a limit of 20000, seconds for a
 * thousand starts. So there the parent, before it forks, lists what is
 * open (/dev/fd), and the child closes only that: the descriptors listed,
 * plus every number up to the count listed and some slack, which is where
 * anything another thread opened since went (open, pipe, socket, dup and
 * accept take the lowest free number). Only a descriptor another thread
 * put at a chosen high number (dup2, F_DUPFD) in that instant escapes,
 * and mproc's own are close-on-exec anyway. Listing needs opendir, which
 * may not run in a fork child; closing runs there, and only closes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "posix.h"

#if MP__HAVE_CLOSE_RANGE
#include <sys/syscall.h>
#endif

/* Numbers another thread may have taken between the listing and the fork. */
#define CENSUS_SLACK 64

static int limit_fd(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)(1 << 20))
    return (int)rl.rlim_cur - 1;
  return (1 << 20) - 1;
}

#if !MP__HAVE_CLOSE_RANGE && !MP__HAVE_CLOSEFROM
static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int add_fd(mp__fd_census *c, int fd) {
  if (c->n == c->cap) {
    size_t cap = c->cap * 2;
    int *grown = c->fds == c->few ? malloc(cap * sizeof *grown) : realloc(c->fds, cap * sizeof *grown);
    if (!grown) return -1;
    if (c->fds == c->few) memcpy(grown, c->few, sizeof c->few);
    c->fds = grown;
    c->cap = cap;
  }
  c->fds[c->n++] = fd;
  return 0;
}

/* 1 with every open descriptor in c, or 0 (no /dev/fd, no descriptor
 * left to read it with, no memory): then the child closes every number. */
static int list_open(mp__fd_census *c) {
  DIR *d = opendir("/dev/fd");
  if (!d) return 0;
  int own = dirfd(d), ok = 1;
  struct dirent *e;
  while (ok && (e = readdir(d)) != NULL) {
    const char *s = e->d_name;
    if (*s < '0' || *s > '9') continue; /* "." and ".." */
    long fd = 0;
    for (; *s >= '0' && *s <= '9' && fd <= c->max_fd; s++) fd = fd * 10 + (*s - '0');
    if (*s || fd > c->max_fd || fd == own) continue;
    ok = add_fd(c, (int)fd) == 0;
  }
  closedir(d);
  if (ok) qsort(c->fds, c->n, sizeof *c->fds, cmp_int);
  return ok;
}
#endif

void mp__posix_fd_census(mp__fd_census *c) {
  c->fds = c->few;
  c->cap = sizeof c->few / sizeof c->few[0];
  c->n = 0;
  c->max_fd = limit_fd();
#if MP__HAVE_CLOSE_RANGE || MP__HAVE_CLOSEFROM
  c->listed = 0; /* one call closes a range: nothing to list */
#else
  int saved = errno;
  c->listed = list_open(c);
  errno = saved;
#endif
}

void mp__posix_fd_census_free(mp__fd_census *c) {
  if (c->fds != c->few) free(c->fds);
  c->fds = c->few;
  c->n = 0;
}

static void close_each(int lo, int hi) {
  for (int fd = lo; fd <= hi; fd++) close(fd);
}

void mp__posix_close_range(const mp__fd_census *c, int lo, int hi) {
  if (hi > c->max_fd) hi = c->max_fd;
  if (lo > hi) return;
#if MP__HAVE_CLOSE_RANGE
  if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0u) == 0) return;
#endif
#if MP__HAVE_CLOSEFROM
  if (hi == c->max_fd) {
    closefrom(lo);
    return;
  }
#endif
  if (!c->listed) {
    close_each(lo, hi);
    return;
  }
  for (size_t i = 0; i < c->n; i++)
    if (c->fds[i] >= lo && c->fds[i] <= hi) close(c->fds[i]);
  size_t low = c->n + CENSUS_SLACK;
  close_each(lo, low < (size_t)hi ? (int)low : hi);
}
