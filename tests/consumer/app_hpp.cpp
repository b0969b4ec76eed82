// The installed C++17 header, mproc.hpp, from an outside project: a typed
// task registered with MPROC_TASK, a pool's map, and a task's exception
// come back as mp::task_error.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <mproc.hpp>

static std::int64_t cube(std::int64_t x) {
  if (x < 0) throw std::invalid_argument("negative");
  return x * x * x;
}
MPROC_TASK(cube);

int main(int argc, char **argv) try {
  mp::main(argc, argv);
  mp::pool_options opts;
  opts.workers = 2;
  mp::pool pool(opts);
  std::vector<std::int64_t> out = pool.map(cube_task, std::vector<std::int64_t>{1, 2, 3, 4});
  std::string said;
  try {
    pool.apply(cube_task, -1);
  } catch (const mp::task_error &e) {
    said = e.what();
  }
  std::string line = std::string("mproc ") + mp_version_string() + " from mproc.hpp: cubes";
  for (std::int64_t v : out) line += " " + std::to_string(v);
  std::printf("%s; %s\n", line.c_str(), said.c_str());
  return 0;
} catch (const mp::error &e) {
  std::fprintf(stderr, "%s: %s\n", e.name(), e.what());
  return 1;
}
