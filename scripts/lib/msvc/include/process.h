/* Wine's <process.h>, then the deprecations MSVC's own has (c4996_on.h). */
#include "c4996_off.h"
#include_next <process.h>
#define MPROC_SHIM_SEEN_PROCESS
#include "c4996_on.h"
