/* Random bytes: the C runtime's rand_s, which draws from the system's
 * generator (RtlGenRandom) and needs no extra library at link time. */
#define _CRT_RAND_S
#include <stdlib.h>
#include <string.h>

#include "win32.h"

int mp__random_bytes(void *buf, size_t len) {
  unsigned char *p = buf;
  while (len > 0) {
    unsigned int v;
    if (rand_s(&v) != 0) return mp__set_error(MP_ESYS, "rand_s failed");
    size_t n = len < sizeof v ? len : sizeof v;
    memcpy(p, &v, n);
    p += n;
    len -= n;
  }
  return MP_OK;
}
