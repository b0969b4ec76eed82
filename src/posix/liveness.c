/* Children die with their parent.
 *
 * Every child holds the read end of one pipe whose only writer is the
 * parent; a thread in the child waits for its EOF, which the kernel
 * delivers however the parent ends (exit, crash, SIGKILL). On Linux the
 * child also asks for SIGKILL when its parent goes (PR_SET_PDEATHSIG), but
 * that fires when the *thread* that forked ends, so it is only used when
 * the main thread forks, and then it is enough on its own; the pipe and its
 * watcher thread cover every other case, and every child on macOS.
 *
 * The pipe is a descriptor, and a task may close every descriptor it has
 * (or close it and open something else that gets its number). That is no
 * sign of the parent's death, so the watcher acts on an end of stream
 * only while the descriptor is still the pipe it was given; once the task
 * took it away, it watches for the parent's death by another sign: being
 * handed to a new parent (getppid() changes), looked at every few
 * milliseconds. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

#if MP__HAVE_PDEATHSIG
#include <sys/prctl.h>
#endif

static pthread_mutex_t liveness_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t liveness_owner;
static int liveness_rd = -1, liveness_wr = -1;

/* In every fork child, the program's own included: the write end is the
 * parent's alone. A child that kept it would keep its parent's workers
 * alive after the parent died (they wait for every writer to be gone).
 * Only reads and a close, so no page of the child's is written; and only
 * when the pipe is its parent's, since in a grandchild the number may
 * name a file the child opened since. */
static void close_write_end_in_child(void) {
  if (liveness_wr >= 0 && liveness_owner == getppid()) close(liveness_wr);
}

static void register_close_in_children(void) { (void)pthread_atfork(NULL, NULL, close_write_end_in_child); }

int mp__posix_liveness_fd(int *read_end) {
  /* Made once per process: after that, a look with no lock taken (a
   * lock's write would cost every fork child's parent a copied page). The
   * owner is published after the descriptors, and read before them. */
  if (__atomic_load_n(&liveness_owner, __ATOMIC_ACQUIRE) == getpid()) {
    *read_end = liveness_rd;
    return MP_OK;
  }
  int rc = MP_OK;
  pthread_mutex_lock(&liveness_lock);
  if (liveness_owner != getpid()) {
    mp__handle r, w;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_close_in_children);
    rc = mp__pipe(&r, &w);
    if (rc == MP_OK) {
      liveness_rd = (int)r;
      liveness_wr = (int)w;
      __atomic_store_n(&liveness_owner, getpid(), __ATOMIC_RELEASE);
    }
  }
  *read_end = liveness_rd;
  pthread_mutex_unlock(&liveness_lock);
  return rc;
}

static volatile int orphan_set; /* see mp__posix_remove_when_orphaned */

void mp__posix_liveness_forget(void) {
  /* Another parent thread may have held the lock at fork; this child has
   * only one thread, so a fresh lock is the right one. */
  static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  memcpy(&liveness_lock, &fresh, sizeof fresh);
  liveness_owner = 0;
  liveness_rd = liveness_wr = -1;
  orphan_set = 0; /* the parent's listener is the parent's */
}

typedef struct watch {
  int fd;
  pid_t parent;
  dev_t dev; /* what fd was when the watch began */
  ino_t ino;
} watch;

static watch the_watch; /* one per process: the watcher's argument */

