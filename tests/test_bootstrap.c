/* The main guard. What happens before mp_main() is recorded as it happens
 * (tasks must be registered there), then checked by the cmocka tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

#ifdef _WIN32
#include "win32/win32.h"
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#define PLAIN_RUN_ARG "--report-is-worker"
#define PLAIN_RUN_EXIT 40 /* + mp_is_worker() */

static char *program; /* argv[0] */

/* Runs this test program again with PLAIN_RUN_ARG, as a task might run any
 * program; returns its exit code, or -1. */
static int run_plain_program(void) {
#ifdef _WIN32
  wchar_t exe[MAX_PATH * 2], cmd[MAX_PATH * 4 + 64];
  if (!GetModuleFileNameW(NULL, exe, MAX_PATH * 2)) return -1;
  size_t at = mp__win_quote_arg(cmd, 0, sizeof cmd / sizeof cmd[0], exe);
  if (!at || !mp__win_quote_arg(cmd, at, sizeof cmd / sizeof cmd[0], L"" PLAIN_RUN_ARG)) return -1;
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  ZeroMemory(&si, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return -1;
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return (int)code;
#else
  pid_t pid = fork();
  if (pid == 0) {
    char *argv[] = {program, PLAIN_RUN_ARG, NULL};
    execv(program, argv);
    _exit(127);
  }
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
#endif
}

/* A program a task starts inherits the worker's environment: it must not
 * take itself for a worker (the mark is on the command line only). */
static int start_plain_program(mp_call *call) {
  int code = run_plain_program();
  return mp_call_return(call, &code, sizeof code);
}

static int noop(mp_call *call) {
  (void)call;
  return 0;
}

static int report_worker(mp_call *call) {
  int w = mp_is_worker();
  return mp_call_return(call, &w, sizeof w);
}

/* Codes seen before mp_main, and the message of the object refusal. */
static struct {
  int reg_null_name, reg_null_fn, reg_empty, reg_63, reg_64, reg_dup;
  int pipe_before, process_before;
  char pipe_message[512];
} before;

static void record_before_main(void) {
  char name63[64], name64[65];
  memset(name63, 'a', 63);
  name63[63] = '\0';
  memset(name64, 'b', 64);
  name64[64] = '\0';
  before.reg_null_name = mp_register(NULL, noop);
  before.reg_null_fn = mp_register("nofn", NULL);
  before.reg_empty = mp_register("", noop);
  before.reg_63 = mp_register(name63, noop);
  before.reg_64 = mp_register(name64, noop);
  before.reg_dup = mp_register("noop", noop);
  mp_conn *a = NULL, *b = NULL;
  mp_process *p = NULL;
  before.pipe_before = mp_pipe(&a, &b, 1);
  snprintf(before.pipe_message, sizeof before.pipe_message, "%s", mp_last_error());
  before.process_before = mp_process_start(&p, "noop", NULL, 0, NULL);
}

static void registration_checks_its_input(void **state) {
  (void)state;
  assert_int_equal(before.reg_null_name, MP_EINVAL);
  assert_int_equal(before.reg_null_fn, MP_EINVAL);
  assert_int_equal(before.reg_empty, MP_EINVAL);
  assert_int_equal(before.reg_63, MP_OK);
  assert_int_equal(before.reg_64, MP_EINVAL);
  assert_int_equal(before.reg_dup, MP_EINVAL); /* "noop" was registered first */
}

static void objects_before_main_fail_with_the_fix(void **state) {
  (void)state;
  assert_int_equal(before.pipe_before, MP_EBOOTSTRAP);
  assert_int_equal(before.process_before, MP_EBOOTSTRAP);
  assert_non_null(strstr(before.pipe_message, "call mp_main(argc, argv) at the top of main()"));
  assert_int_equal(strncmp(before.pipe_message, "mp_pipe: ", 9), 0); /* named by the call */
}

static void register_after_main_is_refused(void **state) {
  (void)state;
  TU_CHECK(mp_register("late", noop), MP_EBOOTSTRAP);
  assert_non_null(strstr(mp_last_error(), "before mp_main"));
}

static void main_twice_is_refused(void **state) {
  (void)state;
  char *argv[] = {"x", NULL};
  TU_CHECK(mp_main(1, argv), MP_EBOOTSTRAP);
}

static void a_63_byte_task_runs(void **state) {
  (void)state;
  char name63[64];
  memset(name63, 'a', 63);
  name63[63] = '\0';
  int code = -1;
  mp_result r = tu_run(name63, NULL, 0, &code);
  assert_int_equal(r.status, MP_OK);
  assert_int_equal(code, 0);
  mp_result_clear(&r);
}

static void workers_know_they_are_workers(void **state) {
  (void)state;
  assert_int_equal(mp_is_worker(), 0);
  mp_result r = tu_run("report_worker", NULL, 0, NULL);
  assert_int_equal(r.status, MP_OK);
  assert_int_equal(r.len, sizeof(int));
  assert_int_equal(*(int *)r.data, 1);
  mp_result_clear(&r);
}

static void start_methods_resolve(void **state) {
  (void)state;
  mp_process *p = NULL;
  mp_process_options o = {0};
  o.start_method = 99;
  TU_CHECK(mp_process_start(&p, "noop", NULL, 0, &o), MP_EINVAL);
  /* Valgrind cannot follow an exec of /proc/self/exe (it would load its
   * own tool as the program): spawn is checked in every other leg. */
  if (!tu_under_valgrind()) {
    o.start_method = MP_START_SPAWN;
    TU_CHECK(mp_process_start(&p, "noop", NULL, 0, &o), MP_OK);
    TU_CHECK(mp_process_join(p, 30), MP_OK);
    mp_process_free(p);
  }
  o.start_method = MP_START_FORK;
  int rc = mp_process_start(&p, "noop", NULL, 0, &o);
#if !MP__HAVE_FORK
  assert_int_equal(rc, MP_ENOTSUP);
  assert_non_null(strstr(mp_last_error(), "POSIX"));
#else
  assert_int_equal(rc, MP_OK);
  TU_CHECK(mp_process_join(p, 30), MP_OK);
  mp_process_free(p);
#endif
}

static void a_program_a_task_starts_is_not_a_worker(void **state) {
  (void)state;
  mp_result r = tu_run("start_plain_program", NULL, 0, NULL);
  assert_int_equal(r.status, MP_OK);
  assert_int_equal(r.len, sizeof(int));
  assert_int_equal(*(int *)r.data, PLAIN_RUN_EXIT);
  mp_result_clear(&r);
}

int main(int argc, char **argv) {
  program = argv[0];
  MP_REGISTER(noop);
  MP_REGISTER(report_worker);
  MP_REGISTER(start_plain_program);
  if (argc > 1 && strcmp(argv[1], PLAIN_RUN_ARG) == 0) {
    if (mp_main(argc, argv) != MP_OK) return 1;
    return PLAIN_RUN_EXIT + mp_is_worker();
  }
  /* A spawned child must reach mp_main without running the checks. */
  int is_child = argc > 1 && strncmp(argv[1], "--mproc-worker=", 15) == 0;
  if (!is_child) record_before_main();
  else {
    char name63[64];
    memset(name63, 'a', 63);
    name63[63] = '\0';
    mp_register(name63, noop);
  }
  if (argc > 1 && strcmp(argv[1], "--expect-bad-env") == 0) {
    int rc = mp_main(argc, argv);
    if (rc != MP_EINVAL || !strstr(mp_last_error(), "MPROC_START_METHOD") ||
        strncmp(mp_last_error(), "mp_main: ", 9) != 0) {
      fprintf(stderr, "expected MP_EINVAL naming MPROC_START_METHOD, got %s: %s\n", mp_err_name(rc),
              mp_last_error());
      return 1;
    }
    printf("bad MPROC_START_METHOD refused: %s\n", mp_last_error());
    return 0;
  }
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(registration_checks_its_input),
      TU_TEST(objects_before_main_fail_with_the_fix),
      TU_TEST(register_after_main_is_refused),
      TU_TEST(main_twice_is_refused),
      TU_TEST(a_63_byte_task_runs),
      TU_TEST(workers_know_they_are_workers),
      TU_TEST(start_methods_resolve),
      TU_TEST(a_program_a_task_starts_is_not_a_worker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
