/* ZeroMQ PUSH/PULL over ipc://, 1 producer process -> this process, at the
 * sizes bench_queue_throughput compares (bench/peer_common.h), one sample
 * of each per run.
 *
 * Built only where libzmq is found (Debian: libzmq3-dev). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bench_os.h"
#include "peer_common.h"

static const char usage[] =
    "Usage: bench_zmq_peer [scale]\n"
    "\n"
    "ZeroMQ PUSH/PULL over ipc://, 1 producer process -> this process, with\n"
    "64-byte and 1 MiB messages: a peer of bench_queue_throughput's 1 -> 1\n"
    "figures. Each figure moves about scale x 0.25 s of messages (default\n"
    "scale 1). Prints '@ queue.FIGURE zmq VALUE msg/s' lines for scripts/bench,\n"
    "which runs it several times.\n";

/* Messages a second at each peer size on the development VM. */
static const double rates[PEER_SIZES] = {3e6, 3e3};

static void push(const char *endpoint, uint64_t count, size_t size) {
  void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_PUSH);
  char *buf = calloc(1, size);
  if (!ctx || !s || !buf || zmq_connect(s, endpoint) != 0) _exit(1);
  for (uint64_t i = 0; i < count; i++)
    if (zmq_send(s, buf, size, 0) != (int)size) _exit(1);
  int linger = -1; /* deliver everything before closing */
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(s);
  zmq_ctx_term(ctx);
  _exit(0);
}

/* Messages per second, or 0 on failure (said on stderr). */
static double one_round(uint64_t count, size_t size) {
  char endpoint[128];
  snprintf(endpoint, sizeof endpoint, "ipc:///tmp/mproc-bench-zmq-%ld", (long)getpid());
  void *ctx = zmq_ctx_new(), *s = ctx ? zmq_socket(ctx, ZMQ_PULL) : NULL;
  char *buf = malloc(size);
  if (!ctx || !s || !buf || zmq_bind(s, endpoint) != 0) {
    fprintf(stderr, "zmq PULL socket on %s: %s\n", endpoint, zmq_strerror(errno));
    return 0;
  }
  double t0 = bench_now();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 0;
  }
  if (pid == 0) push(endpoint, count, size);
  uint64_t got = 0;
  for (; got < count; got++)
    if (zmq_recv(s, buf, size, 0) != (int)size) break;
  double t = bench_now() - t0;
  int status = 0;
  if (got < count) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  zmq_close(s);
  zmq_ctx_term(ctx);
  unlink(endpoint + strlen("ipc://"));
  free(buf);
  if (got < count || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%zu-byte messages: %llu of %llu received\n", size, (unsigned long long)got,
            (unsigned long long)count);
    return 0;
  }
  return (double)count / t;
}

int main(int argc, char **argv) {
  double scale = bench_scale(argc, argv, 1, usage);
  int major, minor, patch;
  zmq_version(&major, &minor, &patch);
  printf("# ZeroMQ %d.%d.%d PUSH/PULL over ipc://, 1 producer process -> this process\n", major, minor, patch);
  int rc = 0;
  for (int i = 0; i < PEER_SIZES; i++) {
    double v = one_round(peer_messages(rates[i], scale), (size_t)peer_sizes[i]);
    if (v > 0)
      peer_report("zmq", peer_sizes[i], v);
    else
      rc = 1;
  }
  return rc;
}
