// The C++17 header, mproc.hpp, as an MSVC user's program sees it:
// compiled by the msvc leg through clang's cl driver with /W4 /WX /Zs
// /EHsc, as C++17 and C++20, against the static library and the DLL
// (MPROC_SHARED, where the C functions are dllimport).
#include "mproc.hpp"

#include <string>
#include <vector>

static long long square(long long x) { return x * x; }
static std::string shout(std::string s, mp::context &ctx) {
  ctx.queue(0).put(s.size());
  return s + "!";
}
MPROC_TASK(square);
MPROC_TASK(shout);

int main(int argc, char **argv) {
  try {
    mp::main(argc, argv);
    mp::pool_options o;
    o.workers = 2;
    mp::pool p(o);
    long long one = p.apply(square_task, 3);
    std::vector<long long> all = p.map(square_task, std::vector<long long>{1, 2});
    auto job = p.apply_async(square_task, 4, [](long long) {}, [](const mp::error &) {});
    long long sum = 0;
    for (long long v : p.imap(square_task, all)) sum += v;
    mp::queue q;
    mp::lock l;
    { mp::lock_guard<mp::lock> hold(l); }
    mp::process_options po;
    po.objects = {q.obj()};
    mp::process pr(shout_task, std::string("hi"), po);
    return one + sum + job.get() + static_cast<long long>(pr.get<std::string>().size()) > 0 ? 0 : 1;
  } catch (const mp::error &e) {
    return e.code() == MP_OK ? 0 : 1;
  }
}
