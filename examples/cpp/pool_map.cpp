// The tutorial's Pool example in C++: pool.map of a factorial over a
// vector. The pool splits the numbers into chunks for its workers and
// gives the results back in input order.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "mproc.hpp"

static std::uint64_t calculate_factorial(std::int64_t n) {
  if (n < 0 || n > 20) throw std::domain_error(std::to_string(n) + "! does not fit in 64 bits");
  std::printf("Worker process %lld calculating factorial for %lld\n", static_cast<long long>(mp::getpid()),
              static_cast<long long>(n));
  std::fflush(stdout);
  std::uint64_t result = 1;
  for (std::int64_t i = 1; i <= n; i++) result *= static_cast<std::uint64_t>(i);
  return result;
}
MPROC_TASK(calculate_factorial);

int main(int argc, char **argv) try {
  mp::main(argc, argv); // the main guard: workers never get past it

  const std::vector<std::int64_t> numbers{5, 10, 15, 20};
  mp::pool pool; // one worker per CPU, the default start method
  std::printf("Starting parallel calculations...\n");
  std::fflush(stdout);
  // Blocks until every item is done; results[i] belongs to numbers[i].
  std::vector<std::uint64_t> results = pool.map(calculate_factorial_task, numbers);

  std::printf("\n--- Results ---\n");
  for (std::size_t i = 0; i < numbers.size(); i++)
    std::printf("Factorial of %lld is %llu\n", static_cast<long long>(numbers[i]),
                static_cast<unsigned long long>(results[i]));
  std::printf("All calculations done.\n");
  return 0;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
