/* Starting and reaping children: fork, and fork + exec of our own
 * executable for the spawn method.
 *
 * Everything a child needs is allocated and computed before fork(); between
 * fork and exec the child makes only async-signal-safe calls, so a lock
 * another parent thread held at fork can never block it. (The fork method
 * then runs the task itself, as Python's fork method does; that is the
 * threaded-parent caveat of the README and of mproc.h's Process notes.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <crt_externs.h>
#include <mach-o/dyld.h>
#endif

#include "../deadline.h"
#include "posix.h"

#if MP__HAVE_PDEATHSIG
#include <sys/prctl.h>
#endif
#if MP__HAVE_PDEATHSIG || MP__HAVE_PIDFD
#include <sys/syscall.h>
#endif

struct mp__child {
  pid_t pid;
  int pidfd;      /* Linux: readable when the child ends; -1 elsewhere */
  int ended;
  int exitcode;
};

mp__handle mp__child_handle(int method, const mp__handle *handles, size_t i) {
  return method == MP_START_SPAWN ? (mp__handle)(MP__POSIX_FIRST_HANDED_FD + (int)i) : handles[i];
}

int64_t mp__child_pid(const mp__child *c) { return c ? (int64_t)c->pid : 0; }

/* ------------------------------------------------ async-signal-safe bits */
/* keep is sorted ascending; closes every fd >= 3 not in it. */
static void close_all_but(const mp__fd_census *census, const int *keep, size_t n) {
  int lo = 3;
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < lo) continue;
    mp__posix_close_range(census, lo, keep[i] - 1);
    lo = keep[i] + 1;
  }
  mp__posix_close_range(census, lo, census->max_fd);
}

static int spawned_from_main_thread(void) {
#if MP__HAVE_PDEATHSIG
  return (pid_t)syscall(SYS_gettid) == getpid();
#else
  return 0;
#endif
}

static void child_die_with_parent(int from_main_thread, pid_t parent) {
#if MP__HAVE_PDEATHSIG
  if (from_main_thread) prctl(PR_SET_PDEATHSIG, SIGKILL);
#else
  (void)from_main_thread;
#endif
  if (getppid() != parent) _exit(137); /* already orphaned: never run */
}

/* ------------------------------------------------------- the plan */
typedef struct spawn_plan {
  const mp__spawn_options *opts;
  int liveness;
  int *keep;          /* fork: sorted fds the child keeps */
  size_t nkeep;
  int *moved;         /* spawn: scratch for the fds moved out of the way */
  /* The usual few handles need no heap: a page the parent writes while a
   * fork child lives is a copy-on-write fault. */
  int few_keep[8], few_moved[8];
  mp__fd_census census; /* what the child closes */
  int from_main_thread;
  pid_t parent;
  char *exe;          /* spawn */
  char *argv[3];
  char **envp;        /* spawn: this process's environment and mark */
  char *mark;         /* spawn: "MP__WORKER_ENV=<token>" */
  int err_rd, err_wr; /* spawn: exec failure report, close-on-exec */
  /* The child being made. Held here, not only in a register, so a fork
   * child (which never frees its copy) still points at it: a leak checker
   * reads a block the parent owns as the child's own loss otherwise. */
  mp__child *child;
} spawn_plan;

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int exe_path(char **out) {
#if defined(__linux__)
  /* The running image itself, even if its file was renamed since. */
  *out = strdup("/proc/self/exe");
  return *out ? MP_OK : mp__set_error(MP_ENOMEM, "out of memory");
#elif defined(__APPLE__)
  uint32_t size = 0;
  _NSGetExecutablePath(NULL, &size);
  *out = malloc(size + 1);
  if (!*out) return mp__set_error(MP_ENOMEM, "out of memory");
  if (_NSGetExecutablePath(*out, &size) != 0) {
    free(*out);
    *out = NULL;
    return mp__set_error(MP_ESYS, "_NSGetExecutablePath failed");
  }
  return MP_OK;
#else
  *out = NULL;
  return mp__set_error(MP_ENOTSUP, "spawn: no way to find this program's executable on this system");
#endif
}

/* A spawned child's argv[0]: the parent's own, so the child's main() sees
 * what a fresh run of the program would (code before mp_main may use it),
 * and ps names the program rather than /proc/self/exe. The image is still
 * found by exe_path. */
static char *program_argv0(char *exe) {
#if defined(__linux__)
  if (program_invocation_name && *program_invocation_name) return program_invocation_name;
#elif defined(__APPLE__)
  char ***argv = _NSGetArgv();
  if (argv && *argv && (*argv)[0] && *(*argv)[0]) return (*argv)[0];
#endif
  return exe;
}

