// mproc.hpp's registration before main(): MPROC_TASK cannot throw while
// the program's static objects are made, so a failed registration (here a
// name used twice) is kept and mp::main throws it, code and sentence,
// before it would run as a program whose children lack the task.
#include <cstdio>
#include <cstring>

#include "mproc.hpp"

static int one() { return 1; }
static int two() { return 2; }
MPROC_TASK_NAMED(first, "same_name", one);
MPROC_TASK_NAMED(second, "same_name", two); // refused: the name is taken

int main(int argc, char **argv) {
  try {
    mp::main(argc, argv);
  } catch (const mp::error &e) {
    const bool ok = e.code() == MP_EINVAL && std::strstr(e.what(), "same_name") != nullptr &&
                    std::strstr(e.what(), "already registered") != nullptr;
    std::printf("mp::main threw %s: %s\n", e.name(), e.what());
    return ok ? 0 : 1;
  }
  std::printf("mp::main did not throw\n");
  return 1;
}
