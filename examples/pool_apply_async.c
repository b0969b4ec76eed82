/* The tutorial's apply_async example: submit every task without waiting,
 * do other work, then collect each result (waiting only for the ones not
 * yet done). A failed task reads as an error, not as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mproc.h"

static int calculate_factorial(mp_call *call) {
  int64_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return mp_call_fail(call, "expected an int64_t");
  if (n < 0 || n > 20) return mp_call_fail(call, "%lld! does not fit in 64 bits", (long long)n);
  printf("Worker process %lld calculating factorial for %lld\n", (long long)mp_getpid(), (long long)n);
  fflush(stdout);
  uint64_t result = 1;
  for (int64_t i = 1; i <= n; i++) result *= (uint64_t)i;
  return mp_call_return(call, &result, sizeof result);
}

int main(int argc, char **argv) {
  MP_REGISTER(calculate_factorial);
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 1;
  }

  const int64_t numbers[] = {5, 10, 15, 20};
  enum { COUNT = sizeof numbers / sizeof numbers[0] };
  mp_async *pending[COUNT] = {0};

  mp_pool *pool;
  if (mp_pool_create(&pool, NULL) != MP_OK) {
    fprintf(stderr, "pool: %s\n", mp_last_error());
    return 1;
  }
  printf("Starting non-blocking parallel calculations...\n");
  for (int i = 0; i < COUNT; i++) {
    /* Returns at once: the pool's own thread hands the task to a worker. */
    if (mp_pool_apply_async(pool, "calculate_factorial", &numbers[i], sizeof numbers[i], NULL, NULL,
                            &pending[i]) != MP_OK) {
      fprintf(stderr, "apply_async: %s\n", mp_last_error());
      return 1;
    }
  }
  printf("All tasks submitted. Main process can do other work here...\n");
  fflush(stdout);

  uint64_t results[COUNT] = {0};
  int ok[COUNT] = {0};
  for (int i = 0; i < COUNT; i++) {
    /* Like AsyncResult.get(): waits for this one task only. */
    const mp_result *r = NULL;
    if (mp_async_wait(pending[i], MP_FOREVER) == MP_OK) r = mp_async_result(pending[i]);
    if (r && r->status == MP_OK && r->len == sizeof(uint64_t)) {
      memcpy(&results[i], r->data, sizeof results[i]);
      ok[i] = 1;
    } else {
      printf("An error occurred: %s\n", r && r->message ? r->message : mp_last_error());
    }
    mp_async_free(pending[i]);
  }
  mp_pool_free(pool);

  printf("\n--- Results ---\n");
  for (int i = 0; i < COUNT; i++)
    if (ok[i]) printf("Factorial of %lld is %llu\n", (long long)numbers[i], (unsigned long long)results[i]);
  printf("All calculations done.\n");
  return 0;
}