/* The spawned child's environment: this process's, with the worker's
 * mark in place of any it has (platform.h: mp__spawn_options). Made
 * before the fork, since the child may only make async-signal-safe calls
 * until it execs. */
static char **current_environ(void) {
#if defined(__APPLE__)
  return *_NSGetEnviron();
#else
  extern char **environ;
  return environ;
#endif
}

static int child_environment(spawn_plan *p, const char *token) {
  char **env = current_environ();
  size_t n = 0, keyl = strlen(MP__WORKER_ENV), len = keyl + strlen(token) + 2;
  while (env && env[n]) n++;
  p->envp = malloc((n + 2) * sizeof *p->envp);
  p->mark = malloc(len);
  if (!p->envp || !p->mark) return mp__set_error(MP_ENOMEM, "spawn: out of memory");
  snprintf(p->mark, len, "%s=%s", MP__WORKER_ENV, token);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], MP__WORKER_ENV, keyl) != 0 || env[i][keyl] != '=') p->envp[k++] = env[i];
  p->envp[k++] = p->mark;
  p->envp[k] = NULL;
  return MP_OK;
}

static void plan_release(spawn_plan *p) {
  if (p->keep != p->few_keep) free(p->keep);
  if (p->moved != p->few_moved) free(p->moved);
  free(p->envp);
  free(p->mark);
  free(p->exe);
  mp__posix_fd_census_free(&p->census);
  if (p->err_rd >= 0) close(p->err_rd);
  if (p->err_wr >= 0) close(p->err_wr);
}

static int plan_make(spawn_plan *p, const mp__spawn_options *o) {
  memset(p, 0, sizeof *p);
  p->opts = o;
  p->err_rd = p->err_wr = -1;
  p->parent = getpid();
  p->from_main_thread = spawned_from_main_thread();
  int rc = mp__posix_liveness_fd(&p->liveness);
  if (rc != MP_OK) return rc;
  p->nkeep = o->nhandles + 1;
  int few = p->nkeep <= sizeof p->few_keep / sizeof p->few_keep[0];
  p->keep = few ? p->few_keep : malloc(p->nkeep * sizeof *p->keep);
  p->moved = few ? p->few_moved : malloc(p->nkeep * sizeof *p->moved);
  if (!p->keep || !p->moved) return mp__set_error(MP_ENOMEM, "spawn: out of memory");
  p->keep[0] = p->liveness;
  for (size_t i = 0; i < o->nhandles; i++) p->keep[i + 1] = (int)o->handles[i];
  if (o->method == MP_START_FORK) {
    qsort(p->keep, p->nkeep, sizeof *p->keep, cmp_int);
    return MP_OK;
  }
  if ((rc = exe_path(&p->exe)) != MP_OK) return rc;
  mp__handle er, ew;
  if ((rc = mp__pipe(&er, &ew)) != MP_OK) return rc;
  p->err_rd = (int)er;
  p->err_wr = (int)ew;
  p->argv[0] = program_argv0(p->exe);
  p->argv[1] = (char *)o->spawn_arg;
  p->argv[2] = NULL;
  return child_environment(p, o->spawn_arg ? o->spawn_arg : "");
}

/* What a spawned child that could not exec reports, before its errno. */
enum { SPAWN_STAGE_EXEC, SPAWN_STAGE_HANDLES };

/* The spawned child between fork and exec: liveness pipe onto fd 3, the
 * handed handles onto 4, 5, ..., everything else closed. */
static void exec_child(spawn_plan *p) {
  int n = (int)p->nkeep;
  int high = MP__POSIX_LIVENESS_FD + n;
  for (int i = 0; i < n; i++)
    if (p->keep[i] >= high) high = p->keep[i] + 1;
  if (p->err_wr >= high) high = p->err_wr + 1;
  /* First move everything above every target, so no dup2 overwrites a
   * source still needed; the error pipe goes lowest and stays cloexec. */
  int err = fcntl(p->err_wr, F_DUPFD_CLOEXEC, high);
  for (int i = 0; i < n; i++) p->moved[i] = fcntl(p->keep[i], F_DUPFD, err + 1);
  int report[2] = {SPAWN_STAGE_HANDLES, 0};
  for (int i = 0; i < n; i++) {
    if (err < 0 || p->moved[i] < 0 || dup2(p->moved[i], MP__POSIX_LIVENESS_FD + i) < 0) goto fail;
  }
  /* The copies are the child's own, after the parent's census. */
  for (int i = 0; i < n; i++) close(p->moved[i]);
  mp__posix_close_range(&p->census, MP__POSIX_LIVENESS_FD + n, err - 1);
  mp__posix_close_range(&p->census, err + 1, p->census.max_fd);
#if defined(MPROC_COVERAGE)
  /* The lines above run in no other process, and exec would drop their
   * counts. Not async-signal-safe: a coverage build accepts that. */
  __gcov_dump();
#endif
  execve(p->exe, p->argv, p->envp);
  report[0] = SPAWN_STAGE_EXEC;
fail:
  report[1] = errno;
  /* With no room above every target for a copy (the table full to its
   * limit), the pipe was not moved, and no dup2 has run: it is still
   * where it was. */
  if (write(err >= 0 ? err : p->err_wr, report, sizeof report) < 0) {
  }
  _exit(127);
}

