/* Timeouts are relative seconds in the API; loops that make several waits
 * turn them into one absolute deadline so the total never exceeds it. */
#ifndef MPROC_DEADLINE_H
#define MPROC_DEADLINE_H

#include "platform.h"

/* timeout < 0 (MP_FOREVER) gives a deadline that never comes. */
static inline double mp__deadline(double timeout) {
  return timeout < 0 ? -1.0 : mp__now() + timeout;
}

/* Seconds left: negative means forever, otherwise >= 0. */
static inline double mp__remaining(double deadline) {
  if (deadline < 0) return -1.0;
  double left = deadline - mp__now();
  return left > 0 ? left : 0.0;
}

#endif