/* fd still names the pipe the watch began with. */
static int still_the_pipe(const watch *w) {
  struct stat st;
  return fstat(w->fd, &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino;
}

/* A name this process made in the file system (a listener's socket and
 * its folder), removed when the process dies with its parent. */
static char orphan_path[MP__ENDPOINT_NAME_MAX], orphan_dir[MP__ENDPOINT_NAME_MAX];

void mp__posix_remove_when_orphaned(const char *path, const char *dir) {
  __atomic_store_n(&orphan_set, 0, __ATOMIC_RELEASE);
  if (!path) return;
  snprintf(orphan_path, sizeof orphan_path, "%s", path);
  snprintf(orphan_dir, sizeof orphan_dir, "%s", dir ? dir : "");
  __atomic_store_n(&orphan_set, 1, __ATOMIC_RELEASE);
}

/* The parent is gone: go at once, run nothing of the program's (but take
 * the name this process made with it). */
static void die_now(void) {
  if (__atomic_load_n(&orphan_set, __ATOMIC_ACQUIRE)) {
    unlink(orphan_path);
    if (orphan_dir[0]) rmdir(orphan_dir);
  }
  kill(getpid(), SIGKILL);
  _exit(137);
}

/* The pipe was taken from us: the parent's death now shows as this
 * process being handed to another parent. */
static void watch_parent_pid(pid_t parent) {
  for (;;) {
    if (getppid() != parent) die_now();
    mp__sleep(5e-3);
  }
}

static void *watch_parent(void *arg) {
  const watch *w = arg;
  char buf[64];
  for (;;) {
    struct pollfd p = {w->fd, POLLIN, 0};
    int n = poll(&p, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (p.revents & POLLNVAL) || !still_the_pipe(w)) break;
    ssize_t got = read(w->fd, buf, sizeof buf);
    if (got == 0) die_now(); /* every writer is gone: the parent ended */
    if (got < 0 && errno != EAGAIN && errno != EINTR) break;
  }
  watch_parent_pid(w->parent);
  return NULL;
}

/* PR_SET_PDEATHSIG already covers a child forked by the main thread on
 * Linux; a watcher thread would only add start-up cost there. */
static int parent_death_signal_set(void) {
#if MP__HAVE_PDEATHSIG
  int sig = 0;
  return prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGKILL;
#else
  return 0;
#endif
}

int mp__posix_watch_parent(int fd) {
  if (parent_death_signal_set()) return MP_OK;
  pthread_attr_t attr;
  pthread_t t;
  sigset_t all, old;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return mp__posix_error(MP_ESYS, errno, "fstat (parent-liveness pipe)");
  the_watch.fd = fd;
  the_watch.parent = getppid();
  the_watch.dev = st.st_dev;
  the_watch.ino = st.st_ino;
  if (pthread_attr_init(&attr) != 0) return mp__set_error(MP_ESYS, "pthread_attr_init failed");
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  /* The watcher takes no signals: they belong to the task's thread. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int e = pthread_create(&t, &attr, watch_parent, &the_watch);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  return e ? mp__posix_error(MP_ESYS, e, "pthread_create (parent watcher)") : MP_OK;
}

/* What a child task may not inherit from its parent's handlers: the
 * signals that must end it the default way, so that a crash reads as -N
 * and terminate as -15 (cmocka and the sanitizers catch SIGSEGV; a
 * program's SIGTERM or SIGINT handler would run its own shutdown in the
 * child), SIGCHLD (so the task can wait for its own children) and
 * SIGPIPE (ignored: a closed pipe is an error code, not a death). */
static const int task_signals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGILL,  SIGTRAP, SIGABRT, SIGBUS,
                                   SIGFPE,  SIGSEGV, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGSYS};

static void set_default(int s) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = s == SIGPIPE ? SIG_IGN : SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(s, &sa, NULL);
}

void mp__posix_reset_signals(int all) {
  if (all) {
    /* Before exec and at a spawned worker's start: every classic signal
     * (an ignored one survives exec; a runtime such as a sanitizer's may
     * have caught some since). Real-time signals are left as they are:
     * resetting them costs a system call each on every start. */
    for (int s = 1; s < 32 && s < NSIG; s++)
      if (s != SIGKILL && s != SIGSTOP) set_default(s);
  } else {
    /* A fork child keeps its parent's other handlers, as Python's fork
     * children do: half the system calls, on the path of every start. */
    for (size_t i = 0; i < sizeof task_signals / sizeof task_signals[0]; i++) set_default(task_signals[i]);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}