static void fork_child(spawn_plan *p) {
  close_all_but(&p->census, p->keep, p->nkeep);
  mp__posix_liveness_forget();
  mp__posix_keeper_forget();
  if (mp__posix_watch_parent(p->liveness) != MP_OK) _exit(137);
  mp__worker_exit(p->opts->fork_entry(p->opts->fork_ud));
}

/* 0 when exec succeeded (the pipe closed), or errno from the child, with
 * the step that failed in *stage. */
static int exec_outcome(spawn_plan *p, int *stage) {
  close(p->err_wr);
  p->err_wr = -1;
  int report[2] = {SPAWN_STAGE_EXEC, 0};
  size_t got = 0;
  int rc = mp__read(p->err_rd, report, sizeof report, &got, MP_FOREVER);
  *stage = report[0];
  return rc == MP_OK && got == sizeof report ? report[1] : 0;
}

int mp__posix_pidfd_open(pid_t pid) {
#if MP__HAVE_PIDFD && defined(SYS_pidfd_open)
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  return -1;
#endif
}

int mp__spawn(mp__child **out, const mp__spawn_options *o) {
  spawn_plan plan;
  memset(&plan, 0, sizeof plan);
  plan.err_rd = plan.err_wr = -1;
  *out = NULL;
  if (o->method != MP_START_FORK && o->method != MP_START_SPAWN)
    return mp__set_error(MP_EINVAL, "spawn: unknown start method %d", o->method);
  mp__child *c = calloc(1, sizeof *c);
  int rc = c ? plan_make(&plan, o) : mp__set_error(MP_ENOMEM, "spawn: out of memory");
  if (rc != MP_OK) goto done;
  plan.child = c;
  /* Last, so it sees every descriptor the plan made too. */
  mp__posix_fd_census(&plan.census);
  mp__posix_prebind();
  /* Output buffered before the fork would otherwise be written twice. */
  mp__posix_flush_pending(stdout);
  mp__posix_flush_pending(stderr);
  /* Every signal stays blocked from the fork until the child has put back
   * the default handlers (mp__posix_reset_signals unblocks them): a
   * terminate that comes at once must not run a handler of the parent's
   * in the child, which would then live on. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  int fork_errno = errno;
  if (pid != 0) pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    rc = mp__posix_error(MP_ESYS, fork_errno, "fork");
    goto done;
  }
  if (pid == 0) {
    mp__posix_reset_signals(o->method == MP_START_SPAWN);
    child_die_with_parent(plan.from_main_thread, plan.parent);
    if (o->method == MP_START_SPAWN) exec_child(&plan);
    fork_child(&plan);
  }
  c->pid = pid;
  c->pidfd = mp__posix_pidfd_open(pid);
  mp__posix_keeper_started(pid);
  if (o->method == MP_START_SPAWN) {
    int stage;
    int e = exec_outcome(&plan, &stage);
    if (e) {
      /* EINVAL or EMFILE: no free descriptor above those it had, which
       * a table filled to RLIMIT_NOFILE leaves. */
      rc = mp__posix_error(MP_ESYS, e,
                           stage == SPAWN_STAGE_HANDLES
                               ? "the spawned child could not place its handles (too few free descriptors)"
                               : "execv of this program for the spawn start method");
      mp__child_free(c);
      c = NULL;
      goto done;
    }
  }
  *out = c;
  c = NULL;
done:
  if (rc != MP_OK) free(c);
  plan_release(&plan);
  return rc;
}

/* --------------------------------------------------------- waiting */
static int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return -1;
}

