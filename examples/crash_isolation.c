/* Why processes: a task that crashes takes down its worker process, not
 * the program. Four records are parsed on a Pool; one of them hits a bug
 * (a write through a NULL pointer) and its worker dies of it. The other
 * records are parsed all the same, the failed one reads MP_ECRASHED, and
 * the pool starts a new worker in place of the dead one. With threads, the
 * same bug would have ended the whole program. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mproc.h"

/* Parses "name=value" and returns the value as an int64_t. */
static int parse_record(mp_call *call) {
  size_t len;
  const char *record = mp_call_arg(call, &len);
  const char *equals = memchr(record, '=', len);
  if (!equals) {
    /* The bug, as C code has them: a record without '=' reaches a write
     * through a NULL pointer. (volatile: the compiler keeps the write.) */
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
  }
  int64_t value = 0;
  for (const char *c = equals + 1; c < record + len; c++) value = value * 10 + (*c - '0');
  return mp_call_return(call, &value, sizeof value);
}

int main(int argc, char **argv) {
  MP_REGISTER(parse_record);
  if (mp_main(argc, argv) != MP_OK) return 1;

  const char *records[] = {"alpha=1", "beta=22", "gamma", "delta=4444"};
  enum { COUNT = sizeof records / sizeof records[0] };
  mp_slice in[COUNT];
  for (int i = 0; i < COUNT; i++) {
    in[i].data = records[i];
    in[i].len = strlen(records[i]);
  }

  mp_pool_options opts = {0};
  opts.workers = 2;
  mp_pool *pool;
  if (mp_pool_create(&pool, &opts) != MP_OK) {
    fprintf(stderr, "pool: %s\n", mp_last_error());
    return 1;
  }
  printf("Parsing %d records in worker processes...\n", COUNT);
  /* Every item gets its own outcome; the return value is the first failure's. */
  mp_result out[COUNT];
  int rc = mp_pool_map_slices(pool, "parse_record", in, COUNT, out, NULL);
  printf("mp_pool_map_slices: %s\n", mp_err_name(rc));

  int parsed = 0;
  for (int i = 0; i < COUNT; i++) {
    if (out[i].status == MP_OK) {
      int64_t value;
      memcpy(&value, out[i].data, sizeof value);
      printf("  \"%s\": value %lld\n", records[i], (long long)value);
      parsed++;
    } else {
      printf("  \"%s\": %s (%s)\n", records[i], mp_err_name(out[i].status), out[i].message);
    }
    mp_result_clear(&out[i]);
  }

  /* The pool replaced its dead worker: it still works. */
  int64_t check = 0;
  mp_result again;
  if (mp_pool_apply(pool, "parse_record", "check=7", 7, &again) == MP_OK && again.status == MP_OK)
    memcpy(&check, again.data, sizeof check);
  mp_result_clear(&again);
  mp_pool_free(pool);
  printf("Still running: %d of %d records parsed, and the pool still works (check=%lld).\n", parsed, COUNT,
         (long long)check);
  return parsed == COUNT - 1 && check == 7 ? 0 : 1;
}
