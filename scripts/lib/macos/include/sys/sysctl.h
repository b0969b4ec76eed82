/* What macOS's <sys/sysctl.h> declares that mproc uses: sysctl(3) and
 * the KERN_PROC query for one process. (glibc dropped its own
 * <sys/sysctl.h>, so nothing is wrapped.) */
#ifndef MPROC_MACOS_SHIM_SYS_SYSCTL_H
#define MPROC_MACOS_SHIM_SYS_SYSCTL_H
#include <stddef.h>
#include <sys/proc.h>
#include <sys/types.h>
#define CTL_KERN 1
#define KERN_PROC 14
#define KERN_PROC_PID 1
struct eproc {
  pid_t e_ppid;
};
struct kinfo_proc {
  struct extern_proc kp_proc;
  struct eproc kp_eproc;
};
int sysctl(int *name, unsigned int namelen, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif
