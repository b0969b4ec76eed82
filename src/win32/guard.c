/* A task's call, fenced against C++ exceptions (see src/posix/guard.c for
 * why: an exception must never unwind past the worker into code below).
 *
 * MSVC: C++ exceptions are structured exceptions (code 0xE06D7363), so an
 * __except filter in this C frame catches every one the task lets out,
 * whatever is below.
 *
 * MinGW (GCC): as on POSIX, a cleanup in this frame (the file is built
 * with -fexceptions) ends the process when the unwinder, having found a
 * handler below, comes through. When nothing below would catch it, the
 * C++ runtime calls std::terminate, which aborts; PE has no weak symbol
 * to reach std::set_terminate by, so a SIGABRT handler, set while a task
 * runs, reports it instead. */
#include <signal.h>
#include <stdlib.h>

#include "win32.h"

#if defined(_MSC_VER)
#define CPP_EXCEPTION 0xE06D7363u

static int filter(DWORD code) { return code == CPP_EXCEPTION ? EXCEPTION_EXECUTE_HANDLER : EXCEPTION_CONTINUE_SEARCH; }

int mp__task_call(mp_task_fn fn, mp_call *call, mp__escape_fn escaped) {
  int r = 0;
  __try {
    r = fn(call);
  } __except (filter(GetExceptionCode())) {
    escaped(call);
    mp__worker_exit(1);
  }
  return r;
}

int mp__task_aborted(void) { return 0; }
#else
static mp__escape_fn escape_now;
static mp_call *call_now;
static volatile int aborted_in_task;

static void on_abort(int sig) {
  (void)sig;
  if (escape_now) {
    aborted_in_task = 1;
    escape_now(call_now);
  }
  /* As the worker's own handler does: end as "signal 6", whichever way
   * the task came to abort. */
  TerminateProcess(GetCurrentProcess(), MP__WIN_SIGNAL_EXIT_BASE | 6u);
}

typedef struct fence {
  mp_call *call;
  mp__escape_fn escaped;
  int returned;
} fence;

static void on_unwind(fence *f) {
  if (f->returned) return;
  f->escaped(f->call);
  mp__worker_exit(1);
}

__attribute__((noinline)) int mp__task_call(mp_task_fn fn, mp_call *call, mp__escape_fn escaped) {
  static int installed;
  if (!installed) {
    installed = 1;
    signal(SIGABRT, on_abort);
  }
  escape_now = escaped;
  call_now = call;
  fence f __attribute__((cleanup(on_unwind))) = {call, escaped, 0};
  int r = fn(call);
  f.returned = 1;
  escape_now = NULL;
  return r;
}

int mp__task_aborted(void) { return aborted_in_task; }
#endif
