/* Shared memory: zero-filled, any size, the same bytes in every process,
 * alive while anyone has it, nothing left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

#if defined(__linux__)
#include <dirent.h>
#endif

static int before_main;


/* Joins p; returns the uint64 its task returned. */
static uint64_t finish_value(mp_process *p) {
  mp_result r = tu_finish(p, 120);
  uint64_t v = 0;
  assert_int_equal(r.len, sizeof v);
  memcpy(&v, r.data, sizeof v);
  mp_result_clear(&r);
  return v;
}

static unsigned char pattern(size_t i, unsigned seed) { return (unsigned char)(i * 131 + seed * 7 + (i >> 9)); }

/* ------------------------------------------------------------- tasks */
/* objects: shm. Checks the parent's pattern (seed 1), writes seed 2;
 * returns the size it sees. */
static int swap_pattern(mp_call *call) {
  mp_shm *s = mp_call_shm(call, 0);
  if (!s) return mp_call_fail(call, "no shm");
  unsigned char *p = mp_shm_ptr(s);
  size_t n = mp_shm_size(s);
  for (size_t i = 0; i < n; i++)
    if (p[i] != pattern(i, 1)) return mp_call_fail(call, "byte %lu differs", (unsigned long)i);
  for (size_t i = 0; i < n; i++) p[i] = pattern(i, 2);
  uint64_t v = n;
  return mp_call_return(call, &v, sizeof v);
}

/* objects: shm. Reads the first and last bytes (both must be 0), writes
 * 9 and 7 there; returns the size. */
static int touch_ends(mp_call *call) {
  mp_shm *s = mp_call_shm(call, 0);
  unsigned char *p = mp_shm_ptr(s);
  size_t n = mp_shm_size(s);
  if (p[0] != 0 || p[n - 1] != 0 || p[n / 2] != 0) return mp_call_fail(call, "not zero");
  p[0] = 9;
  p[n - 1] = 7;
  uint64_t v = n;
  return mp_call_return(call, &v, sizeof v);
}

/* objects: shm, go event, done event. After go: adds 1 to the counter,
 * sets done; returns what it read. */
static int add_after_go(mp_call *call) {
  volatile uint64_t *c = mp_shm_ptr(mp_call_shm(call, 0));
  if (mp_event_wait(mp_call_event(call, 1), 60) != MP_OK) return mp_call_fail(call, "no go");
  uint64_t v = *c;
  *c = v + 1;
  mp_event_set(mp_call_event(call, 2));
  return mp_call_return(call, &v, sizeof v);
}

/* objects: shm, done event. After done: returns the counter. */
static int read_after_done(mp_call *call) {
  volatile uint64_t *c = mp_shm_ptr(mp_call_shm(call, 0));
  if (mp_event_wait(mp_call_event(call, 1), 60) != MP_OK) return mp_call_fail(call, "no done");
  uint64_t v = *c;
  return mp_call_return(call, &v, sizeof v);
}

/* ------------------------------------------------------------- tests */
static void created_before_main_is_refused(void **state) {
  (void)state;
  assert_int_equal(before_main, MP_EBOOTSTRAP);
}

static void zero_filled_at_every_size(void **state) {
  (void)state;
  size_t sizes[] = {1, 7, 4095, 4096, 4097, ((size_t)1 << 20) + 3};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    mp_shm *s;
    TU_CHECK(mp_shm_create(&s, sizes[k]), MP_OK);
    assert_int_equal(mp_shm_size(s), sizes[k]);
    unsigned char *p = mp_shm_ptr(s);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 4096, 0);
    for (size_t i = 0; i < sizes[k]; i++)
      if (p[i]) fail_msg("size %lu: byte %lu is %d", (unsigned long)sizes[k], (unsigned long)i, p[i]);
    memset(p, 0xAB, sizes[k]); /* every byte is writable */
    assert_null(mp_shm_free(s));
  }
}

static void one_byte_across_processes(void **state) {
  (void)state;
  mp_shm *s;
  TU_CHECK(mp_shm_create(&s, 1), MP_OK);
  unsigned char *p = mp_shm_ptr(s);
  p[0] = pattern(0, 1);
  mp_object *objs[1] = {mp_shm_obj(s)};
  assert_true(finish_value(tu_start("swap_pattern", objs, 1, NULL, 0)) == 1);
  assert_int_equal(p[0], pattern(0, 2));
  mp_shm_free(s);
}

