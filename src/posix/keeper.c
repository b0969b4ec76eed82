/* The keeper: a stopped child still dies with its parent.
 *
 * Each child watches its parent itself (src/posix/liveness.c): a thread
 * that waits for the liveness pipe's end, or PR_SET_PDEATHSIG on Linux,
 * which only covers children forked by the main thread (the signal fires
 * when the forking *thread* ends). A child that is stopped (SIGSTOP,
 * SIGTSTP, a debugger) runs no thread, so when its parent is killed it
 * would stay, stopped, for ever: a replacement pool worker (forked by a
 * pool thread), a Process started from a thread, every child on macOS.
 * The kernel's own rescue (SIGHUP and SIGCONT to a process group left
 * orphaned) does not come while anything else of the job, a shell
 * pipeline's other commands or a test harness, shares the group.
 *
 * So the first child a process starts also starts a keeper: a process of
 * its own, not this one's child (a double fork, so the program's wait()
 * never sees it and no zombie is left), that holds the read end of a pipe
 * only this process writes. The parent writes the pid of each child it
 * starts, and of each it reaps; when the parent is gone (however it
 * ended: its pidfd on Linux, else a look every 50 ms, and the pipe's
 * end), the keeper wakes every pid it was told is live
 * (SIGCONT), gives them a second to end by their own watchers, SIGKILLs
 * those still there, and exits. The keeper blocks every signal, so only
 * SIGKILL or SIGSTOP stops it early; a parent whose keeper is gone (its
 * write fails) starts another at the next child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "posix.h"

/* The second fork is from a copy of a process that may have had threads:
 * _Fork runs no atfork handlers, one of which could wait for ever there
 * on a lock another thread held. (ThreadSanitizer's runtime needs its own
 * fork handling, which only fork() gives.) */
#if MP__HAVE_PRIVATE_FORK && !defined(MP__TSAN_BUILD)
#  define keeper_fork _Fork
#else
#  define keeper_fork fork
#endif

/* Children listed at once; past this many, the rest are not kept. The
 * parent's list and the keeper's are the same array: the keeper starts
 * with a copy, so one started late knows every child already running. */
#define KEEPER_MAX 4096

typedef struct keeper_note {
  int32_t live; /* 1: started, 0: reaped */
  int32_t pid;
} keeper_note;

static pthread_mutex_t keeper_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t keeper_owner; /* the process the pipe, slot and list are for */
static int keeper_wr = -1; /* the pipe's write end while a keeper runs; else -1 */
/* A descriptor number taken at mp_main (on /dev/null), which the pipe's
 * write end moves onto: the program's descriptor count does not change
 * under it when the first child starts the keeper. */
static int keeper_slot = -1;
static int32_t keeper_pids[KEEPER_MAX];
static size_t keeper_n;

static void list_add(int32_t pid) {
  if (keeper_n < KEEPER_MAX) keeper_pids[keeper_n++] = pid;
}

static void list_remove(int32_t pid) {
  for (size_t i = 0; i < keeper_n; i++)
    if (keeper_pids[i] == pid) {
      keeper_pids[i] = keeper_pids[--keeper_n];
      return;
    }
}

/* In a fork child the pipe is the parent's: a child holding it would keep
 * the keeper from seeing its parent's end. Reads and a close only. */
static void close_in_child(void) {
  if (keeper_owner != getppid()) return;
  if (keeper_wr >= 0) close(keeper_wr);
  if (keeper_slot >= 0 && keeper_slot != keeper_wr) close(keeper_slot);
}

static void register_close_in_children(void) { (void)pthread_atfork(NULL, NULL, close_in_child); }

/* "prog:keeper" in ps and top, prog cut to fit Linux's 15 bytes. */
static void name_keeper(void) {
#if defined(__linux__)
  char name[16];
  const char *prog = program_invocation_short_name;
  size_t n = 0;
  for (; prog && prog[n] && n < 8; n++) name[n] = prog[n];
  memcpy(name + n, ":keeper", 8);
  (void)prctl(PR_SET_NAME, name, 0, 0, 0);
#endif
}

/* Applies the whole notes in buf[0, *have) and keeps the rest. */
static void apply_notes(keeper_note *buf, size_t *have) {
  size_t whole = *have / sizeof *buf;
  for (size_t i = 0; i < whole; i++) {
    if (buf[i].live)
      list_add(buf[i].pid);
    else
      list_remove(buf[i].pid);
  }
  *have -= whole * sizeof *buf;
  if (*have) memmove(buf, (char *)buf + whole * sizeof *buf, *have);
}

/* The keeper itself: async-signal-safe calls only (the parent may have
 * had threads). */
