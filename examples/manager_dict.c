/* The tutorial's Manager: a server process holds a dict; worker processes
 * record their results in it through proxies, and the parent reads them.
 *
 * Python's version is `results = manager.dict()` passed to each Process,
 * then `results[n] = value` in the worker. Here the manager is listed in
 * each process's options; the worker reaches it with mp_call_manager and
 * opens the dict by name. mp_dict_add_i64 counts finished workers: one
 * atomic step in the server, so no increment is ever lost (the
 * `results["done"] += 1` trap of a Python Manager dict). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mproc.h"

static void key_for(int64_t n, char key[32]) { snprintf(key, 32, "factorial-%lld", (long long)n); }

/* Computes n! and stores it in the shared dict "results". */
static int worker(mp_call *call) {
  int64_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK || n < 0 || n > 20)
    return mp_call_fail(call, "expected an int64_t from 0 to 20");
  uint64_t result = 1;
  for (int64_t i = 2; i <= n; i++) result *= (uint64_t)i;

  mp_dict *results;
  if (mp_manager_dict(mp_call_manager(call, 0), "results", &results) != MP_OK)
    return mp_call_fail(call, "open the dict: %s", mp_last_error());
  char key[32];
  key_for(n, key);
  int rc = mp_dict_set(results, key, &result, sizeof result);
  if (rc == MP_OK) rc = mp_dict_add_i64(results, "done", 1, NULL);
  printf("Worker %lld: stored %s\n", (long long)mp_getpid(), key);
  mp_dict_free(results); /* the proxy only: the data stays in the server */
  return rc == MP_OK ? 0 : mp_call_fail(call, "%s", mp_last_error());
}

int main(int argc, char **argv) {
  MP_REGISTER(worker);
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 1;
  }

  mp_manager *manager;
  if (mp_manager_start(&manager) != MP_OK) {
    fprintf(stderr, "mp_manager_start: %s\n", mp_last_error());
    return 1;
  }
  const int64_t numbers[] = {5, 10, 15, 20};
  enum { COUNT = sizeof numbers / sizeof numbers[0] };
  mp_object *shared[] = {mp_manager_obj(manager)};
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
  for (int i = 0; i < COUNT; i++) {
    mp_process_join(processes[i], MP_FOREVER);
    mp_process_free(processes[i]);
  }
  fflush(stdout);

  mp_dict *results;
  size_t entries = 0;
  if (mp_manager_dict(manager, "results", &results) != MP_OK || mp_dict_len(results, &entries) != MP_OK) {
    fprintf(stderr, "read the dict: %s\n", mp_last_error());
    return 1;
  }
  printf("--- Shared dict: %llu entries ---\n", (unsigned long long)entries);
  int failures = 0;
  for (int i = 0; i < COUNT; i++) {
    char key[32];
    void *value;
    size_t len;
    key_for(numbers[i], key);
    if (mp_dict_get(results, key, &value, &len) == MP_OK && len == sizeof(uint64_t)) {
      uint64_t f;
      memcpy(&f, value, sizeof f);
      mp_free(value);
      printf("Factorial of %lld is %llu\n", (long long)numbers[i], (unsigned long long)f);
    } else {
      printf("Factorial of %lld: no result (%s)\n", (long long)numbers[i], mp_last_error());
      failures++;
    }
  }
  int64_t done = 0;
  mp_dict_add_i64(results, "done", 0, &done);
  printf("Workers finished: %lld\n", (long long)done);
  mp_dict_free(results);
  mp_manager_free(manager); /* ends the server process and reaps it */
  return failures || done != COUNT ? 1 : 0;
}
