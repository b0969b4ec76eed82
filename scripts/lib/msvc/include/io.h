/* Wine's <io.h>, then the deprecations MSVC's own has (c4996_on.h). */
#include "c4996_off.h"
#include_next <io.h>
#define MPROC_SHIM_SEEN_IO
#include "c4996_on.h"
