/* What macOS's <sys/proc_info.h> declares that mproc's tests use: the
 * BSD-info flavour of proc_pidinfo and the fields read from it. */
#ifndef MPROC_MACOS_SHIM_SYS_PROC_INFO_H
#define MPROC_MACOS_SHIM_SYS_PROC_INFO_H
#include <stdint.h>
#define PROC_PIDTBSDINFO 3
struct proc_bsdinfo {
  uint32_t pbi_flags;
  uint32_t pbi_status;
  uint32_t pbi_xstatus;
  uint32_t pbi_pid;
  uint32_t pbi_ppid;
};
#endif
