/* What macOS's <sys/proc.h> declares that mproc uses: the process states
 * and the part of struct extern_proc (kinfo_proc's kp_proc) read. */
#ifndef MPROC_MACOS_SHIM_SYS_PROC_H
#define MPROC_MACOS_SHIM_SYS_PROC_H
#include <sys/types.h>
#define SIDL 1
#define SRUN 2
#define SSLEEP 3
#define SSTOP 4
#define SZOMB 5
struct extern_proc {
  int p_flag;
  char p_stat; /* S* above */
  pid_t p_pid;
};
#endif
