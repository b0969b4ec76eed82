/* Wine's <stdio.h>, then the deprecations MSVC's own has (c4996_on.h). */
#include "c4996_off.h"
#include_next <stdio.h>
#define MPROC_SHIM_SEEN_STDIO
#include "c4996_on.h"
