/* glibc's <pthread.h> and what macOS's adds that mproc uses: a condition
 * wait for a relative time (macOS has no pthread_condattr_setclock). */
#ifndef MPROC_MACOS_SHIM_PTHREAD_H
#define MPROC_MACOS_SHIM_PTHREAD_H
#include_next <pthread.h>
int pthread_cond_timedwait_relative_np(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *reltime);
#endif
