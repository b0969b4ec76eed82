/* What the message-passing peers of bench_queue_throughput share: the two
 * sizes they are compared at, how many messages make a figure, and the
 * lines they print.
 *
 * Like every bench program, a peer takes one sample of each figure per run
 * and answers --help (bench_cli.h); scripts/bench (bench/report.py) runs it
 * several times, in the same runs as mproc's queue, and reports the median
 * of the runs and their spread. */
#ifndef MPROC_BENCH_PEER_COMMON_H
#define MPROC_BENCH_PEER_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "bench_cli.h"

static const uint64_t peer_sizes[] = {64, 1048576};
enum { PEER_SIZES = 2 };

/* Messages for about scale x 0.25 s of work at per_sec, the peer's rate
 * at that size on the development VM (as bench_queue_throughput sizes
 * its figures); never fewer than 200. */
static inline uint64_t peer_messages(double per_sec, double scale) {
  uint64_t n = (uint64_t)(per_sec * 0.25 * scale);
  return n < 200 ? 200 : n;
}

/* The figure's name: "queue.1to1.64B", as bench_queue_throughput's. */
static inline void peer_figure(char *name, size_t len, uint64_t size) {
  snprintf(name, len, "queue.1to1.%lluB", (unsigned long long)size);
}

/* One sample: rate in messages per second. */
static inline void peer_report(const char *impl, uint64_t size, double rate) {
  char name[48];
  peer_figure(name, sizeof name, size);
  printf("%8llu B: %-12s %12.0f msg/s %8.3f GiB/s\n", (unsigned long long)size, impl, rate,
         rate * (double)size / 1073741824.0);
  bench_report(name, impl, rate, "msg/s");
  fflush(stdout);
}

/* A size this machine does not let the peer send, and why. */
static inline void peer_report_none(const char *impl, uint64_t size, const char *why) {
  char name[48];
  peer_figure(name, sizeof name, size);
  printf("%8llu B: %-12s none: %s\n", (unsigned long long)size, impl, why);
  bench_report_none(name, impl, why);
  fflush(stdout);
}

#endif
