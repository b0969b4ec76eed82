/* Wine's <stdlib.h>, with what the UCRT's has and Wine's lacks, then the
 * deprecations MSVC's own has (c4996_on.h). */
#include "c4996_off.h"
#include_next <stdlib.h>
#ifndef MPROC_SHIM_ABORT_BEHAVIOR
#define MPROC_SHIM_ABORT_BEHAVIOR
#ifdef __cplusplus
extern "C"
#endif
unsigned int __cdecl _set_abort_behavior(unsigned int flags, unsigned int mask);
#endif
#define MPROC_SHIM_SEEN_STDLIB
#include "c4996_on.h"
