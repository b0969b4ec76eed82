#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

double bench_raw_spawn_wait(int iterations, const char *arg) {
  double t0 = bench_now();
  for (int i = 0; i < iterations; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      char *argv[] = {"bench", (char *)arg, NULL};
      execv("/proc/self/exe", argv);
      _exit(127);
    }
    waitpid(pid, NULL, 0);
  }
  return (bench_now() - t0) / iterations;
}
