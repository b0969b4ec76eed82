/* Wine's <time.h>, with what the UCRT's has and Wine's lacks (struct
 * timespec, which libc++ needs), then the deprecations (c4996_on.h). */
#include "c4996_off.h"
#include_next <time.h>
#ifndef MPROC_SHIM_TIMESPEC
#define MPROC_SHIM_TIMESPEC
struct timespec {
  time_t tv_sec;
  long tv_nsec;
};
#endif
#define MPROC_SHIM_SEEN_TIME
#include "c4996_on.h"
