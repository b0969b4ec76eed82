/* What macOS's <mach-o/dyld.h> declares that mproc uses: the path of the
 * running executable (0, or -1 with *bufsize set to the size needed). */
#ifndef MPROC_MACOS_SHIM_DYLD_H
#define MPROC_MACOS_SHIM_DYLD_H
#include <stdint.h>
extern int _NSGetExecutablePath(char *buf, uint32_t *bufsize);
#endif
