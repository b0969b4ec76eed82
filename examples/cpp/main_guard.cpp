// The main guard, and why it exists, in C++. A child started with the
// spawn method is a fresh run of this program: it runs main() again from
// the top, up to mp::main(), which runs the child's task and exits. An
// mproc object made before mp::main() is refused (mp::error
// MP_EBOOTSTRAP), on every platform.
#include <cstdio>

#include "mproc.hpp"

static void hello() {
  std::printf("Process %lld: running the task\n", static_cast<long long>(mp::getpid()));
  std::fflush(stdout);
}
MPROC_TASK(hello); // registered before main() runs, in the parent and in every child

int main(int argc, char **argv) try {
  // Runs in the parent, and again in every spawned child.
  std::printf("Process %lld: main() starts\n", static_cast<long long>(mp::getpid()));
  std::fflush(stdout);

  // Too early: refused, with a message that names the fix.
  try {
    mp::process early(hello_task);
  } catch (const mp::error &e) {
    std::printf("Process %lld: before mp::main(), mp::process says %s:\n  %s\n",
                static_cast<long long>(mp::getpid()), e.name(), e.what());
    std::fflush(stdout);
  }

  mp::main(argc, argv); // the guard: a child runs its task in here and exits

  // The parent only, from here on.
  std::printf("Parent %lld: past the guard, starting a child\n", static_cast<long long>(mp::getpid()));
  std::fflush(stdout);
  mp::process_options opts;
  opts.method = mp::start_method::spawn; // a fresh run of this program, as on Windows
  mp::process p(hello_task, opts);
  p.join();
  int code = p.exitcode();
  std::printf("Parent %lld: the child has finished (exit code %d)\n", static_cast<long long>(mp::getpid()), code);
  return code;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
