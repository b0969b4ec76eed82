/* Wine's <string.h>, then the deprecations MSVC's own has (c4996_on.h). */
#include "c4996_off.h"
#include_next <string.h>
#define MPROC_SHIM_SEEN_STRING
#include "c4996_on.h"
