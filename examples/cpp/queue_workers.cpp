// The tutorial's Queue example in C++: four worker processes each put
// number * number on a shared queue; the parent collects the results.
// close() stands in for the `while not queue.empty()` loop: after it, a
// get drains what is queued and then finds nothing (try_get's nullopt).
#include <cstdint>
#include <cstdio>
#include <vector>

#include "mproc.hpp"

// The worker puts its result in the queue it was handed (object 0).
static void worker(std::int64_t number, mp::context &ctx) {
  mp::queue queue = ctx.queue(0); // the call's: nothing is freed here
  std::printf("Worker %lld: Starting for number %lld\n", static_cast<long long>(mp::getpid()),
              static_cast<long long>(number));
  std::int64_t result = number * number;
  std::printf("Worker %lld: Finished, putting result %lld in queue\n", static_cast<long long>(mp::getpid()),
              static_cast<long long>(result));
  queue.put(result);
}
MPROC_TASK(worker);

int main(int argc, char **argv) try {
  mp::main(argc, argv);

  const std::vector<std::int64_t> numbers{1, 2, 3, 4};
  mp::queue result_queue;
  // The queue is listed in each process's options: that is how a child
  // gets it (ctx.queue(0) inside the worker).
  mp::process_options opts;
  opts.objects = {result_queue.obj()};
  std::vector<mp::process> processes;
  for (std::int64_t n : numbers) processes.emplace_back(worker_task, n, opts);

  // Wait for all processes to finish: their results are already in the
  // queue's shared memory, so this cannot deadlock however much they put.
  for (auto &p : processes) p.join();
  std::printf("\nAll worker processes have finished.\n");

  std::printf("Collecting results from the queue...\n");
  result_queue.close();
  std::int64_t total = 0;
  while (auto result = result_queue.try_get<std::int64_t>(mp::forever)) {
    std::printf("Got result from queue: %lld\n", static_cast<long long>(*result));
    total += *result;
  }
  std::printf("Sum of squares: %lld\n", static_cast<long long>(total));
  return total == 30 ? 0 : 1;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