static void keep(int rd, pid_t parent, const mp__fd_census *census) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  if (rd > 0) mp__posix_close_range(census, 0, rd - 1);
  mp__posix_close_range(census, rd + 1, INT32_MAX);
  (void)setsid(); /* out of the job: no terminal's signals, no part in its group */
  name_keeper();
  /* The parent's end is watched for itself (its pidfd, else a look every
   * 50 ms), not only as the pipe's end: a fork child stopped before it
   * closed what it inherited keeps the pipe's write end open for ever. */
  int exit_fd = mp__posix_pidfd_open(parent);
  if (exit_fd < 0 && kill(parent, 0) != 0) parent = 0; /* gone already */
  keeper_note buf[64];
  size_t have = 0;
  while (parent) {
    struct pollfd p[2] = {{rd, POLLIN, 0}, {exit_fd, POLLIN, 0}};
    int n = poll(p, exit_fd >= 0 ? 2 : 1, exit_fd >= 0 ? -1 : 50);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
      ssize_t got = read(rd, (char *)buf + have, sizeof buf - have);
      if (got <= 0 && !(got < 0 && errno == EINTR)) break; /* every writer gone: the parent too */
      if (got > 0) {
        have += (size_t)got;
        apply_notes(buf, &have);
      }
      continue; /* notes first: what the parent wrote before it ended counts */
    }
    if (exit_fd >= 0 ? n > 0 && p[1].revents != 0 : kill(parent, 0) != 0) break;
  }
  /* Whatever the parent wrote before it ended still counts: a keeper that
   * only ran once its parent was gone (a loaded machine) has every later
   * child's note in the pipe still. Not a blocking read: a stopped fork
   * child may still hold the write end. */
  for (;;) {
    struct pollfd p = {rd, POLLIN, 0};
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) break;
    ssize_t got = read(rd, (char *)buf + have, sizeof buf - have);
    if (got <= 0) break;
    have += (size_t)got;
    apply_notes(buf, &have);
  }
  /* Let each child end its own way first: a running one's watcher takes
   * with it what it made (a manager's socket file), and a stopped one,
   * woken, does the same. Those still there after a second are killed. */
  for (size_t i = 0; i < keeper_n; i++) kill((pid_t)keeper_pids[i], SIGCONT);
  for (int round = 0; round < 20; round++) {
    int left = 0;
    for (size_t i = 0; i < keeper_n; i++) left += kill((pid_t)keeper_pids[i], 0) == 0;
    if (!left) break;
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
  for (size_t i = 0; i < keeper_n; i++) kill((pid_t)keeper_pids[i], SIGKILL);
  _exit(0);
}

/* Starts this process's keeper, with the list as it is now; keeper_lock
 * held. */
static int start_keeper(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, register_close_in_children);
  mp__handle r, w;
  int rc = mp__pipe(&r, &w);
  if (rc != MP_OK) return rc;
  /* Blocking, both ends: the keeper sleeps in read, and a note is never
   * dropped (the pipe holds 8192; only a keeper stopped with that many
   * unread would make a start wait). */
  (void)fcntl((int)r, F_SETFL, fcntl((int)r, F_GETFL) & ~O_NONBLOCK);
  (void)fcntl((int)w, F_SETFL, fcntl((int)w, F_GETFL) & ~O_NONBLOCK);
  /* Published before the fork: a child another thread forks meanwhile
   * closes it (close_in_child). */
  keeper_wr = (int)w;
  keeper_owner = getpid();
  mp__fd_census census;
  mp__posix_fd_census(&census);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t parent = getpid();
  pid_t mid = fork();
  int e = errno;
  if (mid == 0) {
    pid_t k = keeper_fork();
    if (k == 0) keep((int)r, parent, &census);
    _exit(k < 0 ? 1 : 0);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  mp__posix_fd_census_free(&census);
  close((int)r);
  int st = 0; /* stays 0 (a clean exit) if the program's SIGCHLD handling reaped it */
  if (mid > 0)
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
    }
  if (mid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    close((int)w);
    keeper_wr = -1;
    return mid < 0 ? mp__posix_error(MP_ESYS, e, "fork (keeper)") : mp__set_error(MP_ESYS, "fork (keeper) failed");
  }
  if (keeper_slot >= 0 && dup2((int)w, keeper_slot) == keeper_slot) {
    /* A child forked meanwhile closes the slot and this number both. */
    (void)fcntl(keeper_slot, F_SETFD, FD_CLOEXEC);
    close((int)w);
    keeper_wr = keeper_slot;
  }
  return MP_OK;
}

/* The keeper is gone: its pipe is dropped (the slot keeps its number). */
static void drop_pipe(void) {
  if (keeper_wr != keeper_slot) close(keeper_wr);
  keeper_wr = -1;
}

/* Tells the keeper of one change the list already has; a keeper that is
 * gone (EPIPE) is replaced by one that starts with the whole list. A
 * keeper that cannot be started is tried again at the next change: the
 * children still watch their parent themselves. */
static void tell(int32_t live, int32_t pid) {
  if (keeper_wr >= 0) {
    keeper_note note = {live, pid};
    ssize_t put;
    do {
      put = write(keeper_wr, &note, sizeof note);
    } while (put < 0 && errno == EINTR);
    if (put == (ssize_t)sizeof note) return;
    drop_pipe();
  }
  if (keeper_n > 0) (void)start_keeper();
}

void mp__posix_keeper_started(int64_t pid) {
  pthread_mutex_lock(&keeper_lock);
  if (keeper_owner != getpid()) {
    /* A fork child now a parent: what it inherited was its parent's. */
    keeper_wr = keeper_slot = -1;
    keeper_n = 0;
    keeper_owner = getpid();
  }
  list_add((int32_t)pid);
  tell(1, (int32_t)pid);
  pthread_mutex_unlock(&keeper_lock);
}

void mp__posix_keeper_reaped(int64_t pid) {
  pthread_mutex_lock(&keeper_lock);
  if (keeper_owner == getpid()) {
    list_remove((int32_t)pid);
    tell(0, (int32_t)pid);
  }
  pthread_mutex_unlock(&keeper_lock);
}

int mp__posix_keeper_reserve(void) {
  pthread_mutex_lock(&keeper_lock);
  int rc = MP_OK;
  if (keeper_owner != getpid()) {
    keeper_wr = -1;
    keeper_n = 0;
    keeper_owner = getpid();
    keeper_slot = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (keeper_slot < 0) rc = mp__posix_error(MP_ESYS, errno, "open /dev/null (the keeper's descriptor)");
  }
  pthread_mutex_unlock(&keeper_lock);
  return rc;
}

void mp__posix_keeper_forget(void) {
  /* A fork child: another parent thread may have held the lock at fork. */
  static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&keeper_lock, &fresh, sizeof fresh);
}
