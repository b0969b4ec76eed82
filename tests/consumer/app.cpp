// The public header from C++: it must compile as C++ (extern "C", no C-only
// syntax) with the warnings a C++ project turns on, -Wold-style-cast among
// them, and its macros too (they expand here, in C++). A capture-less
// lambda is a plain function pointer, so it can be a task. Option structs
// are zeroed with {}, as the header says: `= {0}` would trip
// -Wmissing-field-initializers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <mproc.h>

int main(int argc, char **argv) {
  mp_task_fn cube = [](mp_call *call) -> int {
    std::int64_t x;
    if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return mp_call_fail(call, "expected an int64_t");
    x = x * x * x;
    return mp_call_return(call, &x, sizeof x);
  };
  static_assert(MP_MAX_MESSAGE == std::size_t{1} << 30 && MP_QUEUE_MAX_MESSAGE == MP_MAX_MESSAGE,
                "1 GiB messages");
  static_assert(MP_MANAGER_KEY_MAX > 0 && MP_FOREVER < 0, "the header's constants");
  MP_REGISTER(cube);
  if (mp_main(argc, argv) != MP_OK) {
    std::fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 1;
  }

  std::vector<std::int64_t> in{1, 2, 3, 4}, out(in.size());
  mp_pool *pool = nullptr;
  mp_pool_options opts{};
  opts.workers = 2;
  int rc = mp_pool_create(&pool, &opts);
  if (rc == MP_OK)
    rc = mp_pool_map(pool, "cube", in.data(), sizeof in[0], in.size(), out.data(), sizeof out[0], nullptr);
  if (rc == MP_OK) rc = mp_pool_close(pool);
  if (rc == MP_OK) rc = mp_pool_join(pool, MP_FOREVER);
  mp_pool_free(pool);
  if (rc != MP_OK) {
    std::fprintf(stderr, "%s: %s\n", mp_err_name(rc), mp_last_error());
    return 1;
  }
  std::string line = std::string("mproc ") + mp_version_string() + " from C++: cubes";
  for (std::int64_t v : out) line += " " + std::to_string(v);
  std::printf("%s\n", line.c_str());
  return 0;
}
