/* Lock cost: mproc's process-shared Lock uncontended, and contended by two
 * processes, one run of each figure.
 *
 * Uncontended: one thread acquires and releases in a loop (the goal is
 * under 100 ns a pair). Contended: this process and a child each acquire,
 * add 1 to a counter in shared memory and release, as fast as they can;
 * the figure is the time per pair over both processes, and the counter
 * must come out exact. bench/python/sync_peer.py measures Python's
 * multiprocessing.Lock the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cli.h"
#include "bench_os.h"
#include "mproc.h"

static const char usage[] =
    "Usage: bench_sync_lock [scale]\n"
    "\n"
    "Lock and RLock acquire + release, uncontended (4 M x scale pairs), and a\n"
    "Lock contended by this process and a child (2 M x scale pairs each);\n"
    "default scale 1, one run of each figure. Prints '@ lock.FIGURE mproc\n"
    "VALUE ns' lines for scripts/bench, which runs it several times.\n";

typedef struct job {
  uint64_t count;
} job;

static int hammer(mp_call *call) {
  job j;
  if (mp_call_arg_read(call, &j, sizeof j) != MP_OK) return 1;
  mp_lock *l = mp_call_lock(call, 0);
  volatile uint64_t *counter = mp_shm_ptr(mp_call_shm(call, 1));
  for (uint64_t i = 0; i < j.count; i++) {
    if (mp_lock_acquire(l, MP_FOREVER) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
    *counter = *counter + 1;
    mp_lock_release(l);
  }
  return 0;
}

/* Seconds per acquire + release, one thread, nobody else. */
static double uncontended(int recursive, uint64_t count) {
  mp_lock *l;
  if (mp_lock_create(&l, recursive) != MP_OK) bench_die("mp_lock_create");
  for (int i = 0; i < 1000; i++) { /* warm */
    mp_lock_acquire(l, MP_FOREVER);
    mp_lock_release(l);
  }
  double t0 = bench_now();
  for (uint64_t i = 0; i < count; i++) {
    mp_lock_acquire(l, MP_FOREVER);
    mp_lock_release(l);
  }
  double t = (bench_now() - t0) / (double)count;
  mp_lock_free(l);
  return t;
}

/* Seconds per acquire + release, this process and one child each doing
 * count of them on the same lock. */
static double contended(uint64_t count) {
  mp_lock *l;
  mp_shm *s;
  if (mp_lock_create(&l, 0) != MP_OK || mp_shm_create(&s, sizeof(uint64_t)) != MP_OK) bench_die("create");
  volatile uint64_t *counter = mp_shm_ptr(s);
  mp_object *objs[2] = {mp_lock_obj(l), mp_shm_obj(s)};
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = 2;
  job j = {count};
  mp_process *p;
  if (mp_process_start(&p, "hammer", &j, sizeof j, &o) != MP_OK) bench_die("mp_process_start");
  /* Start timing once the child is in its loop. */
  while (*counter == 0 && mp_process_is_alive(p)) {
  }
  double t0 = bench_now();
  uint64_t at_start = *counter;
  for (uint64_t i = 0; i < count; i++) {
    mp_lock_acquire(l, MP_FOREVER);
    *counter = *counter + 1;
    mp_lock_release(l);
  }
  mp_process_join(p, MP_FOREVER);
  double t = bench_now() - t0;
  mp_result r;
  mp_process_result(p, &r);
  if (r.status != MP_OK) {
    fprintf(stderr, "child failed: %s\n", r.message ? r.message : "?");
    exit(1);
  }
  mp_result_clear(&r);
  mp_process_free(p);
  if (*counter != 2 * count) {
    fprintf(stderr, "counter %llu, expected %llu\n", (unsigned long long)*counter, (unsigned long long)(2 * count));
    exit(1);
  }
  mp_shm_free(s);
  mp_lock_free(l);
  return t / (double)(2 * count - at_start);
}

int main(int argc, char **argv) {
  MP_REGISTER(hammer);
  if (mp_main(argc, argv) != MP_OK) return 1;
  double scale = bench_scale(argc, argv, 1, usage);
  uint64_t fast = (uint64_t)(4e6 * scale), slow = (uint64_t)(2e6 * scale);
  if (fast < 1000) fast = 1000;
  if (slow < 1000) slow = 1000;
  double plain = uncontended(0, fast);
  double rec = uncontended(1, fast);
  double two = contended(slow);
  printf("# lock, processes on this machine, one run of each figure\n");
  printf("mproc lock, uncontended   %8.1f ns per acquire+release (goal < 100 ns)\n", plain * 1e9);
  printf("mproc rlock, uncontended  %8.1f ns per acquire+release\n", rec * 1e9);
  printf("mproc lock, 2 processes   %8.1f ns per acquire+release\n", two * 1e9);
  bench_report("lock.uncontended", "mproc", plain * 1e9, "ns");
  bench_report("rlock.uncontended", "mproc", rec * 1e9, "ns");
  bench_report("lock.contended2", "mproc", two * 1e9, "ns");
  return 0;
}
