/* A counter in shared memory, guarded by a Lock: four processes each add
 * 1 to it 100 000 times, and the total is exactly 400 000.
 *
 * Python's version would be multiprocessing.Value('q', 0) and
 * multiprocessing.Lock(): here the memory and the lock are two objects,
 * both listed in each process's options so the child can reach them. The
 * increment is a plain read-modify-write, not an atomic one: the lock
 * alone keeps the count exact. */
#include <stdint.h>
#include <stdio.h>

#include "mproc.h"

enum { PROCESSES = 4, INCREMENTS = 100000 };

static int add_many(mp_call *call) {
  mp_lock *lock = mp_call_lock(call, 0);
  int64_t *counter = mp_shm_ptr(mp_call_shm(call, 1));
  for (int i = 0; i < INCREMENTS; i++) {
    int rc = mp_lock_acquire(lock, MP_FOREVER);
    if (rc != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
    *counter += 1;
    mp_lock_release(lock);
  }
  return 0;
}

int main(int argc, char **argv) {
  MP_REGISTER(add_many);
  if (mp_main(argc, argv) != MP_OK) return 1;

  mp_lock *lock;
  mp_shm *memory;
  if (mp_lock_create(&lock, 0) != MP_OK || mp_shm_create(&memory, sizeof(int64_t)) != MP_OK) {
    fprintf(stderr, "create: %s\n", mp_last_error());
    return 1;
  }
  int64_t *counter = mp_shm_ptr(memory); /* zero-filled */

  mp_object *shared[] = {mp_lock_obj(lock), mp_shm_obj(memory)};
  mp_process_options opts = {0};
  opts.objects = shared;
  opts.nobjects = 2;
  mp_process *processes[PROCESSES];
  for (int i = 0; i < PROCESSES; i++) {
    if (mp_process_start(&processes[i], "add_many", NULL, 0, &opts) != MP_OK) {
      fprintf(stderr, "start: %s\n", mp_last_error());
      return 1;
    }
  }
  int failed = 0;
  for (int i = 0; i < PROCESSES; i++) {
    int code = 1;
    mp_process_join(processes[i], MP_FOREVER);
    mp_process_exitcode(processes[i], &code);
    failed |= code != 0;
    mp_process_free(processes[i]);
  }

  int64_t total = *counter;
  printf("%d processes x %d increments under a Lock\n", PROCESSES, INCREMENTS);
  printf("Final counter value: %lld\n", (long long)total);
  mp_shm_free(memory); /* counter points into it: read it first */
  mp_lock_free(lock);
  return failed || total != (int64_t)PROCESSES * INCREMENTS;
}
