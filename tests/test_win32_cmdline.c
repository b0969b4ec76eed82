/* Windows command-line quoting: every awkward argument survives the trip
 * through our quoting and back through CommandLineToArgvW (the rules the C
 * runtime's argv parser shares), and a command line that would not fit is
 * refused, never cut short. */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "testutil.h"
#include "win32/win32.h"

#include <shellapi.h>

static const wchar_t *const awkward[] = {
    L"plain",
    L"",
    L"two words",
    L"tab\there",
    L"\"quoted\"",
    L"a\"b",
    L"trailing\\",
    L"trailing two\\\\",
    L"C:\\Program Files\\mproc\\",
    L"\\\\server\\share\\",
    L"back\\\"quote",
    L"many\\\\\\\"mixed\\\\ \"",
    L"\\",
    L"\"",
    L" ",
    L"--mproc-worker=1:1234",
    L"ü日本 spaces and \u00e9",
    L"new\nline",
};

static void quoted_arguments_round_trip(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof awkward / sizeof awkward[0]; i++) {
    wchar_t cmd[512];
    size_t at = mp__win_quote_arg(cmd, 0, 512, L"C:\\dir with space\\prog.exe");
    assert_true(at > 0);
    at = mp__win_quote_arg(cmd, at, 512, awkward[i]);
    assert_true(at > 0);
    at = mp__win_quote_arg(cmd, at, 512, L"last");
    assert_true(at > 0);
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(cmd, &argc);
    assert_non_null(argv);
    if (argc != 3 || wcscmp(argv[1], awkward[i]) != 0 || wcscmp(argv[2], L"last") != 0) {
      print_error("argument %u did not survive: command line [%ls], argc %d\n", (unsigned)i, cmd, argc);
      fail();
    }
    assert_int_equal(wcscmp(argv[0], L"C:\\dir with space\\prog.exe"), 0);
    LocalFree(argv);
  }
}

static void a_command_line_that_does_not_fit_is_refused(void **state) {
  (void)state;
  wchar_t small[8];
  assert_int_equal(mp__win_quote_arg(small, 0, 8, L"far too long to fit"), 0);
  assert_int_equal(mp__win_quote_arg(small, 0, 8, L"a b c d"), 0); /* needs quotes: 9 */
  assert_true(mp__win_quote_arg(small, 0, 8, L"1234567") == 7);
}

static void system_errors_carry_the_systems_words(void **state) {
  (void)state;
  int rc = mp__win_error(MP_ESYS, ERROR_FILE_NOT_FOUND, "CreateProcessW");
  assert_int_equal(rc, MP_ESYS);
  const char *msg = mp_last_error();
  assert_non_null(strstr(msg, "CreateProcessW: "));
  assert_non_null(strstr(msg, "(2)"));
  assert_null(strstr(msg, "\r"));
  assert_null(strstr(msg, "\n"));
}

int main(int argc, char **argv) {
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(quoted_arguments_round_trip),
      TU_TEST(a_command_line_that_does_not_fit_is_refused),
      TU_TEST(system_errors_carry_the_systems_words),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
