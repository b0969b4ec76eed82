/* Lock cost: mproc's process-shared Lock uncontended, and contended by two
 * processes.
 *
 *   bench_sync_lock [seconds per figure, default 1]
 *
 * Uncontended: one thread acquires and releases in a loop, best of five
 * slices (the goal is under 100 ns a pair). Contended: this process and a child each
 * acquire, add 1 to a counter in shared memory and release, as fast as
 * they can; the figure is the time per pair over both processes, and the
 * counter must come out exact. bench/python/sync_peer.py measures Python's
 * multiprocessing.Lock the same way and prints the ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_os.h"
#include "mproc.h"

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

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, mp_last_error());
  exit(1);
}

/* Seconds per acquire + release, one thread, nobody else. */
static double uncontended(int recursive, uint64_t count) {
  mp_lock *l;
  if (mp_lock_create(&l, recursive) != MP_OK) die("mp_lock_create");
  for (int i = 0; i < 1000; i++) { /* warm */
    mp_lock_acquire(l, MP_FOREVER);
    mp_lock_release(l);
  }
  /* The best of five slices: on a shared machine, another process taking
   * the CPU in the middle of a slice is noise, not the lock's cost. */
  double best = 1e9;
  for (int slice = 0; slice < 5; slice++) {
    double t0 = bench_now();
    for (uint64_t i = 0; i < count / 5; i++) {
      mp_lock_acquire(l, MP_FOREVER);
      mp_lock_release(l);
    }
    double t = (bench_now() - t0) / (double)(count / 5);
    if (t < best) best = t;
  }
  mp_lock_free(l);
  return best;
}

/* Seconds per acquire + release, this process and one child each doing
 * count of them on the same lock. */
static double contended(uint64_t count) {
  mp_lock *l;
  mp_shm *s;
  if (mp_lock_create(&l, 0) != MP_OK || mp_shm_create(&s, sizeof(uint64_t)) != MP_OK) die("create");
  volatile uint64_t *counter = mp_shm_ptr(s);
  mp_object *objs[2] = {mp_lock_obj(l), mp_shm_obj(s)};
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = 2;
  job j = {count};
  mp_process *p;
  if (mp_process_start(&p, "hammer", &j, sizeof j, &o) != MP_OK) die("mp_process_start");
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
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  if (secs <= 0) secs = 1;
  uint64_t fast = (uint64_t)(2e7 * secs), slow = (uint64_t)(2e6 * secs);
  double plain = uncontended(0, fast);
  double rec = uncontended(1, fast);
  double two = contended(slow);
  printf("# lock, processes on this machine\n");
  printf("mproc lock, uncontended   %8.1f ns per acquire+release (goal < 100 ns)\n", plain * 1e9);
  printf("mproc rlock, uncontended  %8.1f ns per acquire+release\n", rec * 1e9);
  printf("mproc lock, 2 processes   %8.1f ns per acquire+release\n", two * 1e9);
  printf("@ lock.uncontended mproc %.1f ns\n", plain * 1e9);
  printf("@ rlock.uncontended mproc %.1f ns\n", rec * 1e9);
  printf("@ lock.contended2 mproc %.1f ns\n", two * 1e9);
  return 0;
}
