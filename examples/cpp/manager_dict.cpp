// The tutorial's Manager in C++: a server process holds a dict; worker
// processes record their results in it through proxies, and the parent
// reads them. dict::add counts finished workers in one atomic step in the
// server, so no increment is ever lost.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "mproc.hpp"

static std::string key_for(std::int64_t n) { return "factorial-" + std::to_string(n); }

// Computes n! and stores it in the shared dict "results".
static void worker(std::int64_t n, mp::context &ctx) {
  if (n < 0 || n > 20) throw std::domain_error("expected an int64_t from 0 to 20");
  std::uint64_t result = 1;
  for (std::int64_t i = 2; i <= n; i++) result *= static_cast<std::uint64_t>(i);

  mp::dict results = ctx.manager(0).dict("results"); // a proxy: the data stays in the server
  results.set(key_for(n), result);
  results.add("done", 1);
  std::printf("Worker %lld: stored %s\n", static_cast<long long>(mp::getpid()), key_for(n).c_str());
}
MPROC_TASK(worker);

int main(int argc, char **argv) try {
  mp::main(argc, argv);

  mp::manager manager;
  const std::vector<std::int64_t> numbers{5, 10, 15, 20};
  mp::process_options opts;
  opts.objects = {manager.obj()};
  std::vector<mp::process> processes;
  for (std::int64_t n : numbers) processes.emplace_back(worker_task, n, opts);
  for (auto &p : processes) p.join();
  std::fflush(stdout);

  mp::dict results = manager.dict("results");
  std::printf("--- Shared dict: %llu entries ---\n", static_cast<unsigned long long>(results.size()));
  int failures = 0;
  for (std::int64_t n : numbers) {
    if (auto f = results.try_get<std::uint64_t>(key_for(n))) {
      std::printf("Factorial of %lld is %llu\n", static_cast<long long>(n), static_cast<unsigned long long>(*f));
    } else {
      std::printf("Factorial of %lld: no result\n", static_cast<long long>(n));
      failures++;
    }
  }
  std::int64_t done = results.add("done", 0);
  std::printf("Workers finished: %lld\n", static_cast<long long>(done));
  return failures || done != static_cast<std::int64_t>(numbers.size()) ? 1 : 0;
} catch (const mp::error &e) { // the manager's server ends with its wrapper
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
