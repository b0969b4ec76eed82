/* Process: results, failures, crashes, signals, timeouts, cleanup. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "platform.h"
#include "testutil.h"
#include "result_area.h"
#include "wire.h"

static int square(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return mp_call_fail(call, "bad argument");
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

static int fail_with_code(mp_call *call) {
  (void)call;
  mp_call_fail(call, "failed on purpose: %d", 42);
  return 17;
}

static int segfault(mp_call *call) {
  (void)call;
  tu_segfault();
  return 0;
}

static int do_abort(mp_call *call) {
  (void)call;
  abort();
}

static int exit_3(mp_call *call) {
  (void)call;
  exit(3);
}

static int sleep_long(mp_call *call) {
  (void)call;
  mp__sleep(60);
  return 0;
}

static int echo(mp_call *call) {
  size_t len;
  const void *p = mp_call_arg(call, &len);
  return mp_call_return(call, p, len);
}

/* Returns a result of the size asked for, filled with a pattern. */
static int big_result(mp_call *call) {
  uint64_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return 1;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) return 2;
  for (uint64_t i = 0; i < n; i++) buf[i] = (unsigned char)(i * 7 + 3);
  int rc = mp_call_return(call, buf, n);
  free(buf);
  return rc;
}

/* The handle value it gets must mean nothing here. */
static int handle_is_not_inherited(mp_call *call) {
  int64_t h;
  if (mp_call_arg_read(call, &h, sizeof h) != MP_OK) return 1;
  int valid = mp__handle_valid((mp__handle)h);
  return mp_call_return(call, &valid, sizeof valid);
}

/* Hostile children: a frame with a bad magic, or half a frame then exit. */
/* 0 when the task starts with the default handling of the signals its
 * parent catches in parent_handlers_stay_in_the_parent; otherwise the
 * first one that is not (signal() answers with the handler it replaces,
 * and is standard C, so Windows too). SIGSEGV and SIGABRT are not asked
 * about: a Windows worker catches SIGABRT itself, to exit as -6, and
 * crashes_read_as_signals covers them under cmocka's own handlers. */
