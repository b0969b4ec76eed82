#define _CRT_SECURE_NO_WARNINGS /* getenv is fine here (MSVC deprecates it) */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <psapi.h>
#else
#include <sys/resource.h>
#endif

void tu_main(int argc, char **argv) {
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    exit(2);
  }
  /* MPROC_TEST_FILTER=name runs the tests whose names match (cmocka's
   * pattern: * and ?), for a quick look at one. */
  const char *only = getenv("MPROC_TEST_FILTER");
  if (only && *only) cmocka_set_test_filter(only);
}

void tu_check(int rc, int want, const char *expr, const char *file, int line) {
  if (rc == want) return;
  print_error("%s:%d: %s gave %s (%d), expected %s: %s\n", file, line, expr, mp_err_name(rc), rc,
              mp_err_name(want), mp_last_error());
  fail();
}

int tu_wait_gone(int64_t pid, double seconds) {
  double end = mp__now() + seconds;
  while (mp__pid_alive(pid)) {
    if (mp__now() > end) return 0;
    mp__sleep(0.01);
  }
  return 1;
}

mp_result tu_run(const char *task, const void *arg, size_t len, int *exitcode) {
  mp_process *p = NULL;
  mp_result r;
  memset(&r, 0, sizeof r);
  TU_CHECK(mp_process_start(&p, task, arg, len, NULL), MP_OK);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  if (exitcode) TU_CHECK(mp_process_exitcode(p, exitcode), MP_OK);
  mp_process_free(p);
  return r;
}

mp_process *tu_start(const char *task, mp_object *const *objs, size_t n, const void *arg, size_t len) {
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = n;
  mp_process *p = NULL;
  TU_CHECK(mp_process_start(&p, task, arg, len, &o), MP_OK);
  return p;
}

mp_result tu_finish(mp_process *p, double timeout) {
  mp_result r;
  memset(&r, 0, sizeof r);
  TU_CHECK(mp_process_join(p, timeout), MP_OK);
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  if (r.status != MP_OK) print_error("child: %s\n", r.message ? r.message : "?");
  assert_int_equal(r.status, MP_OK);
  mp_process_free(p);
  return r;
}

int tu_finish_int(mp_process *p, double timeout) {
  mp_result r = tu_finish(p, timeout);
  int v = -1000;
  assert_int_equal(r.len, sizeof v);
  memcpy(&v, r.data, sizeof v);
  mp_result_clear(&r);
  return v;
}

void *tu_pattern(size_t n, unsigned seed) {
  unsigned char *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 131 + seed + (i >> 12));
  return p;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize("undefined"), noinline))
#endif
void tu_segfault(void) {
  /* Valgrind would report the write as an error of ours: there, the same
   * death without it. */
  if (tu_under_valgrind()) raise(SIGSEGV);
  volatile int *volatile p = NULL;
  *p = 1;
}

const char *tu_method(void) {
  const char *m = getenv("MPROC_START_METHOD");
  return m && *m ? m : "default";
}

static int handles_before;

int tu_setup(void **state) {
  (void)state;
  handles_before = mp__open_handle_count();
  return 0;
}

int tu_teardown(void **state) {
  (void)state;
  int strays = mp__stray_children();
  int after = mp__open_handle_count();
  int ok = 1;
  if (strays) {
    print_error("the test left %d child process(es) behind\n", strays);
    ok = 0;
  }
  if (after != handles_before) {
    print_error("the test leaked handles: %d open before, %d after\n", handles_before, after);
    ok = 0;
  }
  return ok ? 0 : -1;
}

uint64_t tu_peak_rss(void) {
#ifdef _WIN32
  PROCESS_MEMORY_COUNTERS pmc;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) return 0;
  return (uint64_t)pmc.PeakWorkingSetSize;
#else
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#if defined(__APPLE__)
  return (uint64_t)ru.ru_maxrss; /* bytes there */
#else
  return (uint64_t)ru.ru_maxrss * 1024; /* kilobytes */
#endif
#endif
}

int tu_sanitized(void) {
#if defined(MPROC_TEST_SANITIZED)
  return 1;
#else
  return 0;
#endif
}

int tu_under_valgrind(void) {
  const char *v = getenv("MPROC_TEST_VALGRIND");
  return v && strcmp(v, "1") == 0;
}

int tu_light(void) {
  const char *v = getenv("MPROC_TEST_LIGHT");
  return tu_under_valgrind() || (v && strcmp(v, "1") == 0);
}

size_t tu_scale(size_t full, size_t light) { return tu_light() ? light : full; }
