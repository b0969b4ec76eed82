/* Pool: the pool's figures of docs/architecture.md's speed goals, on this
 * machine, one run of each.
 *
 * Every figure is a row of the table `figures` below: a function that
 * takes one sample and returns it in the row's unit. Adding a figure is
 * writing that function and adding its row (and, for the report, a row of
 * ROWS in bench/report.py); main() prints each row's human line and its
 * "@ pool.NAME IMPL VALUE UNIT" line. bench/python/pool_peer.py takes
 * Python's figures the same way, and scripts/bench sets them side by
 * side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cli.h"
#include "bench_os.h"
#include "mproc.h"

static const char usage[] =
    "Usage: bench_pool [scale]\n"
    "\n"
    "Pool figures, one run of each: a no-op apply round trip (and a raw pipe\n"
    "ping-pong), maps of 8-byte items with the default chunks and chunksize 1,\n"
    "create + first map + free by fork and by spawn, and a CPU-bound map's\n"
    "speed-up with 1 to 8 workers. scale (default 1) multiplies the work of\n"
    "each. Prints '@ pool.FIGURE IMPL VALUE UNIT' lines for scripts/bench,\n"
    "which runs it several times.\n";

/* ---------------------------------------------------------------- tasks */
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

/* ------------------------------------------------------------- helpers */
/* What every figure may use: a warm pool of 2 workers, and the scale. */
typedef struct bench_ctx {
  mp_pool *two;
  double scale;
  double one_worker_burn; /* seconds of the CPU-bound map on 1 worker; 0 until taken */
  double pingpong_us;     /* the raw ping-pong, taken with the apply round trip */
} bench_ctx;

static mp_pool *pool_of(int workers, int method) {
  mp_pool *p;
  mp_pool_options o;
  memset(&o, 0, sizeof o);
  o.workers = workers;
  o.start_method = method;
  if (mp_pool_create(&p, &o) != MP_OK) bench_die("mp_pool_create");
  return p;
}

static size_t scaled(const bench_ctx *c, double n) {
  double v = n * c->scale;
  return v < 1 ? 1 : (size_t)v;
}

/* Seconds for maps of n int64 items with this chunk size (0: default),
 * `times` of them in a row over the same buffers. */
static double maps_seconds(mp_pool *p, const char *task, size_t n, size_t chunksize, int times) {
  int64_t *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  if (!in || !out) bench_die("malloc");
  for (size_t i = 0; i < n; i++) in[i] = (int64_t)i;
  mp_map_options mo;
  memset(&mo, 0, sizeof mo);
  mo.chunksize = chunksize;
  double t0 = bench_now();
  for (int i = 0; i < times; i++)
    if (mp_pool_map(p, task, in, sizeof *in, n, out, sizeof *out, &mo) != MP_OK) bench_die("mp_pool_map");
  double t = bench_now() - t0;
  free(in);
  free(out);
  return t;
}

/* The CPU-bound map: 400 items of about a millisecond each, x scale. */
static double burn_seconds(const bench_ctx *c, int workers) {
  mp_pool *w = pool_of(workers, MP_START_DEFAULT);
  double t = maps_seconds(w, "burn", scaled(c, 400), 0, 1);
  mp_pool_free(w);
  return t;
}

/* -------------------------------------------------------------- figures */
/* Microseconds per no-op apply, over 4000 x scale of them taken in blocks
 * in turn with as many round trips of a raw pipe ping-pong (kept in
 * c->pingpong_us), so a figure and its floor meet the same moments. */
static double apply_round_trip_us(bench_ctx *c, int arg) {
  (void)arg;
  enum { BLOCKS = 10 };
  int n = (int)scaled(c, 4000) / BLOCKS + 1;
  int64_t x = 1;
  mp_result r;
  double ours = 0, raw = 0;
  for (int b = 0; b < BLOCKS; b++) {
    raw += bench_raw_pingpong(n);
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
      if (mp_pool_apply(c->two, "noop", &x, sizeof x, &r) != MP_OK) bench_die("mp_pool_apply");
      mp_result_clear(&r);
    }
    ours += (bench_now() - t0) / n;
  }
  c->pingpong_us = raw / BLOCKS * 1e6;
  return ours / BLOCKS * 1e6;
}

static double raw_pingpong_us(bench_ctx *c, int arg) {
  if (c->pingpong_us == 0) apply_round_trip_us(c, arg);
  return c->pingpong_us;
}

/* arg: the chunk size (0: the pool's default); items: 200k, or 100k x
 * scale with chunksize 1 (a tenth of a second at the goal of 1 M tasks/s).
 * Millions of items a second, or thousands. */
/* The default-chunk figure is five maps of 200k in a row: one map is only
 * a few milliseconds, which a single wake-up late on a shared machine
 * halves; the Python peer measures the same five. */
static double map_rate(bench_ctx *c, int arg) {
  size_t n = arg == 0 ? 200000 : scaled(c, 100000);
  int times = arg == 0 ? 5 : 1;
  double per_second = (double)n * times / maps_seconds(c->two, "square", n, (size_t)arg, times);
  return arg == 0 ? per_second / 1e6 : per_second / 1e3;
}

