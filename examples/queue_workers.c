/* The tutorial's Queue example: four worker processes each put
 * number * number on a shared queue; the parent collects the results.
 * mp_queue_close stands in for the `while not queue.empty()` loop: after
 * it, a get drains what is queued and then says MP_ECLOSED, so no count or
 * sentinel is needed. */
#include <stdint.h>
#include <stdio.h>

#include "mproc.h"

/* The worker puts its result in the queue it was handed. */
static int worker(mp_call *call) {
  int64_t number;
  if (mp_call_arg_read(call, &number, sizeof number) != MP_OK) return mp_call_fail(call, "expected an int64_t");
  mp_queue *queue = mp_call_queue(call, 0);
  printf("Worker %lld: Starting for number %lld\n", (long long)mp_getpid(), (long long)number);
  int64_t result = number * number;
  printf("Worker %lld: Finished, putting result %lld in queue\n", (long long)mp_getpid(), (long long)result);
  return mp_queue_put(queue, &result, sizeof result, MP_FOREVER);
}

int main(int argc, char **argv) {
  MP_REGISTER(worker);
  if (mp_main(argc, argv) != MP_OK) return 1;

  const int64_t numbers[] = {1, 2, 3, 4};
  enum { COUNT = sizeof numbers / sizeof numbers[0] };
  mp_queue *result_queue;
  if (mp_queue_create(&result_queue, NULL) != MP_OK) return 1;

  /* The queue is listed in each process's options: that is how a child
   * gets it (mp_call_queue(call, 0) inside the worker). */
  mp_object *shared[] = {mp_queue_obj(result_queue)};
  mp_process_options opts = {0};
  opts.objects = shared;
  opts.nobjects = 1;
  mp_process *processes[COUNT];
  for (int i = 0; i < COUNT; i++) {
    if (mp_process_start(&processes[i], "worker", &numbers[i], sizeof numbers[i], &opts) != MP_OK) {
      fprintf(stderr, "start: %s\n", mp_last_error());
      return 1;
    }
  }

  /* Wait for all processes to finish: their results are already in the
   * queue's shared memory, so this cannot deadlock however much they put. */
  for (int i = 0; i < COUNT; i++) {
    mp_process_join(processes[i], MP_FOREVER);
    mp_process_free(processes[i]);
  }
  printf("\nAll worker processes have finished.\n");

  printf("Collecting results from the queue...\n");
  mp_queue_close(result_queue);
  int64_t result, total = 0;
  size_t len;
  while (mp_queue_get_into(result_queue, &result, sizeof result, &len, MP_FOREVER) == MP_OK) {
    printf("Got result from queue: %lld\n", (long long)result);
    total += result;
  }
  printf("Sum of squares: %lld\n", (long long)total);
  mp_queue_free(result_queue);
  return total == 30 ? 0 : 1;
}
