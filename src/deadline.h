/* Timeouts are relative seconds in the API; loops that make several waits
 * turn them into one absolute deadline so the total never exceeds it.
 *
 * The one rule for a timeout, in every call that takes one (mproc.h's
 * conventions): MP_FOREVER and INFINITY wait without end, 0 only tries, a
 * positive number waits up to that long; any other negative number, and
 * NaN, is MP_EINVAL. A computed "deadline - now" that went negative is
 * therefore refused, never taken as forever. */
#ifndef MPROC_DEADLINE_H
#define MPROC_DEADLINE_H

#include <math.h>

#include "error.h"
#include "platform.h"

/* Longer than this counts as forever: no wait can tell the difference
 * (about 31 years), and the platforms' clocks and tick counts could not
 * hold the end of a longer one. */
#define MP__TIMEOUT_FOREVER_ABOVE 1e9

/* MP_OK for a timeout the rule allows; MP_EINVAL, naming api, otherwise. */
static inline int mp__timeout_check(const char *api, double timeout) {
  if (timeout >= 0 || timeout == MP_FOREVER) return MP_OK; /* NaN fails both; +INFINITY passes */
  if (isnan(timeout))
    return mp__set_error(MP_EINVAL, "%s: the timeout is NaN; use seconds >= 0, or MP_FOREVER", api);
  return mp__set_error(MP_EINVAL,
                       "%s: the timeout is %g seconds; use seconds >= 0, or MP_FOREVER (-1) to wait "
                       "without end (a computed deadline that has passed is 0, not a negative number)",
                       api, timeout);
}

/* A checked timeout as the platform's waits take it: any negative one
 * (MP_FOREVER) blocks, and so does one too long to count. */
static inline double mp__timeout_value(double timeout) {
  return timeout < 0 || timeout > MP__TIMEOUT_FOREVER_ABOVE ? -1.0 : timeout;
}

/* A checked timeout < 0 (MP_FOREVER), or too long to count, gives a
 * deadline that never comes. */
static inline double mp__deadline(double timeout) {
  timeout = mp__timeout_value(timeout);
  return timeout < 0 ? -1.0 : mp__now() + timeout;
}

/* Seconds left: negative means forever, otherwise >= 0. */
static inline double mp__remaining(double deadline) {
  if (deadline < 0) return -1.0;
  double left = deadline - mp__now();
  return left > 0 ? left : 0.0;
}

#endif
