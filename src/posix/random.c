/* Random bytes from the kernel: getrandom on Linux, arc4random_buf on
 * macOS and the BSDs (which never fail), /dev/urandom as the last resort. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "posix.h"

#if defined(__APPLE__) || MP__BSD
int mp__random_bytes(void *buf, size_t len) {
  arc4random_buf(buf, len);
  return MP_OK;
}
#else
static int from_urandom(unsigned char *p, size_t len) {
  int fd;
  do {
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return mp__posix_error(MP_ESYS, errno, "open /dev/urandom");
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      return mp__posix_error(MP_ESYS, e, "read /dev/urandom");
    }
    p += n;
    len -= (size_t)n;
  }
  close(fd);
  return MP_OK;
}

int mp__random_bytes(void *buf, size_t len) {
  unsigned char *p = buf;
#if MP__HAVE_GETRANDOM
  /* The syscall, not the libc wrapper: older C libraries lack the wrapper
   * while the kernel has had the call since 3.17. */
  while (len > 0) {
    long n = syscall(SYS_getrandom, p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* ENOSYS (an old kernel, a seccomp filter): fall back */
    p += n;
    len -= (size_t)n;
  }
  if (len == 0) return MP_OK;
#endif
  return from_urandom(p, len);
}
#endif
