/* The tutorial's first example: one Process per number, each computing a
 * factorial in parallel; the parent starts them all, then joins them. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mproc.h"

/* A CPU-bound task: the argument is an int64_t n, the result n!. */
static int calculate_factorial(mp_call *call) {
  int64_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return mp_call_fail(call, "expected an int64_t");
  if (n < 0 || n > 20) return mp_call_fail(call, "%lld! does not fit in 64 bits", (long long)n);
  printf("Process %lld: Calculating factorial for %lld\n", (long long)mp_getpid(), (long long)n);
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
  mp_process *processes[COUNT] = {0};
  printf("Main process ID: %lld\n", (long long)mp_getpid());

  for (int i = 0; i < COUNT; i++) {
    if (mp_process_start(&processes[i], "calculate_factorial", &numbers[i], sizeof numbers[i], NULL) != MP_OK) {
      fprintf(stderr, "start: %s\n", mp_last_error());
      return 1;
    }
    printf("Started process %lld\n", (long long)mp_process_pid(processes[i]));
  }
  fflush(stdout);

  int failures = 0;
  for (int i = 0; i < COUNT; i++) {
    mp_result r;
    if (mp_process_join(processes[i], MP_FOREVER) != MP_OK || mp_process_result(processes[i], &r) != MP_OK) {
      fprintf(stderr, "join: %s\n", mp_last_error());
      return 1;
    }
    if (r.status == MP_OK && r.len == sizeof(uint64_t)) {
      uint64_t f;
      memcpy(&f, r.data, sizeof f);
      printf("Factorial of %lld is %llu\n", (long long)numbers[i], (unsigned long long)f);
    } else {
      printf("Factorial of %lld failed: %s\n", (long long)numbers[i], r.message ? r.message : mp_strerror(r.status));
      failures++;
    }
    mp_result_clear(&r);
    mp_process_free(processes[i]);
  }
  printf("All processes have completed.\n");
  return failures ? 1 : 0;
}