/* 1 reaped, 0 still running, <0 error. */
static int try_reap(mp__child *c, int block) {
  for (;;) {
    int st = 0;
    pid_t r = waitpid(c->pid, &st, block ? 0 : WNOHANG);
    if (r == c->pid) {
      c->exitcode = decode_status(st);
      __atomic_store_n(&c->ended, 1, __ATOMIC_RELEASE); /* others look without a lock */
      mp__posix_keeper_reaped(c->pid);
      return 1;
    }
    if (r == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == ECHILD) {
      /* It was ours, so it has ended and someone else reaped it (SIGCHLD
       * set to SIG_IGN does that, and a handler calling waitpid(-1)). */
      c->exitcode = MP__EXIT_UNKNOWN;
      __atomic_store_n(&c->ended, 1, __ATOMIC_RELEASE);
      mp__posix_keeper_reaped(c->pid);
      return 1;
    }
    return mp__posix_error(MP_ESYS, errno, "waitpid");
  }
}

int mp__child_wait(mp__child *c, double timeout, int *exitcode) {
  double deadline = mp__deadline(timeout);
  double nap = 50e-6;
  while (!c->ended) {
    double left = mp__remaining(deadline);
    int r = try_reap(c, left < 0);
    if (r < 0) return r;
    if (r == 1) break;
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "pid %d is still running", (int)c->pid);
    if (c->pidfd >= 0) {
      struct pollfd p = {c->pidfd, POLLIN, 0};
      if (poll(&p, 1, mp__posix_poll_ms(left)) < 0 && errno != EINTR)
        return mp__posix_error(MP_ESYS, errno, "poll(pidfd)");
    } else {
      mp__sleep(nap < left ? nap : left);
      if (nap < 5e-3) nap *= 2;
    }
  }
  *exitcode = c->exitcode;
  return MP_OK;
}

int mp__child_wait_exit(mp__child *c, double timeout) {
  double deadline = mp__deadline(timeout);
  double nap = 50e-6;
  while (!__atomic_load_n(&c->ended, __ATOMIC_ACQUIRE)) {
    double left = mp__remaining(deadline);
    if (c->pidfd >= 0) {
      /* Readable once the child has ended, reaped or not. */
      struct pollfd p = {c->pidfd, POLLIN, 0};
      int r = poll(&p, 1, mp__posix_poll_ms(left));
      if (r > 0) return MP_OK;
      if (r < 0 && errno != EINTR) return mp__posix_error(MP_ESYS, errno, "poll(pidfd)");
    } else {
      /* WNOWAIT: the exit status stays for whoever reaps it. */
      siginfo_t si;
      memset(&si, 0, sizeof si);
      int flags = WEXITED | WNOWAIT | (left < 0 ? 0 : WNOHANG);
      if (waitid(P_PID, (id_t)c->pid, &si, flags) == 0) {
        if (si.si_pid == c->pid) return MP_OK;
      } else if (errno == ECHILD) {
        return MP_OK; /* reaped by another thread meanwhile */
      } else if (errno != EINTR) {
        return mp__posix_error(MP_ESYS, errno, "waitid");
      }
      if (left >= 0) {
        if (left == 0) break;
        mp__sleep(nap < left ? nap : left);
        if (nap < 5e-3) nap *= 2;
      }
    }
    if (left == 0) break;
  }
  if (__atomic_load_n(&c->ended, __ATOMIC_ACQUIRE)) return MP_OK;
  return mp__set_error(MP_ETIMEDOUT, "pid %d is still running", (int)c->pid);
}

int mp__child_signal(mp__child *c, int sig) {
  if (__atomic_load_n(&c->ended, __ATOMIC_ACQUIRE)) return MP_OK;
  int s = sig == MP__SIG_KILL ? SIGKILL : SIGTERM;
#if MP__HAVE_PIDFD && defined(SYS_pidfd_send_signal)
  /* Through the pidfd: a pid the child no longer has cannot be hit. */
  if (c->pidfd >= 0) {
    if (syscall(SYS_pidfd_send_signal, c->pidfd, s, NULL, 0) == 0 || errno == ESRCH) return MP_OK;
    if (errno != ENOSYS) return mp__posix_error(MP_ESYS, errno, "pidfd_send_signal");
  }
#endif
  if (kill(c->pid, s) != 0 && errno != ESRCH) return mp__posix_error(MP_ESYS, errno, "kill");
  return MP_OK;
}

void mp__child_free(mp__child *c) {
  if (!c) return;
  if (!__atomic_load_n(&c->ended, __ATOMIC_ACQUIRE)) {
    kill(c->pid, SIGKILL);
    (void)try_reap(c, 1);
  }
  if (c->pidfd >= 0) close(c->pidfd);
  free(c);
}

mp__handle mp__child_wait_handle(const mp__child *c) { return c->pidfd >= 0 ? (mp__handle)c->pidfd : MP__NO_HANDLE; }
