// The README's program in C++: one child squares a number.
#include <cstdio>

#include "mproc.hpp"

static long long square(long long x) { return x * x; } // runs in a child process
MPROC_TASK(square);                                    // 1. name the work (square_task)

int main(int argc, char **argv) try {
  mp::main(argc, argv); // 2. the main guard

  mp::process p(square_task, 12); // 3. a child runs it
  std::printf("12 squared is %lld\n", p.get<long long>());
  return 0;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
