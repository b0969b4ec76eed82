/* Process start + join: mproc against the raw OS floor on this machine.
 *
 * The floor: fork + waitpid, and fork + exec of this program (which exits
 * at once) + waitpid; CreateProcess + wait on Windows. Each figure is the
 * mean over its starts; the goal (docs/architecture.md, "Speed goals") is
 * within 1.5x of the raw figure. The starts are taken in blocks, raw and
 * mproc in turn, so a figure and its floor meet the same moments of the
 * machine and the ratio compares like with like. */
#include <stdio.h>
#include <string.h>

#include "bench_cli.h"
#include "bench_os.h"
#include "mproc.h"

static const char usage[] =
    "Usage: bench_process_start [scale]\n"
    "\n"
    "Process start + join with mproc, fork and spawn, against a raw fork + wait\n"
    "and fork + exec + wait: one run of each figure, 200 x scale starts each\n"
    "(default scale 1). Prints '@ process.start.METHOD IMPL VALUE us' lines\n"
    "for scripts/bench, which runs it several times.\n";

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
    if (mp_process_start(&p, "noop", NULL, 0, &o) != MP_OK || mp_process_join(p, MP_FOREVER) != MP_OK)
      bench_die("mproc");
    mp_process_free(p);
  }
  return (bench_now() - t0) / iterations;
}

/* Seconds per start, mproc's and the floor's, over n starts of each taken
 * in BLOCKS blocks in turn. */
enum { BLOCKS = 10 };
static void interleaved(int method, int n, double *ours, double *raw) {
  int per_block = n / BLOCKS > 0 ? n / BLOCKS : 1;
  double t_ours = 0, t_raw = 0;
  for (int b = 0; b < BLOCKS; b++) {
    t_raw += method == MP_START_FORK ? bench_raw_fork_wait(per_block) : bench_raw_spawn_wait(per_block, "--exit-at-once");
    t_ours += per_start(method, per_block);
  }
  *ours = t_ours / BLOCKS;
  *raw = t_raw / BLOCKS;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--exit-at-once") == 0) return 0; /* the raw exec target */
  MP_REGISTER(noop);
  if (mp_main(argc, argv) != MP_OK) return 1;
  double scale = bench_scale(argc, argv, 1, usage);
  int n = (int)(200 * scale) > BLOCKS ? (int)(200 * scale) : BLOCKS;
  printf("# process start + join, %d starts each, in %d blocks, microseconds\n", n, BLOCKS);
  double ours, raw;
  if (bench_have_fork()) {
    interleaved(MP_START_FORK, n, &ours, &raw);
    printf("raw fork+wait           %9.1f us\n", raw * 1e6);
    printf("mproc fork start+join   %9.1f us   ratio %.2f (goal <= 1.5)\n", ours * 1e6, ours / raw);
    bench_report("process.start.fork", "raw", raw * 1e6, "us");
    bench_report("process.start.fork", "mproc", ours * 1e6, "us");
  }
  interleaved(MP_START_SPAWN, n, &ours, &raw);
  printf("raw spawn+wait          %9.1f us\n", raw * 1e6);
  printf("mproc spawn start+join  %9.1f us   ratio %.2f (goal <= 1.5)\n", ours * 1e6, ours / raw);
  bench_report("process.start.spawn", "raw", raw * 1e6, "us");
  bench_report("process.start.spawn", "mproc", ours * 1e6, "us");
  return 0;
}
