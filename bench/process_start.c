/* Process start + join: mproc against the raw OS floor on this machine.
 *
 *   bench_process_start [iterations, default 1000]
 *
 * POSIX floor: fork + waitpid, and fork + exec of this program (which exits
 * at once) + waitpid. Prints one line per figure and the ratios that the
 * goals are stated in (DESIGN.md: within 1.5x of the raw figure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_os.h"
#include "mproc.h"

static int noop(mp_call *call) {
  (void)call;
  return 0;
}

static double per_start(int method, int iterations) {
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.start_method = method;
  double t0 = bench_now();
  for (int i = 0; i < iterations; i++) {
    mp_process *p;
    if (mp_process_start(&p, "noop", NULL, 0, &o) != MP_OK || mp_process_join(p, MP_FOREVER) != MP_OK) {
      fprintf(stderr, "mproc: %s\n", mp_last_error());
      exit(1);
    }
    mp_process_free(p);
  }
  return (bench_now() - t0) / iterations;
}

/* The machine is shared and noisy: interleave the figures in rounds and
 * keep each one's best round, so a burst of load skews none of them. */
enum { ROUNDS = 10 };

static double best(double a, double b) { return a == 0 || b < a ? b : a; }

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--exit-at-once") == 0) return 0; /* the raw exec target */
  MP_REGISTER(noop);
  if (mp_main(argc, argv) != MP_OK) return 1;
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int per_round = n / ROUNDS > 0 ? n / ROUNDS : 1;
  double raw_fork = 0, raw_exec = 0, mp_fork = 0, mp_spawn = 0;
  for (int r = 0; r < ROUNDS; r++) {
    if (bench_have_fork()) {
      raw_fork = best(raw_fork, bench_raw_fork_wait(per_round));
      mp_fork = best(mp_fork, per_start(MP_START_FORK, per_round));
    }
    raw_exec = best(raw_exec, bench_raw_spawn_wait(per_round, "--exit-at-once"));
    mp_spawn = best(mp_spawn, per_start(MP_START_SPAWN, per_round));
  }
  printf("# process start + join: best of %d rounds of %d, microseconds each\n", ROUNDS, per_round);
  if (bench_have_fork()) {
    printf("raw fork+wait           %9.1f us\n", raw_fork * 1e6);
    printf("mproc fork start+join   %9.1f us   ratio %.2f (goal <= 1.5)\n", mp_fork * 1e6, mp_fork / raw_fork);
  }
  printf("raw spawn+wait          %9.1f us\n", raw_exec * 1e6);
  printf("mproc spawn start+join  %9.1f us   ratio %.2f (goal <= 1.5)\n", mp_spawn * 1e6, mp_spawn / raw_exec);
  /* For scripts/bench: "@ figure implementation value unit". */
  if (bench_have_fork()) {
    printf("@ process.start.fork raw %.1f us\n", raw_fork * 1e6);
    printf("@ process.start.fork mproc %.1f us\n", mp_fork * 1e6);
  }
  printf("@ process.start.spawn raw %.1f us\n", raw_exec * 1e6);
  printf("@ process.start.spawn mproc %.1f us\n", mp_spawn * 1e6);
  return 0;
}
