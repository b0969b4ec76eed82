/* Queue throughput: mproc against a raw pipe on this machine, one run of
 * each figure.
 *
 * 1 producer process -> 1 consumer (this process) for messages of 64 B to
 * 1 MiB, and 4 producer processes -> 4 consumer processes for 64-byte
 * messages. The raw-pipe figure moves the same messages through one pipe
 * with one write and one read each, no framing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cli.h"
#include "bench_os.h"
#include "mproc.h"

static const char usage[] =
    "Usage: bench_queue_throughput [scale]\n"
    "\n"
    "Queue throughput, one run of each figure: 1 producer process -> this\n"
    "process for messages of 64 B, 1 KiB, 16 KiB, 256 KiB and 1 MiB, against a\n"
    "raw pipe; then 4 -> 4 processes with 64-byte messages. Each figure moves\n"
    "about scale x 0.25 s of messages (default scale 1). Prints\n"
    "'@ queue.FIGURE IMPL VALUE msg/s' lines for scripts/bench, which runs it\n"
    "several times.\n";

typedef struct job {
  uint64_t count;
  uint64_t size;
} job;

static int produce(mp_call *call) {
  job j;
  if (mp_call_arg_read(call, &j, sizeof j) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  char *buf = calloc(1, j.size);
  for (uint64_t i = 0; i < j.count; i++)
    if (mp_queue_put(q, buf, j.size, MP_FOREVER) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  free(buf);
  return 0;
}

static int consume(mp_call *call) {
  job j;
  if (mp_call_arg_read(call, &j, sizeof j) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  char *buf = malloc(j.size);
  size_t len;
  for (uint64_t i = 0; i < j.count; i++)
    if (mp_queue_get_into(q, buf, j.size, &len, MP_FOREVER) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  free(buf);
  return 0;
}

static mp_process *start(const char *task, mp_queue *q, const job *j) {
  mp_object *objs[1] = {mp_queue_obj(q)};
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = 1;
  mp_process *p;
  if (mp_process_start(&p, task, j, sizeof *j, &o) != MP_OK) bench_die("mp_process_start");
  return p;
}

static void finish(mp_process *p) {
  mp_result r;
  mp_process_join(p, MP_FOREVER);
  mp_process_result(p, &r);
  if (r.status != MP_OK) {
    fprintf(stderr, "worker failed: %s\n", r.message ? r.message : "?");
    exit(1);
  }
  mp_result_clear(&r);
  mp_process_free(p);
}

/* Messages per second, producers -> consumers processes (consumers == 0:
 * this process consumes). */
static double run(int producers, int consumers, uint64_t count, uint64_t size) {
  mp_queue *q;
  mp_queue_options o = {0, 0};
  o.maxsize = size >= 65536 ? 64 : 10000; /* bounded, as a real pipeline is */
  if (mp_queue_create(&q, &o) != MP_OK) bench_die("mp_queue_create");
  mp_process *ps[8], *cs[8];
  job pj = {count / (uint64_t)producers, size};
  job cj = {count / (uint64_t)(consumers ? consumers : 1), size};
  double t0 = bench_now();
  for (int i = 0; i < producers; i++) ps[i] = start("produce", q, &pj);
  for (int i = 0; i < consumers; i++) cs[i] = start("consume", q, &cj);
  if (consumers == 0) {
    char *buf = malloc(size);
    size_t len;
    for (uint64_t i = 0; i < pj.count * (uint64_t)producers; i++) mp_queue_get_into(q, buf, size, &len, MP_FOREVER);
    free(buf);
  }
  for (int i = 0; i < consumers; i++) finish(cs[i]);
  double t = bench_now() - t0;
  for (int i = 0; i < producers; i++) finish(ps[i]);
  mp_queue_free(q);
  return (double)(pj.count * (uint64_t)producers) / t;
}

/* Message sizes for the throughput-against-size plot. */
static const uint64_t sizes[] = {64, 1024, 16384, 262144, 1048576};

static uint64_t messages_for(uint64_t size, double scale) {
  /* Rough sizing: a quarter of a second per figure at the rates seen here. */
  double per_sec = size <= 1024 ? 8e6 : 6e9 / (double)size;
  uint64_t n = (uint64_t)(per_sec * 0.25 * scale);
  return n < 200 ? 200 : n;
}

int main(int argc, char **argv) {
  MP_REGISTER(produce);
  MP_REGISTER(consume);
  if (mp_main(argc, argv) != MP_OK) return 1;
  double scale = bench_scale(argc, argv, 1, usage);
  printf("# queue throughput, 1 producer process -> this process, then 4 -> 4 processes\n");
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    uint64_t size = sizes[i], n = messages_for(size, scale);
    double pipe = bench_raw_pipe_rate(n / 4 + 1, (size_t)size);
    double q = run(1, 0, n, size);
    printf("%8llu B: raw pipe %10.0f msg/s %7.3f GiB/s | mproc queue %10.0f msg/s %7.3f GiB/s  ratio %.2f\n",
           (unsigned long long)size, pipe, pipe * (double)size / 1073741824.0, q, q * (double)size / 1073741824.0,
           q / pipe);
    char name[48];
    snprintf(name, sizeof name, "queue.1to1.%lluB", (unsigned long long)size);
    bench_report(name, "raw", pipe, "msg/s");
    bench_report(name, "mproc", q, "msg/s");
  }
  double q_4x4 = run(4, 4, messages_for(64, scale), 64);
  printf("mproc queue, 64 B, 4->4 %10.0f msg/s\n", q_4x4);
  bench_report("queue.4to4.64B", "mproc", q_4x4, "msg/s");
  printf("# goals: >= 2 M msg/s at 64 B, >= 3 GiB/s at 1 MiB; at both, >= MPI's and >= 3x ZeroMQ's\n"
         "# (bench_mpi_peer, bench_zmq_peer: scripts/bench runs them in the same runs)\n");
  return 0;
}
