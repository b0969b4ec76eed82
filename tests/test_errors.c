/* Error codes: every code has a name and a message from one list. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static void every_code_has_a_distinct_name_and_message(void **state) {
  (void)state;
  for (int e = MP_OK; e >= MP_ESYS; e--) {
    const char *name = mp_err_name(e);
    assert_non_null(name);
    assert_true(strncmp(name, "MP_", 3) == 0);
    assert_string_not_equal(name, "MP_E?");
    assert_string_not_equal(mp_strerror(e), "unknown error");
    for (int f = e - 1; f >= MP_ESYS; f--) {
      assert_string_not_equal(name, mp_err_name(f));
      assert_string_not_equal(mp_strerror(e), mp_strerror(f));
    }
  }
  assert_string_equal(mp_err_name(MP_ETIMEDOUT), "MP_ETIMEDOUT");
  assert_string_equal(mp_strerror(MP_ETIMEDOUT), "timed out");
  assert_string_equal(mp_err_name(MP_ESYS), "MP_ESYS");
}

static void unknown_codes_are_named_safely(void **state) {
  (void)state;
  assert_string_equal(mp_err_name(1), "MP_E?");
  assert_string_equal(mp_err_name(-1000), "MP_E?");
  assert_string_equal(mp_strerror(12345), "unknown error");
}

static void last_error_carries_detail(void **state) {
  (void)state;
  TU_CHECK(mp_pipe(NULL, NULL, 1), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_pipe"));
  mp_result r = {0};
  mp_result_clear(&r);
  mp_result_clear(NULL);
  mp_free(NULL);
}

static void version_is_reported(void **state) {
  (void)state;
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", MPROC_VERSION_MAJOR, MPROC_VERSION_MINOR, MPROC_VERSION_PATCH);
  assert_string_equal(mp_version_string(), want);
  assert_true(mp_cpu_count() >= 1);
  assert_true(mp_getpid() > 0);
}

int main(int argc, char **argv) {
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(every_code_has_a_distinct_name_and_message),
      TU_TEST(unknown_codes_are_named_safely),
      TU_TEST(last_error_carries_detail),
      TU_TEST(version_is_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
