/* A task's call, fenced against C++ exceptions.
 *
 * A task is user code and may be C++. An exception it lets escape unwinds
 * through our C frames (GCC and clang give them unwind tables), and in a
 * fork child the frames below ours are the parent's: a catch in main()
 * would catch it there, and the child would go on running the parent's
 * program. So this file is compiled with -fexceptions and the call holds
 * a variable with a cleanup: when the unwinder, having found a handler
 * below, comes through this frame, the cleanup runs first and the escape
 * function ends the process before any frame below is reached. When no
 * handler exists anywhere, the unwinder does not unwind at all and calls
 * std::terminate: a terminate handler, installed through the C++
 * runtime's own std::set_terminate when the program has one, reports the
 * same way. */
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "posix.h"

typedef void (*terminate_handler)(void);

#if !defined(__APPLE__)
/* std::set_terminate by its Itanium C++ ABI name: present exactly when
 * the program links a C++ runtime (then it is also the only way an
 * exception can exist). */
extern terminate_handler _ZSt13set_terminatePFvvE(terminate_handler) __attribute__((weak));
#endif

static mp__escape_fn escape_now;
static mp_call *call_now;

static void on_terminate(void) {
  if (escape_now) escape_now(call_now);
  mp__worker_exit(1);
}

static void install_terminate_handler(void) {
  static int done;
  if (done) return;
  done = 1;
#if defined(__APPLE__)
  terminate_handler (*set)(terminate_handler) = NULL;
  void *sym = dlsym(RTLD_DEFAULT, "_ZSt13set_terminatePFvvE");
  if (sym) memcpy(&set, &sym, sizeof set); /* ISO C has no cast from data to function pointer */
#else
  terminate_handler (*set)(terminate_handler) = _ZSt13set_terminatePFvvE;
#endif
  if (set) set(on_terminate);
}

typedef struct fence {
  mp_call *call;
  mp__escape_fn escaped;
  int returned;
} fence;

static void on_unwind(fence *f) {
  if (f->returned) return;
  f->escaped(f->call);
  mp__worker_exit(1); /* before any frame below runs */
}

__attribute__((noinline)) int mp__task_call(mp_task_fn fn, mp_call *call, mp__escape_fn escaped) {
  install_terminate_handler();
  escape_now = escaped;
  call_now = call;
  fence f __attribute__((cleanup(on_unwind))) = {call, escaped, 0};
  int r = fn(call);
  f.returned = 1;
  escape_now = NULL;
  return r;
}

int mp__task_aborted(void) { return 0; /* a terminate handler tells an escape exactly */ }