static void pattern_across_processes(void **state) {
  (void)state;
  size_t n = 3 * 4096 + 5;
  mp_shm *s;
  TU_CHECK(mp_shm_create(&s, n), MP_OK);
  unsigned char *p = mp_shm_ptr(s);
  for (size_t i = 0; i < n; i++) p[i] = pattern(i, 1);
  mp_object *objs[1] = {mp_shm_obj(s)};
  assert_true(finish_value(tu_start("swap_pattern", objs, 1, NULL, 0)) == n);
  for (size_t i = 0; i < n; i++)
    if (p[i] != pattern(i, 2)) fail_msg("byte %lu is not the child's", (unsigned long)i);
  mp_shm_free(s);
}

#if defined(__linux__)
/* Shared-memory pages this process has resident, in KiB. */
static long rss_shmem_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "RssShmem: %ld", &kib) == 1) break;
  fclose(f);
  return kib;
}
#endif

static void large_and_sparse(void **state) {
  (void)state;
  size_t n = (size_t)256 << 20;
  mp_shm *s;
  TU_CHECK(mp_shm_create(&s, n), MP_OK);
  unsigned char *p = mp_shm_ptr(s);
  assert_int_equal(p[0] | p[n / 2] | p[n - 1], 0);
  mp_object *objs[1] = {mp_shm_obj(s)};
  assert_true(finish_value(tu_start("touch_ends", objs, 1, NULL, 0)) == n);
  assert_int_equal(p[0], 9);
  assert_int_equal(p[n - 1], 7);
#if defined(__linux__)
  /* Only the pages touched take memory. */
  long kib = rss_shmem_kib();
  if (kib >= 0) assert_true(kib < 64 * 1024);
#endif
  mp_shm_free(s);
}

/* The creator frees its mapping at once; the two children still share
 * the block between them. */
static void freed_by_one_process_still_used_by_others(void **state) {
  (void)state;
  mp_shm *s;
  mp_event *go, *done;
  TU_CHECK(mp_shm_create(&s, sizeof(uint64_t)), MP_OK);
  TU_CHECK(mp_event_create(&go), MP_OK);
  TU_CHECK(mp_event_create(&done), MP_OK);
  *(uint64_t *)mp_shm_ptr(s) = 41;
  mp_object *a_objs[3] = {mp_shm_obj(s), mp_event_obj(go), mp_event_obj(done)};
  mp_object *b_objs[2] = {mp_shm_obj(s), mp_event_obj(done)};
  mp_process *a = tu_start("add_after_go", a_objs, 3, NULL, 0);
  mp_process *b = tu_start("read_after_done", b_objs, 2, NULL, 0);
  s = mp_shm_free(s);
  TU_CHECK(mp_event_set(go), MP_OK);
  assert_true(finish_value(a) == 41);
  assert_true(finish_value(b) == 42);
  mp_event_free(done);
  mp_event_free(go);
}

#if defined(__linux__)
/* Entries in /dev/shm that this process made (shm_open names carry the pid). */
static int count_own_dev_shm(void) {
  char prefix[64];
  snprintf(prefix, sizeof prefix, "mproc-%lld-", (long long)mp__getpid());
  DIR *d = opendir("/dev/shm");
  int n = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
  closedir(d);
  return n;
}
#endif

/* Nothing named: no /dev/shm entry even while the block is in use. */
static void leaves_no_name_behind(void **state) {
  (void)state;
  mp_shm *s;
  TU_CHECK(mp_shm_create(&s, 1 << 16), MP_OK);
#if defined(__linux__)
  assert_int_equal(count_own_dev_shm(), 0);
#endif
  mp_shm_free(s);
}

static void bad_arguments(void **state) {
  (void)state;
  mp_shm *s = NULL;
  TU_CHECK(mp_shm_create(NULL, 1), MP_EINVAL);
  TU_CHECK(mp_shm_create(&s, 0), MP_EINVAL);
  assert_null(s);
  assert_true(strstr(mp_last_error(), "mp_shm_create") != NULL);
  TU_CHECK(mp_shm_create(&s, SIZE_MAX), MP_ETOOBIG);
  assert_null(mp_shm_ptr(NULL));
  assert_int_equal(mp_shm_size(NULL), 0);
  assert_null(mp_shm_obj(NULL));
  assert_null(mp_call_shm(NULL, 0));
  assert_null(mp_shm_free(NULL));
}

int main(int argc, char **argv) {
  MP_REGISTER(swap_pattern);
  MP_REGISTER(touch_ends);
  MP_REGISTER(add_after_go);
  MP_REGISTER(read_after_done);
  {
    mp_shm *s;
    before_main = mp_shm_create(&s, 1);
  }
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(created_before_main_is_refused),
      TU_TEST(zero_filled_at_every_size),
      TU_TEST(one_byte_across_processes),
      TU_TEST(pattern_across_processes),
      TU_TEST(large_and_sparse),
      TU_TEST(freed_by_one_process_still_used_by_others),
      TU_TEST(leaves_no_name_behind),
      TU_TEST(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
