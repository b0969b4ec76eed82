/* The raw OS floor for benchmarks: what the same work costs without mproc. */
#ifndef MPROC_BENCH_OS_H
#define MPROC_BENCH_OS_H

#include <stddef.h>
#include <stdint.h>

double bench_now(void);
int bench_have_fork(void);
/* Seconds per fork + wait of a child that exits at once. */
double bench_raw_fork_wait(int iterations);
/* Seconds per start of this executable with arg (it must exit at once) + wait. */
double bench_raw_spawn_wait(int iterations, const char *arg);

/* Messages per second through one pipe from a child to this process, one
 * write and one read of size bytes each. */
double bench_raw_pipe_rate(uint64_t count, size_t size);

/* Seconds per round trip of one byte between this process and a child
 * (Windows: a thread) over two pipes: the floor under any request/reply. */
double bench_raw_pingpong(int iterations);

#endif
