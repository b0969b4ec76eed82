/* POSIX message queues (mq_open), 1 producer process -> this process, at
 * the sizes bench_queue_throughput compares (bench/peer_common.h), one
 * sample of each per run.
 *
 * A 1 MiB message is over Linux's default msgsize_max (8 KiB) and
 * RLIMIT_MSGQUEUE (800 KiB): only a process with CAP_SYS_RESOURCE may go
 * past them, which this program then does; otherwise it says, in the
 * figure's place, which limit stopped it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_os.h"
#include "peer_common.h"

static const char usage[] =
    "Usage: bench_posix_mq_peer [scale]\n"
    "\n"
    "POSIX message queues (mq_open), 1 producer process -> this process, with\n"
    "64-byte and 1 MiB messages: a peer of bench_queue_throughput's 1 -> 1\n"
    "figures. Each figure moves about scale x 0.25 s of messages (default\n"
    "scale 1). 1 MiB messages need CAP_SYS_RESOURCE (they are over Linux's\n"
    "msgsize_max and RLIMIT_MSGQUEUE); without it the program says so in that\n"
    "figure's place. Prints '@ queue.FIGURE posix_mq VALUE msg/s' lines for\n"
    "scripts/bench, which runs it several times.\n";

/* Messages a second at each peer size on the development VM. */
static const double rates[PEER_SIZES] = {8e5, 1e3};
enum { MAXMSG = 10 }; /* Linux's default msg_max, which everyone may use */

static long read_long(const char *path) {
  FILE *f = fopen(path, "r");
  long v = -1;
  if (f) {
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

/* Why mq_open refused a queue of size-byte messages: a sentence for the
 * report when a limit of the machine's did, NULL for anything else. */
static const char *limit_refusal(int err, size_t size, char *why, size_t len) {
  long max = read_long("/proc/sys/fs/mqueue/msgsize_max");
  struct rlimit rl;
  if (err == EINVAL && max > 0 && (long)size > max) {
    snprintf(why, len, "a %zu-byte message is over /proc/sys/fs/mqueue/msgsize_max (%ld bytes)%s", size, max,
             ", which only CAP_SYS_RESOURCE passes");
    return why;
  }
  if (err == EMFILE && getrlimit(RLIMIT_MSGQUEUE, &rl) == 0) {
    snprintf(why, len, "%d messages of %zu bytes are over RLIMIT_MSGQUEUE (%llu bytes)%s", MAXMSG, size,
             (unsigned long long)rl.rlim_cur, ", which only CAP_SYS_RESOURCE raises");
    return why;
  }
  return NULL;
}

/* Messages a second; 0 with *why set when a limit refused the queue; -1
 * on any other failure. */
static double one_round(uint64_t count, size_t size, char *why, size_t why_len) {
  char name[64];
  snprintf(name, sizeof name, "/mproc-bench-mq-%ld", (long)getpid());
  struct mq_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.mq_maxmsg = MAXMSG;
  attr.mq_msgsize = (long)size;
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  if (q == (mqd_t)-1) {
    int err = errno;
    if (limit_refusal(err, size, why, why_len)) return 0;
    fprintf(stderr, "mq_open (%zu-byte messages): %s\n", size, strerror(err));
    return -1;
  }
  mq_unlink(name); /* nothing left behind; the child has the descriptor */
  char *buf = calloc(1, size);
  if (!buf) {
    mq_close(q);
    return -1;
  }
  double t0 = bench_now();
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    mq_close(q);
    free(buf);
    return -1;
  }
  if (pid == 0) {
    for (uint64_t i = 0; i < count; i++)
      if (mq_send(q, buf, size, 0) != 0) _exit(1);
    _exit(0);
  }
  uint64_t got = 0;
  for (; got < count; got++)
    if (mq_receive(q, buf, size, NULL) != (ssize_t)size) break;
  double t = bench_now() - t0;
  int status = 0;
  if (got < count) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  mq_close(q);
  free(buf);
  if (got < count || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "%zu-byte messages: %llu of %llu received\n", size, (unsigned long long)got,
            (unsigned long long)count);
    return -1;
  }
  return (double)count / t;
}

int main(int argc, char **argv) {
  double scale = bench_scale(argc, argv, 1, usage);
  /* Past RLIMIT_MSGQUEUE where this process may (CAP_SYS_RESOURCE), else
   * up to the hard limit. */
  struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MSGQUEUE, &rl) != 0 && getrlimit(RLIMIT_MSGQUEUE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_MSGQUEUE, &rl);
  }
  printf("# POSIX message queues, 1 producer process -> this process\n");
  int rc = 0;
  for (int i = 0; i < PEER_SIZES; i++) {
    char why[256];
    double v = one_round(peer_messages(rates[i], scale), (size_t)peer_sizes[i], why, sizeof why);
    if (v > 0)
      peer_report("posix_mq", peer_sizes[i], v);
    else if (v == 0)
      peer_report_none("posix_mq", peer_sizes[i], why);
    else
      rc = 1;
  }
  return rc;
}
