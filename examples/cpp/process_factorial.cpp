// The tutorial's first example in C++: one Process per number, each
// computing a factorial in parallel; the parent starts them all, then
// joins them.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "mproc.hpp"

// A CPU-bound task: n in, n! out. An exception is the task's failure.
static std::uint64_t calculate_factorial(std::int64_t n) {
  if (n < 0 || n > 20) throw std::domain_error(std::to_string(n) + "! does not fit in 64 bits");
  std::printf("Process %lld: Calculating factorial for %lld\n", static_cast<long long>(mp::getpid()),
              static_cast<long long>(n));
  std::uint64_t result = 1;
  for (std::int64_t i = 1; i <= n; i++) result *= static_cast<std::uint64_t>(i);
  return result;
}
MPROC_TASK(calculate_factorial);

int main(int argc, char **argv) try {
  mp::main(argc, argv); // the main guard: workers never get past it

  const std::vector<std::int64_t> numbers{5, 10, 15, 20};
  std::printf("Main process ID: %lld\n", static_cast<long long>(mp::getpid()));
  std::vector<mp::process> processes;
  for (std::int64_t n : numbers) {
    processes.emplace_back(calculate_factorial_task, n);
    std::printf("Started process %lld\n", static_cast<long long>(processes.back().pid()));
  }
  std::fflush(stdout);

  int failures = 0;
  for (std::size_t i = 0; i < numbers.size(); i++) {
    try {
      std::uint64_t f = processes[i].get<std::uint64_t>(); // joins it
      std::printf("Factorial of %lld is %llu\n", static_cast<long long>(numbers[i]),
                  static_cast<unsigned long long>(f));
    } catch (const mp::task_error &e) {
      std::printf("Factorial of %lld failed: %s\n", static_cast<long long>(numbers[i]), e.what());
      failures++;
    }
  }
  std::printf("All processes have completed.\n");
  return failures ? 1 : 0;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
