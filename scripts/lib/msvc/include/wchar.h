/* Wine's <wchar.h>, then the deprecations MSVC's own has (c4996_on.h). */
#include "c4996_off.h"
#include_next <wchar.h>
#define MPROC_SHIM_SEEN_WCHAR
#include "c4996_on.h"
