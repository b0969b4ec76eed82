/* Pool: the figures of DESIGN.md's speed table, on this machine.
 *
 *   bench_pool [scale, default 1]
 *
 * apply round trip of a no-op; map of 200k 8-byte items with the default
 * chunks; map with chunksize 1; create + first map + free with 2 workers
 * (fork where there is one, and spawn); the speed-up of a CPU-bound map on
 * 2 workers over 1. bench/python/pool_peer.py prints Python's figures in
 * the same shape; scripts/bench puts them side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_os.h"
#include "mproc.h"

static int noop(mp_call *call) {
  (void)call;
  return 0;
}

static int square(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return 1;
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

/* About a millisecond of arithmetic the compiler cannot skip. */
static int burn(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return 1;
  uint64_t h = (uint64_t)x;
  for (int i = 0; i < 400000; i++) h = h * 6364136223846793005ull + 1442695040888963407ull;
  return mp_call_return(call, &h, sizeof h);
}

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, mp_last_error());
  exit(1);
}

static mp_pool *pool_of(int workers, int method) {
  mp_pool *p;
  mp_pool_options o;
  memset(&o, 0, sizeof o);
  o.workers = workers;
  o.start_method = method;
  if (mp_pool_create(&p, &o) != MP_OK) die("mp_pool_create");
  return p;
}

static double apply_round_trip(mp_pool *p, int n) {
  int64_t x = 1;
  mp_result r;
  double t0 = bench_now();
  for (int i = 0; i < n; i++) {
    if (mp_pool_apply(p, "noop", &x, sizeof x, &r) != MP_OK) die("apply");
    mp_result_clear(&r);
  }
  return (bench_now() - t0) / n;
}

static double map_rate(mp_pool *p, const char *task, size_t n, size_t chunksize) {
  int64_t *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  for (size_t i = 0; i < n; i++) in[i] = (int64_t)i;
  mp_map_options mo;
  memset(&mo, 0, sizeof mo);
  mo.chunksize = chunksize;
  double t0 = bench_now();
  if (mp_pool_map(p, task, in, sizeof *in, n, out, sizeof *out, &mo) != MP_OK) die("map");
  double t = bench_now() - t0;
  free(in);
  free(out);
  return (double)n / t;
}

static double create_map_free(int method) {
  int64_t in[4] = {1, 2, 3, 4}, out[4];
  double t0 = bench_now();
  mp_pool *p = pool_of(2, method);
  if (mp_pool_map(p, "square", in, sizeof *in, 4, out, sizeof *out, NULL) != MP_OK) die("map");
  mp_pool_free(p);
  return bench_now() - t0;
}

static double best(double a, double b) { return a == 0 || b < a ? b : a; }
static double most(double a, double b) { return b > a ? b : a; }

int main(int argc, char **argv) {
  MP_REGISTER(noop);
  MP_REGISTER(square);
  MP_REGISTER(burn);
  if (mp_main(argc, argv) != MP_OK) return 1;
  double scale = argc > 1 ? atof(argv[1]) : 1.0;
  if (scale <= 0) scale = 1;
  int rounds = 5;
  double rt = 0, map_default = 0, map_one = 0, cmf_fork = 0, cmf_spawn = 0, speedup = 0;
  mp_pool *p = pool_of(2, MP_START_DEFAULT);
  apply_round_trip(p, 200); /* warm */
  for (int r = 0; r < rounds; r++) {
    rt = best(rt, apply_round_trip(p, (int)(4000 * scale)));
    map_default = most(map_default, map_rate(p, "square", 200000, 0));
    map_one = most(map_one, map_rate(p, "square", (size_t)(20000 * scale), 1));
    if (bench_have_fork()) cmf_fork = best(cmf_fork, create_map_free(MP_START_FORK));
    cmf_spawn = best(cmf_spawn, create_map_free(MP_START_SPAWN));
  }
  mp_pool_free(p);
  double pingpong = 0;
  for (int r = 0; r < rounds; r++) pingpong = best(pingpong, bench_raw_pingpong((int)(4000 * scale)));
  /* Speed-up of a CPU-bound map against 1 worker, for 1, 2 and 4 workers
   * (on a 2-CPU machine, 2 is the most there is to gain). */
  static const int counts[] = {1, 2, 4};
  double took[3] = {0, 0, 0};
  size_t n = (size_t)(400 * scale);
  for (int r = 0; r < 3; r++) {
    for (int k = 0; k < 3; k++) {
      mp_pool *w = pool_of(counts[k], MP_START_DEFAULT);
      took[k] = best(took[k], 1.0 / map_rate(w, "burn", n, 0));
      mp_pool_free(w);
    }
  }
  speedup = took[0] / took[1];
  printf("# pool, 2 workers, best of %d rounds, on this machine (%d CPUs)\n", rounds, mp_cpu_count());
  printf("raw pipe ping-pong                   %10.1f us\n", pingpong * 1e6);
  printf("apply round trip (no-op)             %10.1f us   (goal <= 25 us)\n", rt * 1e6);
  printf("map 200k 8-byte items, default chunks%10.2f M items/s (goal >= 20 M)\n", map_default / 1e6);
  printf("map chunksize 1                      %10.1f k tasks/s (goal >= 200 k)\n", map_one / 1e3);
  if (bench_have_fork()) printf("create + first map + free, fork      %10.2f ms   (goal <= 2 ms)\n", cmf_fork * 1e3);
  printf("create + first map + free, spawn     %10.2f ms   (goal <= 5 ms)\n", cmf_spawn * 1e3);
  printf("CPU-bound map speed-up, 2 workers    %10.2f x    (goal >= 1.9 x)\n", speedup);
  printf("@ pool.apply_rt raw %.1f us\n", pingpong * 1e6);
  printf("@ pool.apply_rt mproc %.1f us\n", rt * 1e6);
  printf("@ pool.map_default mproc %.3f M/s\n", map_default / 1e6);
  printf("@ pool.map_chunk1 mproc %.1f k/s\n", map_one / 1e3);
  if (bench_have_fork()) printf("@ pool.create_map_free.fork mproc %.2f ms\n", cmf_fork * 1e3);
  printf("@ pool.create_map_free.spawn mproc %.2f ms\n", cmf_spawn * 1e3);
  printf("@ pool.speedup.2 raw 2.00 x\n");
  for (int k = 0; k < 3; k++) printf("@ pool.speedup.%d mproc %.2f x\n", counts[k], took[0] / took[k]);
  return 0;
}
