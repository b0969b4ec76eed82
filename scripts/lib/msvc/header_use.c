/* The public header as an MSVC user's program sees it: compiled by the
 * msvc leg through clang's cl driver with /W4 /WX /Zs, as C11 and as
 * C++14, 17 and 20, against the static library and the DLL (MPROC_SHARED). */
#include "mproc.h"

static int square(mp_call *call) {
  long long x = 0;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return mp_call_fail(call, "expected a long long");
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

int main(int argc, char **argv) {
  MP_REGISTER(square);
  if (mp_main(argc, argv) != MP_OK) return 1;
  static mp_pool_options defaults; /* zeroed, in C and C++ alike */
  mp_pool_options o = defaults;
  o.workers = 2;
  mp_pool *p = NULL;
  int rc = mp_pool_create(&p, &o);
  mp_pool_free(p);
  return rc == MP_OK ? 0 : 1;
}
