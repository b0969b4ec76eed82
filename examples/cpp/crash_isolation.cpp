// Why processes, in C++: a task that crashes takes down its worker
// process, not the program. Four records are parsed on a Pool; one of
// them hits a bug (a write through a NULL pointer) and its worker dies of
// it. The others are parsed all the same, the failed one reads
// mp::crashed_error (MP_ECRASHED), and the pool starts a new worker.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mproc.hpp"

// Parses "name=value" and returns the value.
static std::int64_t parse_record(std::string record) {
  const std::size_t equals = record.find('=');
  if (equals == std::string::npos) {
    // The bug: a record without '=' reaches a write through a NULL pointer.
    volatile int *volatile nowhere = nullptr;
    *nowhere = 1;
  }
  std::int64_t value = 0;
  for (std::size_t i = equals + 1; i < record.size(); i++) value = value * 10 + (record[i] - '0');
  return value;
}
MPROC_TASK(parse_record);

int main(int argc, char **argv) try {
  mp::main(argc, argv);

  const std::vector<std::string> records{"alpha=1", "beta=22", "gamma", "delta=4444"};
  mp::pool_options opts;
  opts.workers = 2;
  mp::pool pool(opts);
  std::printf("Parsing %d records in worker processes...\n", static_cast<int>(records.size()));
  // One job per record, so each gets its own outcome.
  std::vector<mp::async_result<std::int64_t>> jobs;
  for (const auto &r : records) jobs.push_back(pool.apply_async(parse_record_task, r));

  int parsed = 0;
  for (std::size_t i = 0; i < records.size(); i++) {
    try {
      std::int64_t value = jobs[i].get();
      std::printf("  \"%s\": value %lld\n", records[i].c_str(), static_cast<long long>(value));
      parsed++;
    } catch (const mp::crashed_error &e) {
      std::printf("  \"%s\": %s (%s)\n", records[i].c_str(), e.name(), e.what());
    }
  }

  // The pool replaced its dead worker: it still works.
  std::int64_t check = pool.apply(parse_record_task, std::string("check=7"));
  std::printf("Still running: %d of %d records parsed, and the pool still works (check=%lld).\n", parsed,
              static_cast<int>(records.size()), static_cast<long long>(check));
  return parsed == static_cast<int>(records.size()) - 1 && check == 7 ? 0 : 1;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
