/* Which system-specific calls the POSIX backend uses, decided in one place.
 *
 * Each MP__HAVE_* is 1 where the system has the call, else 0, and the
 * portable POSIX path is taken instead. Building with
 * -DMPROC_PORTABLE_POSIX (CMake: -DMPROC_PORTABLE_POSIX=ON) sets every one
 * of them to 0: the backend then runs on Linux as it runs on macOS, which
 * has none of them, and scripts/test's portable leg runs the whole suite
 * that way (and again under `ulimit -n 256`, macOS's default limit). What
 * it cannot switch off is Apple's kernel itself. */
#ifndef MPROC_POSIX_SYSTEM_CALLS_H
#define MPROC_POSIX_SYSTEM_CALLS_H

#if defined(MPROC_PORTABLE_POSIX)
#  define MP__PORTABLE_POSIX 1
#else
#  define MP__PORTABLE_POSIX 0
#endif

#if defined(__linux__) && !MP__PORTABLE_POSIX
#  define MP__LINUX 1
#else
#  define MP__LINUX 0
#endif

#if (defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)) && !MP__PORTABLE_POSIX
#  define MP__BSD 1
#else
#  define MP__BSD 0
#endif

/* Descriptors close-on-exec from birth: pipe2, accept4, SOCK_CLOEXEC on
 * socket(), MSG_CMSG_CLOEXEC on recvmsg(). Without them the flag is set
 * right after, the window in which another thread's fork+exec could
 * inherit the descriptor (the macOS caveat). */
#define MP__HAVE_PIPE2 (MP__LINUX || MP__BSD)
#define MP__HAVE_ACCEPT4 (MP__LINUX || MP__BSD)
#define MP__HAVE_SOCK_CLOEXEC (MP__LINUX || MP__BSD)
#define MP__HAVE_MSG_CMSG_CLOEXEC (MP__LINUX || MP__BSD)

/* Linux alone. */
#define MP__HAVE_MEMFD MP__LINUX             /* memfd_create; else shm_open + shm_unlink */
#define MP__HAVE_MADV_REMOVE MP__LINUX       /* give shared pages back; else keep them */
#define MP__HAVE_PDEATHSIG MP__LINUX         /* PR_SET_PDEATHSIG; else the watcher thread */
#define MP__HAVE_CLOSE_RANGE MP__LINUX       /* one call closes a range of descriptors */
#define MP__HAVE_PIDFD MP__LINUX             /* pidfd_open, pidfd_send_signal */
#define MP__HAVE_GETRANDOM MP__LINUX         /* else arc4random_buf or /dev/urandom */
#define MP__HAVE_AFFINITY MP__LINUX          /* sched_getaffinity; else every online CPU */
#define MP__HAVE_COARSE_CLOCK MP__LINUX      /* CLOCK_MONOTONIC_COARSE */
#define MP__HAVE_FUTEX MP__LINUX             /* else a wait point polls with naps */
#define MP__HAVE_ABSTRACT_SOCKETS MP__LINUX  /* else a socket file in a mkdtemp folder */

/* _Fork (glibc 2.34 on): a fork that runs no atfork handlers. Else fork(),
 * whose handlers the program's libraries registered. */
#if !MP__PORTABLE_POSIX && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#  define MP__HAVE_PRIVATE_FORK 1
#else
#  define MP__HAVE_PRIVATE_FORK 0
#endif

/* closefrom(3): the BSDs (and glibc 2.34 on, which Linux's close_range
 * already covers). Without close_range or closefrom, a child closes the
 * descriptors its parent listed in /dev/fd (src/posix/close_fds.c). */
#define MP__HAVE_CLOSEFROM MP__BSD

/* A robust process-shared mutex (EOWNERDEAD): Linux and FreeBSD. Else the
 * owner-word lock of src/posix/psync.c. */
#if !MP__PORTABLE_POSIX && (defined(__linux__) || defined(__FreeBSD__))
#  define MP__HAVE_ROBUST_MUTEX 1
#else
#  define MP__HAVE_ROBUST_MUTEX 0
#endif

#endif
