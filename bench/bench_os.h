/* The raw OS floor for benchmarks: what the same work costs without mproc. */
#ifndef MPROC_BENCH_OS_H
#define MPROC_BENCH_OS_H

double bench_now(void);
int bench_have_fork(void);
/* Seconds per fork + wait of a child that exits at once. */
double bench_raw_fork_wait(int iterations);
/* Seconds per start of this executable with arg (it must exit at once) + wait. */
double bench_raw_spawn_wait(int iterations, const char *arg);

#endif
