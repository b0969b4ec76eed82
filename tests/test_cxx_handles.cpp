// mp::os_handle: a pipe's write end handed to a process through the C++
// wrapper, written by the child's ctx.os_handle(0); the wrong kind throws
// the C message. (C-style casts: mp_os_handle is an int or a HANDLE.)
#include <cstdio>
#include <cstring>
#include <string>

#include "mproc.hpp"
extern "C" {
#include "platform.h"
}

static int write_hi(mp::context &ctx) {
  const mp_os_handle h = ctx.os_handle(0);
  return mp__write_all((mp__handle)h, "hi", 2) == MP_OK ? 7 : 1;
}
MPROC_TASK(write_hi);

static std::string wrong_kind(mp::context &ctx) {
  try {
    (void)ctx.os_handle(0);
  } catch (const mp::error &e) {
    return e.what();
  }
  return "did not throw";
}
MPROC_TASK(wrong_kind);

#define CHECK(c)                                                                                               \
  do {                                                                                                         \
    if (!(c)) {                                                                                                \
      std::printf("%s:%d: %s failed\n", __FILE__, __LINE__, #c);                                              \
      return 1;                                                                                                \
    }                                                                                                          \
  } while (0)

int main(int argc, char **argv) {
  mp::main(argc, argv);
  mp__handle rd = MP__NO_HANDLE, wr = MP__NO_HANDLE;
  CHECK(mp__pipe(&rd, &wr) == MP_OK);
  {
    mp::os_handle h((mp_os_handle)wr);
    mp__handle_close(wr); // the wrapper holds the library's copy
    CHECK(h && mp__handle_valid((mp__handle)h.native()));
    mp::process_options o;
    o.objects = {h.obj()};
    mp::process p(write_hi_task, o);
    CHECK(p.get<int>() == 7);
  } // the wrapper's copy closes here: no writer is left
  char buf[4] = {0};
  size_t got = 0, have = 0;
  while (have < 2 && mp__read(rd, buf + have, 2 - have, &got, 30) == MP_OK) have += got;
  CHECK(have == 2 && std::memcmp(buf, "hi", 2) == 0);
  CHECK(mp__read(rd, buf, 1, &got, 30) == MP_ECLOSED);
  mp__handle_close(rd);

  mp::lock l;
  mp::process_options o;
  o.objects = {l.obj()};
  mp::process p(wrong_kind_task, o);
  const std::string msg = p.get<std::string>();
  CHECK(msg == "mp_call_oshandle: object 0 is a lock, not a handle");

  bool threw = false;
  try {
    mp::os_handle bad((mp_os_handle)MP__NO_HANDLE);
  } catch (const mp::error &e) {
    threw = e.code() == MP_EINVAL;
  }
  CHECK(threw);
  std::printf("ok\n");
  return 0;
}
