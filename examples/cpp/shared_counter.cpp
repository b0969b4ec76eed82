// A counter in shared memory, guarded by a Lock, in C++: four processes
// each add 1 to it 100 000 times, and the total is exactly 400 000. The
// increment is a plain read-modify-write: the lock alone keeps it exact.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "mproc.hpp"

constexpr int processes_n = 4;
constexpr int increments = 100000;

static void add_many(mp::context &ctx) {
  mp::lock lock = ctx.lock(0);
  auto *counter = ctx.shared_memory(1).as<std::int64_t>();
  for (int i = 0; i < increments; i++) {
    mp::lock_guard<mp::lock> hold(lock); // acquire now, release at the end of the scope
    *counter += 1;
  }
}
MPROC_TASK(add_many);

int main(int argc, char **argv) try {
  mp::main(argc, argv);

  mp::lock lock;
  mp::shared_memory memory(sizeof(std::int64_t)); // zero-filled
  auto *counter = memory.as<std::int64_t>();

  mp::process_options opts;
  opts.objects = {lock.obj(), memory.obj()};
  std::vector<mp::process> processes;
  for (int i = 0; i < processes_n; i++) processes.emplace_back(add_many_task, opts);
  bool failed = false;
  for (auto &p : processes) {
    p.join();
    failed |= p.exitcode() != 0;
  }

  std::int64_t total = *counter;
  std::printf("%d processes x %d increments under a Lock\n", processes_n, increments);
  std::printf("Final counter value: %lld\n", static_cast<long long>(total));
  return failed || total != std::int64_t{processes_n} * increments;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