static int signals_are_default(mp_call *call) {
  (void)call;
  const int sigs[] = {SIGTERM, SIGINT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (signal(sigs[i], SIG_DFL) != SIG_DFL) return sigs[i];
  return 0;
}

static void parent_handler(int sig) { (void)sig; }

/* Junk where a result belongs. */
static int garbage_result(mp_call *call) {
  char junk[64];
  memset(junk, 'z', sizeof junk);
  mp__call_scribble_result(call, junk, sizeof junk);
  mp__worker_exit(0);
  return 0;
}

/* A result begun and never finished: its header, not its `done`. */
static int torn_result(mp_call *call) {
  mp__result_head h;
  memset(&h, 0, sizeof h);
  h.magic = MP__RESULT_MAGIC;
  h.len = 1000;
  mp__call_scribble_result(call, &h, sizeof h);
  mp__worker_exit(0);
  return 0;
}

static void square_comes_back(void **state) {
  (void)state;
  int64_t x = 12;
  int code = -1;
  mp_result r = tu_run("square", &x, sizeof x, &code);
  assert_int_equal(r.status, MP_OK);
  assert_int_equal(code, 0);
  assert_int_equal(r.len, sizeof x);
  assert_true(*(int64_t *)r.data == 144);
  assert_null(r.message);
  mp_result_clear(&r);
}

static void a_failing_task_reports_code_and_message(void **state) {
  (void)state;
  int code = -1;
  mp_result r = tu_run("fail_with_code", NULL, 0, &code);
  assert_int_equal(r.status, MP_ETASK);
  assert_int_equal(r.task_code, 17);
  assert_int_equal(code, 1);
  assert_string_equal(r.message, "failed on purpose: 42");
  assert_null(r.data);
  mp_result_clear(&r);
}

static void crashes_read_as_signals(void **state) {
  (void)state;
  struct {
    const char *task;
    int code;
  } cases[] = {{"segfault", -11}, {"do_abort", -6}};
  for (size_t i = 0; i < 2; i++) {
    int code = 0;
    mp_result r = tu_run(cases[i].task, NULL, 0, &code);
    assert_int_equal(r.status, MP_ECRASHED);
    assert_int_equal(code, cases[i].code);
    assert_non_null(r.message);
    char want[32];
    snprintf(want, sizeof want, "signal %d", -cases[i].code);
    assert_non_null(strstr(r.message, want));
    assert_non_null(strstr(r.message, cases[i].task));
    mp_result_clear(&r);
  }
}

/* A parent's own handlers (a graceful SIGTERM, a SIGINT) must not run in
 * its children: terminate still reads -15, and the task finds defaults. */
static void parent_handlers_stay_in_the_parent(void **state) {
  (void)state;
  void (*old_term)(int) = signal(SIGTERM, parent_handler);
  void (*old_int)(int) = signal(SIGINT, parent_handler);
  int code = -1;
  mp_result r = tu_run("signals_are_default", NULL, 0, &code);
  assert_int_equal(r.status, MP_OK);
  assert_int_equal(code, 0);
  mp_result_clear(&r);
  mp_process *p;
  TU_CHECK(mp_process_start(&p, "sleep_long", NULL, 0, NULL), MP_OK);
  TU_CHECK(mp_process_terminate(p), MP_OK);
  TU_CHECK(mp_process_join(p, 10), MP_OK);
  TU_CHECK(mp_process_exitcode(p, &code), MP_OK);
  assert_int_equal(code, -15);
  mp_process_free(p);
  signal(SIGTERM, old_term);
  signal(SIGINT, old_int);
}

static void exit_without_result_is_a_crash(void **state) {
  (void)state;
  int code = 0;
  mp_result r = tu_run("exit_3", NULL, 0, &code);
  assert_int_equal(r.status, MP_ECRASHED);
  assert_int_equal(code, 3);
  assert_non_null(strstr(r.message, "exited with code 3"));
  mp_result_clear(&r);
}

/* An atexit handler of the parent's, inherited by fork children: it
 * counts in shared memory each time it runs in one of them. */
static volatile uint32_t *exit_handler_runs;
static int64_t exit_handler_owner;
static void count_exit_handler(void) {
  if (exit_handler_runs && mp_getpid() != exit_handler_owner) (*exit_handler_runs)++;
}

static void a_task_that_calls_exit_runs_none_of_the_parent_s_handlers(void **state) {
  (void)state;
  mp_shm *shm;
  TU_CHECK(mp_shm_create(&shm, sizeof(uint32_t)), MP_OK);
  exit_handler_runs = mp_shm_ptr(shm);
  exit_handler_owner = mp_getpid();
  static int registered;
  if (!registered++) atexit(count_exit_handler);
  int code = 0;
  mp_result r = tu_run("exit_3", NULL, 0, &code);
  assert_int_equal(code, 3);
  mp_result_clear(&r);
#if defined(__GLIBC__) && !defined(MPROC_PORTABLE_POSIX)
  assert_int_equal(*exit_handler_runs, 0); /* exit(3) ended it as a return would */
#endif
  exit_handler_runs = NULL;
  mp_shm_free(shm);
}

#ifndef _WIN32
/* A program that ignores SIGCHLD has its children reaped by the kernel:
 * joining still works, a result still arrives, and only what no result
 * can say (a crash's signal) reads as lost. */
static void children_of_a_program_that_ignores_sigchld(void **state) {
  (void)state;
  void (*old)(int) = signal(SIGCHLD, SIG_IGN);
  int64_t x = 7;
  mp_process *p;
  TU_CHECK(mp_process_start(&p, "square", &x, sizeof x, NULL), MP_OK);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  mp_result r;
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  assert_int_equal(r.len, sizeof x);
  int code = -1;
  TU_CHECK(mp_process_exitcode(p, &code), MP_OK);
  assert_int_equal(code, 0);
  mp_result_clear(&r);
  mp_process_free(p);
  TU_CHECK(mp_process_start(&p, "segfault", NULL, 0, NULL), MP_OK);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  assert_int_equal(r.status, MP_ECRASHED);
  assert_non_null(strstr(r.message, "SIGCHLD"));
  TU_CHECK(mp_process_exitcode(p, &code), MP_ESYS);
  assert_int_equal(mp_process_is_alive(p), 0);
  mp_result_clear(&r);
  mp_process_free(p);
  signal(SIGCHLD, old);
}
#endif

static void unknown_task_is_refused_at_start(void **state) {
  (void)state;
  mp_process *p = (mp_process *)1;
  TU_CHECK(mp_process_start(&p, "no_such_task", NULL, 0, NULL), MP_ENOTASK);
  assert_null(p);
  assert_non_null(strstr(mp_last_error(), "no_such_task"));
  char long_name[200];
  memset(long_name, 'q', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  TU_CHECK(mp_process_start(&p, long_name, NULL, 0, NULL), MP_ENOTASK);
}

static void bad_arguments_are_refused(void **state) {
  (void)state;
  mp_process *p = NULL;
  int x = 0;
  TU_CHECK(mp_process_start(NULL, "square", NULL, 0, NULL), MP_EINVAL);
  TU_CHECK(mp_process_start(&p, NULL, NULL, 0, NULL), MP_EINVAL);
  TU_CHECK(mp_process_start(&p, "square", NULL, 8, NULL), MP_EINVAL);
  TU_CHECK(mp_process_start(&p, "square", &x, MP_MAX_MESSAGE + 1, NULL), MP_ETOOBIG);
  TU_CHECK(mp_process_start(&p, "square", &x, SIZE_MAX, NULL), MP_ETOOBIG);
  mp_process_options o = {0};
  o.nobjects = 1;
  TU_CHECK(mp_process_start(&p, "square", NULL, 0, &o), MP_EINVAL);
  mp_object *none[1] = {NULL};
  o.objects = none;
  TU_CHECK(mp_process_start(&p, "square", NULL, 0, &o), MP_EINVAL);
  int code;
  mp_result r;
  TU_CHECK(mp_process_join(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_process_exitcode(NULL, &code), MP_EINVAL);
  TU_CHECK(mp_process_result(NULL, &r), MP_EINVAL);
  TU_CHECK(mp_process_terminate(NULL), MP_EINVAL);
  TU_CHECK(mp_process_kill(NULL), MP_EINVAL);
  assert_int_equal(mp_process_is_alive(NULL), 0);
  assert_true(mp_process_pid(NULL) == 0);
  assert_null(mp_process_free(NULL));
}

static void join_times_out_then_terminate_and_kill(void **state) {
  (void)state;
  int sigs[2] = {15, 9};
  for (int i = 0; i < 2; i++) {
    mp_process *p = NULL;
    TU_CHECK(mp_process_start(&p, "sleep_long", NULL, 0, NULL), MP_OK);
    assert_true(mp_process_pid(p) > 0);
    double t0 = mp__now();
    TU_CHECK(mp_process_join(p, 0.2), MP_ETIMEDOUT);
    double waited = mp__now() - t0;
    assert_true(waited >= 0.19 && waited < 5);
    TU_CHECK(mp_process_join(p, 0), MP_ETIMEDOUT);
    assert_int_equal(mp_process_is_alive(p), 1);
    int code;
    mp_result r;
    TU_CHECK(mp_process_exitcode(p, &code), MP_ESTATE);
    TU_CHECK(mp_process_result(p, &r), MP_ESTATE);
    TU_CHECK(i == 0 ? mp_process_terminate(p) : mp_process_kill(p), MP_OK);
    TU_CHECK(mp_process_join(p, 30), MP_OK);
    assert_int_equal(mp_process_is_alive(p), 0);
    TU_CHECK(mp_process_exitcode(p, &code), MP_OK);
    assert_int_equal(code, -sigs[i]);
    TU_CHECK(mp_process_result(p, &r), MP_OK);
    assert_int_equal(r.status, MP_ECRASHED);
    mp_result_clear(&r);
    TU_CHECK(mp_process_terminate(p), MP_OK); /* already ended: nothing to do */
    TU_CHECK(mp_process_join(p, 0), MP_OK);
    mp_process_free(p);
  }
}

static void free_kills_and_reaps_a_live_child(void **state) {
  (void)state;
  mp_process *p = NULL;
  TU_CHECK(mp_process_start(&p, "sleep_long", NULL, 0, NULL), MP_OK);
  int64_t pid = mp_process_pid(p);
  assert_true(mp__pid_alive(pid));
  double t0 = mp__now();
  mp_process_free(p);
  assert_true(mp__now() - t0 < 5);
  /* Reaped, so not even a zombie remains. */
  assert_false(mp__pid_alive(pid));
}

static void sizes_from_zero_to_large(void **state) {
  (void)state;
  size_t sizes[] = {0, 1, 65537, tu_scale((size_t)16 << 20, (size_t)2 << 20)};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *arg = malloc(sizes[i] ? sizes[i] : 1);
    for (size_t k = 0; k < sizes[i]; k++) arg[k] = (unsigned char)(k * 13);
    mp_result r = tu_run("echo", arg, sizes[i], NULL);
    assert_int_equal(r.status, MP_OK);
    assert_int_equal(r.len, sizes[i]);
    if (sizes[i]) assert_memory_equal(r.data, arg, sizes[i]);
    else assert_null(r.data); /* the header: NULL if the task gave none */
    mp_result_clear(&r);
    free(arg);
  }
  uint64_t n = tu_scale((size_t)64 << 20, (size_t)4 << 20); /* a result far larger than the argument */
  mp_result r = tu_run("big_result", &n, sizeof n, NULL);
  assert_int_equal(r.status, MP_OK);
  assert_true(r.len == n);
  const unsigned char *d = r.data;
  for (uint64_t i = 0; i < n; i += 4093) assert_int_equal(d[i], (unsigned char)(i * 7 + 3));
  mp_result_clear(&r);
}

static void unshared_handles_stay_behind(void **state) {
  (void)state;
  /* A child has descriptors of its own (stdio, the liveness pipe, its
   * result pipe), at low numbers; open pipes until ours are well above
   * them, so a match in the child cannot be a coincidence of numbering.
   * Below 256, macOS's default limit of descriptors (the portable leg
   * runs under it too). */
  enum { MAX_PIPES = 200 };
  mp__handle rd[MAX_PIPES], wr[MAX_PIPES];
  int n = 0;
  do {
    TU_CHECK(mp__pipe(&rd[n], &wr[n]), MP_OK);
    n++;
  } while (n < MAX_PIPES && (rd[n - 1] < 128 || wr[n - 1] < 128));
  int64_t values[2] = {(int64_t)rd[n - 1], (int64_t)wr[n - 1]};
  for (int i = 0; i < 2; i++) {
    assert_true(mp__handle_valid((mp__handle)values[i]));
    mp_result r = tu_run("handle_is_not_inherited", &values[i], sizeof values[i], NULL);
    assert_int_equal(r.status, MP_OK);
    assert_int_equal(*(int *)r.data, 0);
    mp_result_clear(&r);
  }
  for (int i = 0; i < n; i++) {
    mp__handle_close(rd[i]);
    mp__handle_close(wr[i]);
  }
}

static void malformed_and_torn_results_are_reported(void **state) {
  (void)state;
  int code = -1;
  mp_result r = tu_run("garbage_result", NULL, 0, &code);
  assert_int_equal(r.status, MP_EPROTO);
  assert_non_null(strstr(r.message, "malformed"));
  mp_result_clear(&r);
  r = tu_run("torn_result", NULL, 0, &code);
  assert_int_equal(r.status, MP_ECRASHED);
  assert_int_equal(code, 0);
  mp_result_clear(&r);
}

static void many_processes_at_once(void **state) {
  (void)state;
  enum { N = 32 };
  mp_process *ps[N];
  for (int64_t i = 0; i < N; i++) TU_CHECK(mp_process_start(&ps[i], "square", &i, sizeof i, NULL), MP_OK);
  for (int64_t i = N - 1; i >= 0; i--) {
    mp_result r;
    TU_CHECK(mp_process_join(ps[i], 60), MP_OK);
    TU_CHECK(mp_process_result(ps[i], &r), MP_OK);
    assert_int_equal(r.status, MP_OK);
    assert_true(*(int64_t *)r.data == i * i);
    mp_result_clear(&r);
    mp_process_free(ps[i]);
  }
}

int main(int argc, char **argv) {
  MP_REGISTER(square);
  MP_REGISTER(fail_with_code);
  MP_REGISTER(segfault);
  MP_REGISTER(do_abort);
  MP_REGISTER(exit_3);
  MP_REGISTER(sleep_long);
  MP_REGISTER(echo);
  MP_REGISTER(big_result);
  MP_REGISTER(handle_is_not_inherited);
  MP_REGISTER(garbage_result);
  MP_REGISTER(torn_result);
  MP_REGISTER(signals_are_default);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(square_comes_back),
      TU_TEST(a_failing_task_reports_code_and_message),
      TU_TEST(crashes_read_as_signals),
      TU_TEST(parent_handlers_stay_in_the_parent),
      TU_TEST(exit_without_result_is_a_crash),
      TU_TEST(a_task_that_calls_exit_runs_none_of_the_parent_s_handlers),
#ifndef _WIN32
      TU_TEST(children_of_a_program_that_ignores_sigchld),
#endif
      TU_TEST(unknown_task_is_refused_at_start),
      TU_TEST(bad_arguments_are_refused),
      TU_TEST(join_times_out_then_terminate_and_kill),
      TU_TEST(free_kills_and_reaps_a_live_child),
      TU_TEST(sizes_from_zero_to_large),
      TU_TEST(unshared_handles_stay_behind),
      TU_TEST(malformed_and_torn_results_are_reported),
      TU_TEST(many_processes_at_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
