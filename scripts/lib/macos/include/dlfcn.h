/* glibc's <dlfcn.h>, with RTLD_DEFAULT as macOS's has it without
 * _GNU_SOURCE. */
#ifndef MPROC_MACOS_SHIM_DLFCN_H
#define MPROC_MACOS_SHIM_DLFCN_H
#include_next <dlfcn.h>
#ifndef RTLD_DEFAULT
#define RTLD_DEFAULT ((void *)-2)
#endif
#endif
