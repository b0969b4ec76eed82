/* Process-wide facts and clocks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#if defined(__APPLE__)
#include <sys/proc.h>
#include <sys/sysctl.h>
#endif

#include "posix.h"

int mp__platform_parent_init(void) {
  /* A write to a pipe whose reader died must come back as EPIPE (and so
   * MP_ECLOSED), not kill the whole program. Only a default disposition is
   * changed: a program that chose its own keeps it. */
  struct sigaction old;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
  }
  /* Made now rather than at the first start, so a program's descriptor
   * count does not change under it later. */
  int unused, rc = mp__posix_liveness_fd(&unused);
  return rc == MP_OK ? mp__posix_keeper_reserve() : rc;
}

int mp__cpu_count(void) {
#if MP__HAVE_AFFINITY
  /* The CPUs this process may run on (taskset, cgroup cpusets), not every
   * CPU of the machine. */
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int64_t mp__getpid(void) { return (int64_t)getpid(); }

double mp__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double mp__now_coarse(void) {
#if MP__HAVE_COARSE_CLOCK
  /* The kernel's last tick: a read of memory, where a precise clock may
   * cost a hundred nanoseconds on a virtual machine. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#else
  return mp__now();
#endif
}

void mp__sleep(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int mp__pid_alive(int64_t pid) {
  if (pid <= 0) return 0;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 0;
#if defined(__linux__)
  /* A zombie still answers kill(0); in a container whose init does not
   * reap, an orphan stays one. It has ended all the same. */
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
  FILE *f = fopen(path, "r");
  /* Unreadable is not ended: out of descriptors (EMFILE), or a /proc that
   * hides other users' processes (hidepid=2: ENOENT). Only kill() decides
   * then, asked again in case the process ended since. */
  if (!f) return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')');
  if (paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X')) return 0;
#elif defined(__APPLE__)
  /* The same, from the kernel's process table. */
  struct kinfo_proc kp;
  size_t len = sizeof kp;
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};
  memset(&kp, 0, sizeof kp);
  if (sysctl(mib, 4, &kp, &len, NULL, 0) == 0 && len == sizeof kp && kp.kp_proc.p_stat == SZOMB) return 0;
#endif
  return 1;
}

int mp__pid_kill(int64_t pid) {
  if (pid <= 0) return mp__set_error(MP_EINVAL, "mp__pid_kill: bad pid");
  if (kill((pid_t)pid, SIGKILL) != 0) return mp__posix_error(MP_ESYS, errno, "kill");
  return MP_OK;
}

int mp__open_handle_count(void) {
  /* Probing every number up to the highest open one is portable and
   * cheap enough for a test's teardown. */
  int n = 0;
  for (int fd = 0; fd < 4096; fd++)
    if (fcntl(fd, F_GETFD) != -1) n++;
  return n;
}

int mp__stray_children(void) {
  int n = 0;
  for (;;) {
    pid_t r = waitpid(-1, NULL, WNOHANG);
    if (r > 0) {
      n++;
      continue;
    }
    return r == 0 ? n + 1 : n; /* 0: some child still runs; -1: none left */
  }
}

void mp__yield(void) { sched_yield(); }

int mp__env_take(const char *name, char *buf, size_t cap) {
  const char *v = getenv(name);
  if (!v) return 0;
  size_t n = strlen(v);
  int fits = n < cap;
  if (fits) memcpy(buf, v, n + 1);
  unsetenv(name);
  return fits;
}
