/* The worker side of the Windows backend: crash reporting that reads like
 * POSIX signals, and no dialog boxes or debuggers when a task crashes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "win32.h"

/* A crash ends the worker at once with the exception's own status, which
 * the parent maps to a signal number (-11 for an access violation). This
 * replaces the C runtime's filter and, under Wine, keeps winedbg away. */
static LONG WINAPI end_on_crash(EXCEPTION_POINTERS *info) {
  DWORD code = info && info->ExceptionRecord ? info->ExceptionRecord->ExceptionCode : 0xC0000005u;
  TerminateProcess(GetCurrentProcess(), code);
  return EXCEPTION_EXECUTE_HANDLER;
}

/* abort() raises SIGABRT first: end as "signal 6" before the runtime's
 * message box or its exit code 3, which a plain exit(3) also gives. */
static void end_on_abort(int sig) {
  (void)sig;
  TerminateProcess(GetCurrentProcess(), MP__WIN_SIGNAL_EXIT_BASE | 6u);
}

int mp__worker_init_spawned(void) {
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  SetUnhandledExceptionFilter(end_on_crash);
  signal(SIGABRT, end_on_abort);
#if defined(_MSC_VER)
  _set_abort_behavior(0, _WRITE_ABORT_MSG | _CALL_REPORTFAULT);
#endif
  /* Dying with the parent needs nothing here: the parent's job object
   * ends this process when the parent goes. */
  return MP_OK;
}

#if defined(MPROC_COVERAGE)
void __gcov_dump(void); /* libgcov's: this process's counts, written now */
#endif

void mp__worker_exit(int code) {
  fflush(stdout);
  fflush(stderr);
#if defined(MPROC_COVERAGE)
  __gcov_dump(); /* _exit below skips the atexit handler that would */
#endif
  /* Like _exit on POSIX: no atexit handlers of the program's. */
  _exit(code);
}

void mp__flush_stdio(void) {
  fflush(stdout);
  fflush(stderr);
}

void mp__worker_fence_exit(void) {} /* no on_exit: the CRT's exit() runs what it would */

void mp__worker_set_name(int pool_worker) {
  (void)pool_worker; /* the command line names the program (spawn.c) */
}

void mp__worker_guard_handles(const mp__handle *h, size_t n, size_t nclose) {
  (void)nclose; /* no fork here: not being inheritable is all it takes */
  for (size_t i = 0; i < n; i++)
    if (h[i] != MP__NO_HANDLE) SetHandleInformation(MP__HANDLE_OF(h[i]), HANDLE_FLAG_INHERIT, 0);
}
