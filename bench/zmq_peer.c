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

/* A message that takes longer than this to come or go is a hang, as is a
 * producer still running after the watchdog: the run fails and says so. */
#define PEER_WAIT_MS 20000
#define PEER_WATCHDOG_SECONDS 120

/* The producer. It makes its own context after the fork (a ZeroMQ context
 * must not cross one) and connects once the consumer says it has bound (a
 * connect before that would wait out ZeroMQ's reconnect interval, and the
 * figure would measure it). It closes only once the consumer has every
 * message (or gave up): libzmq's ipc:// can drop the last messages of a
 * socket closed with them still in flight, LINGER or not (libzmq issues
 * 1922 and 4660), and the consumer then waited for them forever. A send
 * that waits past the deadline, or a whole run past the alarm, fails the
 * run instead of hanging it. */
static void push(int from_consumer, const char *endpoint, uint64_t count, size_t size) {
  alarm(PEER_WATCHDOG_SECONDS);
  char go;
  if (read(from_consumer, &go, 1) != 1) _exit(1);
  void *ctx = zmq_ctx_new(), *s = ctx ? zmq_socket(ctx, ZMQ_PUSH) : NULL;
  char *buf = calloc(1, size);
  int wait_ms = PEER_WAIT_MS;
  if (!s || !buf || zmq_setsockopt(s, ZMQ_SNDTIMEO, &wait_ms, sizeof wait_ms) != 0 ||
      zmq_connect(s, endpoint) != 0)
    _exit(1);
  for (uint64_t i = 0; i < count; i++)
    if (zmq_send(s, buf, size, 0) != (int)size) _exit(1);
  char done;
  if (read(from_consumer, &done, 1) < 0) _exit(1); /* the consumer's byte, or EOF: it is done */
  zmq_close(s);
  zmq_ctx_term(ctx);
  _exit(0);
}

/* Messages per second, or 0 on failure (said on stderr). */
static double one_round(uint64_t count, size_t size) {
  char endpoint[128];
  snprintf(endpoint, sizeof endpoint, "ipc:///tmp/mproc-bench-zmq-%ld", (long)getpid());
  char *buf = malloc(size);
  if (!buf) return 0;
  int to_producer[2];
  if (pipe(to_producer) != 0) {
    perror("pipe");
    free(buf);
    return 0;
  }
  double t0 = bench_now();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    free(buf);
    return 0;
  }
  if (pid == 0) {
    close(to_producer[1]);
    push(to_producer[0], endpoint, count, size);
  }
  close(to_producer[0]);
  void *ctx = zmq_ctx_new(), *s = ctx ? zmq_socket(ctx, ZMQ_PULL) : NULL;
  int wait_ms = PEER_WAIT_MS;
  int bound = s && zmq_setsockopt(s, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms) == 0 &&
              zmq_bind(s, endpoint) == 0;
  if (!bound) fprintf(stderr, "zmq PULL socket on %s: %s\n", endpoint, zmq_strerror(errno));
  /* The producer goes on only if the socket is bound; else it reads EOF. */
  if (bound && write(to_producer[1], "g", 1) != 1) bound = 0;
  uint64_t got = 0;
  int recv_errno = 0;
  for (; bound && got < count; got++)
    if (zmq_recv(s, buf, size, 0) != (int)size) {
      recv_errno = errno;
      break;
    }
  double t = bench_now() - t0;
  close(to_producer[1]); /* the producer may close its socket now */
  int status = 0;
  if (got < count) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  if (s) zmq_close(s);
  if (ctx) zmq_ctx_term(ctx);
  unlink(endpoint + strlen("ipc://"));
  free(buf);
  if (got < count || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%zu-byte messages: %llu of %llu received after %.1f s (%s); the producer %s %d\n", size,
            (unsigned long long)got, (unsigned long long)count, t, recv_errno ? zmq_strerror(recv_errno) : "",
            WIFEXITED(status) ? "exited" : "was killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
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