/* arg: the start method. The mean of twenty, in milliseconds: one pool's
 * life is short enough that a handful of them measures the machine's other
 * work more than the pool. */
static double create_map_free_ms(bench_ctx *c, int arg) {
  int n = (int)scaled(c, 20);
  int64_t in[4] = {1, 2, 3, 4}, out[4];
  double t0 = bench_now();
  for (int i = 0; i < n; i++) {
    mp_pool *p = pool_of(2, arg);
    if (mp_pool_map(p, "square", in, sizeof *in, 4, out, sizeof *out, NULL) != MP_OK) bench_die("mp_pool_map");
    mp_pool_free(p);
  }
  return (bench_now() - t0) / n * 1e3;
}

/* arg: workers. The CPU-bound map's speed-up over 1 worker. */
static double speedup(bench_ctx *c, int arg) {
  if (c->one_worker_burn == 0) c->one_worker_burn = burn_seconds(c, 1);
  return arg == 1 ? 1.0 : c->one_worker_burn / burn_seconds(c, arg);
}

/* arg: workers. What the machine allows: one worker per CPU. */
static double ideal_speedup(bench_ctx *c, int arg) {
  (void)c;
  int cpus = mp_cpu_count();
  return arg < cpus ? arg : cpus;
}

/* ---------------------------------------------------------- the table */
typedef struct figure {
  const char *name; /* the figure: "@ pool.NAME ..." */
  const char *impl; /* mproc, or raw for the floor it is compared with */
  const char *unit; /* the value's, as printed */
  const char *what; /* the human line */
  const char *goal; /* "" or the goal, as docs/architecture.md states it */
  double (*measure)(bench_ctx *c, int arg);
  int arg;         /* what measure takes: a chunk size, a start method, workers */
  int needs_fork;  /* only where there is a fork start method */
} figure;

static const figure figures[] = {
    {"apply_rt", "mproc", "us", "apply round trip (no-op)", "goal <= 8 us", apply_round_trip_us, 0, 0},
    {"apply_rt", "raw", "us", "raw pipe ping-pong (taken with it)", "", raw_pingpong_us, 0, 0},
    {"map_default", "mproc", "M/s", "map 200k 8-byte items, default chunks (5 maps)", "goal >= 30 M/s", map_rate, 0, 0},
    {"map_chunk1", "mproc", "k/s", "map chunksize 1", "goal >= 1 M/s (1000 k/s)", map_rate, 1, 0},
    {"create_map_free.fork", "mproc", "ms", "create + first map + free, fork", "goal <= 2 ms", create_map_free_ms,
     MP_START_FORK, 1},
    {"create_map_free.spawn", "mproc", "ms", "create + first map + free, spawn", "goal <= 5 ms", create_map_free_ms,
     MP_START_SPAWN, 0},
    {"speedup.1", "mproc", "x", "CPU-bound map speed-up, 1 worker", "", speedup, 1, 0},
    {"speedup.2", "mproc", "x", "CPU-bound map speed-up, 2 workers", "goal >= 0.97 x ideal: 1.94 x on 2 CPUs", speedup,
     2, 0},
    {"speedup.3", "mproc", "x", "CPU-bound map speed-up, 3 workers", "", speedup, 3, 0},
    {"speedup.4", "mproc", "x", "CPU-bound map speed-up, 4 workers", "", speedup, 4, 0},
    {"speedup.5", "mproc", "x", "CPU-bound map speed-up, 5 workers", "", speedup, 5, 0},
    {"speedup.6", "mproc", "x", "CPU-bound map speed-up, 6 workers", "", speedup, 6, 0},
    {"speedup.7", "mproc", "x", "CPU-bound map speed-up, 7 workers", "", speedup, 7, 0},
    {"speedup.8", "mproc", "x", "CPU-bound map speed-up, 8 workers", "", speedup, 8, 0},
    {"speedup.2", "raw", "x", "ideal speed-up, 2 workers", "", ideal_speedup, 2, 0},
};

int main(int argc, char **argv) {
  MP_REGISTER(noop);
  MP_REGISTER(square);
  MP_REGISTER(burn);
  if (mp_main(argc, argv) != MP_OK) return 1;
  bench_ctx c = {NULL, bench_scale(argc, argv, 1, usage), 0, 0};
  c.two = pool_of(2, MP_START_DEFAULT);
  mp_result warm;
  for (int i = 0; i < 200; i++) { /* the workers' first tasks, and the caches */
    if (mp_pool_apply(c.two, "noop", NULL, 0, &warm) != MP_OK) bench_die("mp_pool_apply");
    mp_result_clear(&warm);
  }
  printf("# pool, one run of each figure, on this machine (%d CPUs)\n", mp_cpu_count());
  for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
    const figure *f = &figures[i];
    if (f->needs_fork && !bench_have_fork()) continue;
    double v = f->measure(&c, f->arg);
    printf("%-40s %10.2f %-4s %s\n", f->what, v, f->unit, f->goal);
    char name[64];
    snprintf(name, sizeof name, "pool.%s", f->name);
    bench_report(name, f->impl, v, f->unit);
  }
  mp_pool_free(c.two);
  return 0;
}
