#include <string.h>

#include "posix.h"

int mp__posix_error(int code, int err, const char *what) {
  /* strerror is not thread-safe everywhere; the messages we need are the
   * static ones, and a racing call can at worst show another static text. */
  return mp__set_error(code, "%s: %s (%d)", what, strerror(err), err);
}

int mp__posix_poll_ms(double timeout) {
  if (timeout < 0) return -1;
  double ms = timeout * 1000.0;
  if (ms > 2000000000.0) return 2000000000;
  int whole = (int)ms;
  return (double)whole < ms ? whole + 1 : whole;
}
