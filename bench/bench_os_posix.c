#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#endif

#include "bench_os.h"

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_have_fork(void) { return 1; }

double bench_raw_fork_wait(int iterations) {
  double t0 = bench_now();
  for (int i = 0; i < iterations; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
  }
  return (bench_now() - t0) / iterations;
}

/* This program's own image, as mproc's spawn finds it: macOS has no
 * /proc/self/exe. */
static const char *self_exe(void) {
#if defined(__APPLE__)
  static char path[4096];
  uint32_t n = sizeof path;
  if (_NSGetExecutablePath(path, &n) == 0) return path;
#endif
  return "/proc/self/exe";
}

double bench_raw_spawn_wait(int iterations, const char *arg) {
  const char *exe = self_exe();
  double t0 = bench_now();
  for (int i = 0; i < iterations; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      char *argv[] = {"bench", (char *)arg, NULL};
      execv(exe, argv);
      _exit(127);
    }
    waitpid(pid, NULL, 0);
  }
  return (bench_now() - t0) / iterations;
}

double bench_raw_pipe_rate(uint64_t count, size_t size) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  char *buf = calloc(1, size);
  double t0 = bench_now();
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    for (uint64_t i = 0; i < count; i++) {
      size_t off = 0;
      while (off < size) {
        ssize_t n = write(fds[1], buf + off, size - off);
        if (n <= 0) _exit(1);
        off += (size_t)n;
      }
    }
    _exit(0);
  }
  close(fds[1]);
  for (uint64_t i = 0; i < count; i++) {
    size_t off = 0;
    while (off < size) {
      ssize_t n = read(fds[0], buf + off, size - off);
      if (n <= 0) break;
      off += (size_t)n;
    }
  }
  double t = bench_now() - t0;
  close(fds[0]);
  waitpid(pid, NULL, 0);
  free(buf);
  return (double)count / t;
}

double bench_raw_pingpong(int iterations) {
  int there[2], back[2];
  if (pipe(there) != 0 || pipe(back) != 0) return 0;
  char c = 0;
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < iterations; i++)
      if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  double t0 = bench_now();
  for (int i = 0; i < iterations; i++)
    if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) break;
  double t = bench_now() - t0;
  waitpid(pid, NULL, 0);
  close(there[0]);
  close(there[1]);
  close(back[0]);
  close(back[1]);
  return t / iterations;
}
