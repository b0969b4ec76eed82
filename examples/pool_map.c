/* The tutorial's Pool example: pool.map of a factorial over a list. The
 * pool splits the numbers into chunks for its workers and gives the
 * results back in input order. */
#include <stdint.h>
#include <stdio.h>

#include "mproc.h"

/* A CPU-bound task: the argument is an int64_t n, the result n!. */
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
  if (mp_main(argc, argv) != MP_OK) { /* the main guard: workers never get past it */
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 1;
  }

  const int64_t numbers[] = {5, 10, 15, 20};
  enum { COUNT = sizeof numbers / sizeof numbers[0] };
  uint64_t results[COUNT];

  /* All-zero options: one worker per CPU, the default start method. */
  mp_pool *pool;
  if (mp_pool_create(&pool, NULL) != MP_OK) {
    fprintf(stderr, "pool: %s\n", mp_last_error());
    return 1;
  }
  printf("Starting parallel calculations...\n");
  fflush(stdout);
  /* Blocks until every item is done; results[i] belongs to numbers[i]. */
  int rc = mp_pool_map(pool, "calculate_factorial", numbers, sizeof numbers[0], COUNT, results,
                       sizeof results[0], NULL);
  if (rc != MP_OK) fprintf(stderr, "map: %s: %s\n", mp_err_name(rc), mp_last_error());
  mp_pool_free(pool);
  if (rc != MP_OK) return 1;

  printf("\n--- Results ---\n");
  for (int i = 0; i < COUNT; i++)
    printf("Factorial of %lld is %llu\n", (long long)numbers[i], (unsigned long long)results[i]);
  printf("All calculations done.\n");
  return 0;
}
