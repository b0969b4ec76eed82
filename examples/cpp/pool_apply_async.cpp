// The tutorial's apply_async example in C++: submit every task without
// waiting, do other work, then collect each result (waiting only for the
// ones not yet done). A failed task is an exception, not a crash.
#include <cstdint>
#include <cstdio>
#include <optional>
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
  mp::main(argc, argv);

  const std::vector<std::int64_t> numbers{5, 10, 15, 20};
  mp::pool pool;
  std::printf("Starting non-blocking parallel calculations...\n");
  std::vector<mp::async_result<std::uint64_t>> pending;
  // Each returns at once: the pool hands the task to a worker.
  for (std::int64_t n : numbers) pending.push_back(pool.apply_async(calculate_factorial_task, n));
  std::printf("All tasks submitted. Main process can do other work here...\n");
  std::fflush(stdout);

  std::vector<std::optional<std::uint64_t>> results;
  for (auto &job : pending) {
    try {
      results.push_back(job.get()); // like AsyncResult.get(): waits for this one only
    } catch (const mp::error &e) {
      std::printf("An error occurred: %s\n", e.what());
      results.push_back(std::nullopt);
    }
  }

  std::printf("\n--- Results ---\n");
  for (std::size_t i = 0; i < numbers.size(); i++)
    if (results[i])
      std::printf("Factorial of %lld is %llu\n", static_cast<long long>(numbers[i]),
                  static_cast<unsigned long long>(*results[i]));
  std::printf("All calculations done.\n");
  return 0;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
