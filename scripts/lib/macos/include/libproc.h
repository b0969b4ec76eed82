/* What macOS's <libproc.h> declares that mproc's tests use. */
#ifndef MPROC_MACOS_SHIM_LIBPROC_H
#define MPROC_MACOS_SHIM_LIBPROC_H
#include <stdint.h>
#include <sys/proc_info.h>
int proc_pidinfo(int pid, int flavor, uint64_t arg, void *buffer, int buffersize);
#endif
