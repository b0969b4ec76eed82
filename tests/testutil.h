/* Shared by every suite: cmocka's includes in the order it needs them, and
 * small helpers. Each suite's main() registers its tasks and calls
 * mp_main() first, because spawned children re-enter it. */
#ifndef MPROC_TESTUTIL_H
#define MPROC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mproc.h"

/* mp_main, or exit with its message: a suite cannot run without it. */
void tu_main(int argc, char **argv);
/* Asserts rc == want, printing mp_last_error() when it is not. */
#define TU_CHECK(call, want) tu_check((call), (want), #call, __FILE__, __LINE__)
void tu_check(int rc, int want, const char *expr, const char *file, int line);
/* Waits up to seconds for pid to be gone; 1 if it is. */
int tu_wait_gone(int64_t pid, double seconds);
/* Starts task with arg and joins it; returns its result (caller clears). */
mp_result tu_run(const char *task, const void *arg, size_t len, int *exitcode);
/* Starts task with arg, handing it objs[0..n). */
mp_process *tu_start(const char *task, mp_object *const *objs, size_t n, const void *arg, size_t len);
/* Joins p (within timeout seconds), asserts its task succeeded (printing
 * its message if not), frees p; returns the result (caller clears). */
mp_result tu_finish(mp_process *p, double timeout);
/* tu_finish for a task that returns one int: that int. */
int tu_finish_int(mp_process *p, double timeout);
/* n bytes (at least 1 allocated) of a pattern that depends on seed and on
 * the position, so a misplaced or torn page shows; the caller frees. */
void *tu_pattern(size_t n, unsigned seed);
/* Per-test setup/teardown: the test must leave as many open handles as it
 * found and no child behind (running or zombie). Use TU_TEST(f). */
int tu_setup(void **state);
int tu_teardown(void **state);
#define TU_TEST(f) cmocka_unit_test_setup_teardown(f, tu_setup, tu_teardown)
/* Writes through a NULL pointer: a real access violation / SIGSEGV, even in
 * the sanitizer build (whose null check would otherwise end the process
 * with its own report and exit code instead). */
void tu_segfault(void);
/* The most memory this process has had resident, in bytes (0 if unknown). */
uint64_t tu_peak_rss(void);
/* 1 in a sanitizer build, whose shadow memory and quarantine make memory
 * figures meaningless. */
int tu_sanitized(void);
/* 1 when the suite runs under valgrind: scripts/test's valgrind leg sets
 * MPROC_TEST_VALGRIND=1. Everything there is 20 to 50 times slower, so
 * heavy tests take fewer rounds and smaller messages (what each checks
 * stays the same), and memory figures mean nothing. */
int tu_under_valgrind(void);
/* 1 under valgrind, and where MPROC_TEST_LIGHT=1: runs that want every
 * path taken, not every path taken many times (scripts/test's coverage
 * leg, and the msvc leg's second run of the suite under Wine). */
int tu_light(void);
/* full, or light where tu_light(). */
size_t tu_scale(size_t full, size_t light);
/* The start method this run uses (MPROC_START_METHOD), as a name. */
const char *tu_method(void);

#endif
