/* Pipes: non-blocking, close-on-exec from birth. A read tries first and
 * polls only when nothing is there, so a ready message costs one syscall. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../deadline.h"
#include "posix.h"

int mp__posix_prepare_fd(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) return -1;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl == -1 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) == -1) return -1;
  return 0;
}

int mp__pipe(mp__handle *read_end, mp__handle *write_end) {
  int fds[2];
  *read_end = *write_end = MP__NO_HANDLE;
#if MP__HAVE_PIPE2
  /* Atomic: no moment in which another thread's fork+exec inherits them. */
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return mp__posix_error(MP_ESYS, errno, "pipe2");
#else
  if (pipe(fds) != 0) return mp__posix_error(MP_ESYS, errno, "pipe");
  if (mp__posix_prepare_fd(fds[0]) != 0 || mp__posix_prepare_fd(fds[1]) != 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return mp__posix_error(MP_ESYS, e, "fcntl");
  }
#endif
  *read_end = fds[0];
  *write_end = fds[1];
  return MP_OK;
}

void mp__handle_close(mp__handle h) {
  if (h != MP__NO_HANDLE) close((int)h);
}

int mp__handle_reads_block(mp__handle h) {
  int fl = fcntl((int)h, F_GETFL);
  if (fl == -1 || fcntl((int)h, F_SETFL, fl & ~O_NONBLOCK) == -1) return mp__posix_error(MP_ESYS, errno, "fcntl");
  return MP_OK;
}

int mp__handle_valid(mp__handle h) { return h >= 0 && fcntl((int)h, F_GETFD) != -1; }

static int wait_fd(int fd, short events, double deadline) {
  for (;;) {
    struct pollfd pfd = {fd, events, 0};
    int n = poll(&pfd, 1, mp__posix_poll_ms(mp__remaining(deadline)));
    if (n > 0) return MP_OK;
    if (n == 0) return MP_ETIMEDOUT;
    if (errno != EINTR) return mp__posix_error(MP_ESYS, errno, "poll");
  }
}

int mp__read(mp__handle h, void *buf, size_t cap, size_t *got, double timeout) {
  double deadline = -1.0;
  int deadline_set = 0;
  *got = 0;
  for (;;) {
    ssize_t n = read((int)h, buf, cap);
    if (n > 0) {
      *got = (size_t)n;
      return MP_OK;
    }
    if (n == 0) return mp__set_error(MP_ECLOSED, "end of stream: the writer is gone");
    if (errno == EINTR) continue;
    /* A socket (an endpoint connection) whose peer died with our bytes
     * unread is reset rather than ended: the peer is gone all the same. */
    if (errno == ECONNRESET) return mp__set_error(MP_ECLOSED, "end of stream: the peer is gone (reset)");
    if (errno != EAGAIN && errno != EWOULDBLOCK) return mp__posix_error(MP_ESYS, errno, "read");
    if (timeout == 0) return mp__set_error(MP_ETIMEDOUT, "nothing to read yet");
    if (!deadline_set) {
      deadline = mp__deadline(timeout);
      deadline_set = 1;
    }
    int rc = wait_fd((int)h, POLLIN, deadline);
    if (rc == MP_ETIMEDOUT) return mp__set_error(MP_ETIMEDOUT, "timed out waiting to read");
    if (rc != MP_OK) return rc;
  }
}

int mp__write_all(mp__handle h, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write((int)h, p, len);
    if (n > 0) {
      p += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return mp__set_error(MP_ECLOSED, "write: the reader is gone");
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int rc = wait_fd((int)h, POLLOUT, -1.0);
      if (rc != MP_OK) return rc;
      continue;
    }
    return mp__posix_error(MP_ESYS, n < 0 ? errno : EIO, "write");
  }
  return MP_OK;
}

int mp__write_parts(mp__handle h, const mp__iovec *parts, size_t n) {
  /* One writev for a small frame: the reader wakes once, and a frame of at
   * most PIPE_BUF bytes cannot interleave with another writer's. */
  struct iovec iov[8];
  size_t count = 0, total = 0;
  if (n > 8) return mp__set_error(MP_EINVAL, "mp__write_parts: at most 8 parts");
  for (size_t i = 0; i < n; i++) {
    if (!parts[i].len) continue;
    iov[count].iov_base = (void *)parts[i].base;
    iov[count].iov_len = parts[i].len;
    total += parts[i].len;
    count++;
  }
  if (count == 0) return MP_OK;
  ssize_t done;
  do {
    done = writev((int)h, iov, (int)count);
  } while (done < 0 && errno == EINTR);
  if (done < 0 && (errno == EPIPE || errno == ECONNRESET)) return mp__set_error(MP_ECLOSED, "write: the reader is gone");
  if (done < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return mp__posix_error(MP_ESYS, errno, "writev");
  if (done < 0) done = 0;
  if ((size_t)done == total) return MP_OK;
  /* The pipe filled up: finish part by part, waiting for room. */
  size_t skip = (size_t)done;
  for (size_t i = 0; i < count; i++) {
    if (skip >= iov[i].iov_len) {
      skip -= iov[i].iov_len;
      continue;
    }
    int rc = mp__write_all(h, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
    if (rc != MP_OK) return rc;
    skip = 0;
  }
  return MP_OK;
}

int mp__handle_dup(mp__handle h, mp__handle *out, const char *api) {
  *out = MP__NO_HANDLE;
  if (h < 0 || h > INT_MAX) return mp__set_error(MP_EINVAL, "%s: %lld is not a descriptor", api, (long long)h);
  /* Above the standard three, so a child's 0-2 are never it by accident. */
  int fd = fcntl((int)h, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    if (errno == EBADF) return mp__set_error(MP_EINVAL, "%s: descriptor %d is not open", api, (int)h);
    return mp__posix_error(MP_ESYS, errno, api);
  }
  *out = fd;
  return MP_OK;
}
