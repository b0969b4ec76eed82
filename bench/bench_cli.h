/* What every benchmark program shares: its command line and its way out.
 *
 *   bench_X [scale]     scale > 0, default 1: how much work each figure
 *                       does in this run (0.1 for a quick look)
 *   bench_X --help      the usage, and exit 0 without running
 *
 * A program prints one sample of each of its figures per run, in lines
 * "@ figure implementation value unit" (implementation: mproc, python or
 * raw, or a peer's name) among its human ones: scripts/bench
 * (bench/report.py) runs it several times and reports the median and
 * spread of each figure. */
#ifndef MPROC_BENCH_CLI_H
#define MPROC_BENCH_CLI_H

/* The scale argv[1] gives (1 if none); with -h or --help anywhere, prints
 * usage and exits 0; with anything else that is not a positive number in
 * argv[1], or more than max_args arguments, prints usage to stderr and
 * exits 2. Call it after mp_main (spawned children never get here). */
double bench_scale(int argc, char **argv, int max_args, const char *usage);

/* Prints "what: mp_last_error()" and exits 1. */
_Noreturn void bench_die(const char *what);

/* The "@ figure implementation value unit" line scripts/bench reads. */
void bench_report(const char *figure, const char *impl, double value, const char *unit);

/* A figure this machine cannot give, and why (a sentence, no newline): the
 * line "@ figure implementation none why", which the report prints in the
 * figure's place. Not for failures: those exit non-zero. */
void bench_report_none(const char *figure, const char *impl, const char *why);

#endif
