/* Endpoints: Unix stream sockets reached by name.
 *
 * Linux uses the abstract namespace: the name lives only as long as the
 * listening socket, so a server killed with SIGKILL leaves nothing behind.
 * Elsewhere (macOS, the BSDs) the socket is a file in a directory made by
 * mkdtemp (mode 0700, so only this user can reach it); mp__endpoint_close
 * unlinks both, and so does a listener dying because its parent ended
 * (mp__posix_remove_when_orphaned). A listener killed with SIGKILL cannot:
 * its parent removes them after reaping it (mp__endpoint_remove), so only
 * when the parent is killed as well do they stay in the temporary folder (one directory with
 * one socket file) until the OS cleans it. A build with
 * MPROC_PORTABLE_POSIX takes the second path on Linux too (system_calls.h).
 *
 * Names are printable: "@name" for an abstract socket, else a path.
 *
 * The socket only introduces: on accept the listener makes two pipes and
 * passes the client its ends (SCM_RIGHTS), and both sides close the
 * socket. A pipe wakes a sleeping reader markedly faster than a Unix
 * socket (measured here: about half the round-trip time), and the
 * manager's calls are round trips. The listener never waits on a client:
 * it sends, it does not receive. Every descriptor is close-on-exec and
 * non-blocking, which is what mp__read and mp__write_all expect. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../deadline.h"
#include "posix.h"

#define USE_ABSTRACT MP__HAVE_ABSTRACT_SOCKETS

struct mp__listener {
  int fd;
  char path[MP__ENDPOINT_NAME_MAX]; /* filesystem names: the socket file */
  char dir[MP__ENDPOINT_NAME_MAX];  /* and its private directory */
};

/* A socket that is close-on-exec and non-blocking from birth where the OS
 * can say so atomically; elsewhere right after (a fork+exec in another
 * thread at that instant could inherit it, the usual macOS caveat). */
static int new_socket(void) {
#if MP__HAVE_SOCK_CLOEXEC
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
#else
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd >= 0 && mp__posix_prepare_fd(fd) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    fd = -1;
  }
#endif
#if defined(SO_NOSIGPIPE)
  /* A write to a dead peer must be an error, never a SIGPIPE. */
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
  }
#endif
  return fd;
}

/* Fills addr from a printable name; 0, or -1 if it cannot be one. */
static int make_addr(const char *name, struct sockaddr_un *addr, socklen_t *len) {
  size_t n = strlen(name);
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (n == 0 || n >= sizeof addr->sun_path) return -1;
  memcpy(addr->sun_path, name, n);
  if (name[0] == '@') {
    if (!USE_ABSTRACT) return -1;
    addr->sun_path[0] = '\0'; /* abstract: no terminator counted */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return 0;
}

static void random_hex(char *out, size_t nbytes) {
  uint8_t raw[16];
  static const char digits[] = "0123456789abcdef";
  if (nbytes > sizeof raw) nbytes = sizeof raw;
  if (mp__random_bytes(raw, nbytes) != MP_OK) memset(raw, 0, sizeof raw); /* bind then fails on a clash */
  for (size_t i = 0; i < nbytes; i++) {
    out[2 * i] = digits[raw[i] >> 4];
    out[2 * i + 1] = digits[raw[i] & 15];
  }
  out[2 * nbytes] = '\0';
}

/* Picks the name; filesystem names also get their private directory. */
static int choose_name(mp__listener *l, char name[MP__ENDPOINT_NAME_MAX]) {
  char hex[33];
  random_hex(hex, 16);
#if USE_ABSTRACT
  (void)l;
  snprintf(name, MP__ENDPOINT_NAME_MAX, "@mproc-%ld-%s", (long)getpid(), hex);
  return MP_OK;
#else
  /* sun_path holds about 104 bytes: a long TMPDIR (macOS has one) falls
   * back to /tmp. */
  const char *base = getenv("TMPDIR");
  if (!base || !*base || strlen(base) > 60) base = "/tmp";
  size_t bl = strlen(base);
  while (bl > 1 && base[bl - 1] == '/') bl--;
  snprintf(l->dir, sizeof l->dir, "%.*s/mproc-XXXXXX", (int)bl, base);
  if (!mkdtemp(l->dir)) {
    int e = errno;
    l->dir[0] = '\0';
    return mp__posix_error(MP_ESYS, e, "mkdtemp (manager endpoint)");
  }
  size_t dl = strlen(l->dir); /* at most 60 + 13: the path fits */
  memcpy(l->path, l->dir, dl);
  l->path[dl] = '/';
  memcpy(l->path + dl + 1, hex, 8);
  l->path[dl + 9] = '\0';
  memcpy(name, l->path, dl + 10);
  return MP_OK;
#endif
}

void mp__endpoint_close(mp__listener *l) {
  if (!l) return;
  if (l->path[0]) mp__posix_remove_when_orphaned(NULL, NULL);
  if (l->fd >= 0) close(l->fd);
  if (l->path[0]) unlink(l->path);
  if (l->dir[0]) rmdir(l->dir);
  free(l);
}

void mp__endpoint_remove(const char *name) {
  /* Only our own shape, "<dir>/mproc-XXXXXX/<8 hex>": never anything else. */
  const char *slash = name ? strrchr(name, '/') : NULL;
  if (!slash || name[0] != '/' || strlen(slash + 1) != 8 || slash - name >= MP__ENDPOINT_NAME_MAX) return;
  char dir[MP__ENDPOINT_NAME_MAX];
  memcpy(dir, name, (size_t)(slash - name));
  dir[slash - name] = '\0';
  const char *base = strrchr(dir, '/');
  if (!base || strncmp(base + 1, "mproc-", 6) != 0 || strlen(base + 1) != 12) return;
  unlink(name);
  rmdir(dir); /* only if empty */
}

int mp__endpoint_listen(mp__listener **out, char name[MP__ENDPOINT_NAME_MAX]) {
  struct sockaddr_un addr;
  socklen_t alen = 0;
  *out = NULL;
  mp__listener *l = calloc(1, sizeof *l);
  if (!l) return mp__set_error(MP_ENOMEM, "endpoint: out of memory");
  l->fd = -1;
  int rc = choose_name(l, name);
  if (rc != MP_OK) goto fail;
  if (make_addr(name, &addr, &alen) != 0) {
    rc = mp__set_error(MP_ESYS, "endpoint: the name \"%s\" does not fit a socket address", name);
    goto fail;
  }
  if ((l->fd = new_socket()) < 0) {
    rc = mp__posix_error(MP_ESYS, errno, "socket (endpoint)");
    goto fail;
  }
  if (bind(l->fd, (struct sockaddr *)&addr, alen) != 0) {
    rc = mp__posix_error(MP_ESYS, errno, "bind (endpoint)");
    goto fail;
  }
  if (listen(l->fd, SOMAXCONN) != 0) {
    rc = mp__posix_error(MP_ESYS, errno, "listen (endpoint)");
    goto fail;
  }
  /* A listener whose owner ends without closing it (exits, is killed)
   * dies with it: the name goes too, unless this one is killed as well. */
  if (l->path[0]) mp__posix_remove_when_orphaned(l->path, l->dir);
  *out = l;
  return MP_OK;
fail:
  mp__endpoint_close(l);
  return rc;
}

static int accept_once(int lfd) {
#if MP__HAVE_ACCEPT4
  return accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
#else
  int fd = accept(lfd, NULL, NULL);
  if (fd >= 0 && mp__posix_prepare_fd(fd) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
#endif
}

/* sendmsg, again after a signal, and never SIGPIPE for a client gone. */
static ssize_t send_message(int sock, const struct msghdr *msg) {
#if defined(MSG_NOSIGNAL)
  int flags = MSG_NOSIGNAL;
#else
  int flags = 0;
#endif
  ssize_t n;
  do {
    n = sendmsg(sock, msg, flags);
  } while (n < 0 && errno == EINTR);
  return n;
}

/* Sends the client its ends of the two pipes (one byte of data carries the
 * descriptors); 0 or an errno. The socket is fresh and the message tiny,
 * so it fits in the buffer at once: no wait on the client. */
static int send_fds(int sock, int fd_a, int fd_b) {
  char byte = 'M';
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(2 * sizeof(int))];
  } ctl;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  memset(&ctl, 0, sizeof ctl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  int fds[2] = {fd_a, fd_b};
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t n = send_message(sock, &msg);
  return n == 1 ? 0 : n < 0 ? errno : EIO;
}

/* The listener could not make a connection's pipes: it says so with a
 * byte of its own and the errno, and no descriptors, so the client reads
 * MP_ESYS with the server's reason rather than a closed connection it
 * would take for a dead server. */
#define REFUSAL_BYTE 'R'

static void refuse(int sock, int err) {
  unsigned char data[2] = {REFUSAL_BYTE, (unsigned char)(err > 0 && err < 256 ? err : EIO)};
  struct iovec iov = {data, sizeof data};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  (void)send_message(sock, &msg); /* a client gone reads nothing either way */
}

/* Makes the two pipes of a connection and hands the client its ends:
 * requests flow client -> server on one, replies on the other. */
static int hand_over(int sock, mp__handle *rd, mp__handle *wr) {
  mp__handle req_r, req_w, rep_r, rep_w;
  int rc = mp__pipe(&req_r, &req_w);
  if (rc != MP_OK) {
    refuse(sock, errno);
    return rc;
  }
  if ((rc = mp__pipe(&rep_r, &rep_w)) != MP_OK) {
    refuse(sock, errno);
    mp__handle_close(req_r);
    mp__handle_close(req_w);
    return rc;
  }
  int err = send_fds(sock, (int)req_w, (int)rep_r);
  mp__handle_close(req_w);
  mp__handle_close(rep_r);
  if (err) {
    mp__handle_close(req_r);
    mp__handle_close(rep_w);
    return MP_ECLOSED; /* the client left already */
  }
  *rd = req_r;
  *wr = rep_w;
  return MP_OK;
}

int mp__endpoint_accept(mp__listener *l, mp__handle *rd, mp__handle *wr, double timeout) {
  double deadline = mp__deadline(timeout);
  *rd = *wr = MP__NO_HANDLE;
  for (;;) {
    int fd = accept_once(l->fd);
    if (fd >= 0) {
      int rc = hand_over(fd, rd, wr);
      close(fd);
      if (rc == MP_OK || rc != MP_ECLOSED) return rc;
      continue;
    }
    /* A client that gave up before we took it is no reason to stop. */
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return mp__posix_error(MP_ESYS, errno, "accept (endpoint)");
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "no connection yet");
    struct pollfd p = {l->fd, POLLIN, 0};
    if (poll(&p, 1, mp__posix_poll_ms(left)) < 0 && errno != EINTR)
      return mp__posix_error(MP_ESYS, errno, "poll (endpoint)");
  }
}

/* A non-blocking connect that did not finish at once: wait for its end. */
static int finish_connect(int fd, double deadline) {
  struct pollfd p = {fd, POLLOUT, 0};
  int n;
  do {
    n = poll(&p, 1, mp__posix_poll_ms(mp__remaining(deadline)));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (n == 0) return ETIMEDOUT;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

static int connect_socket(const char *name, const struct sockaddr_un *addr, socklen_t alen, double deadline,
                          int *out) {
  double nap = 0.0005;
  for (;;) {
    int fd = new_socket();
    if (fd < 0) return mp__posix_error(MP_ESYS, errno, "socket (endpoint)");
    int err = connect(fd, (const struct sockaddr *)addr, alen) == 0 ? 0 : errno;
    if (err == EINPROGRESS || err == EINTR) err = finish_connect(fd, deadline);
    if (err == 0) {
      *out = fd;
      return MP_OK;
    }
    close(fd);
    if (err == ECONNREFUSED || err == ENOENT || err == ENOTDIR)
      return mp__set_error(MP_ECLOSED, "nobody listens at %s any more", name);
    /* Linux: the listener's backlog is full (EAGAIN); try again shortly. */
    if (err != EAGAIN && err != ETIMEDOUT) return mp__posix_error(MP_ESYS, err, "connect (endpoint)");
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "the listener at %s stayed busy", name);
    mp__sleep(left >= 0 && left < nap ? left : nap);
    if (nap < 0.02) nap *= 2;
  }
}

/* Takes the two descriptors the listener sends: MP_OK, MP_ECLOSED (it
 * went without sending), MP_ETIMEDOUT, MP_ESYS (this process had no room
 * for them, or the listener none to make them), or MP_EPROTO (it sent
 * other than two). */
static int receive_fds(int sock, int fds[2], double deadline) {
  unsigned char data[2] = {0, 0};
  struct iovec iov = {data, sizeof data};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(4 * sizeof(int))];
  } ctl;
  struct msghdr msg;
#if MP__HAVE_MSG_CMSG_CLOEXEC
  int flags = MSG_CMSG_CLOEXEC; /* close-on-exec from the first instant */
#else
  int flags = 0;
#endif
  for (;;) {
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    ssize_t n = recvmsg(sock, &msg, flags);
    if (n == 0) return mp__set_error(MP_ECLOSED, "the listener closed the connection");
    if (n > 0) break;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return mp__set_error(MP_ECLOSED, "the listener closed the connection");
    if (errno != EAGAIN && errno != EWOULDBLOCK) return mp__posix_error(MP_ESYS, errno, "recvmsg (endpoint)");
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "the listener did not answer");
    struct pollfd p = {sock, POLLIN, 0};
    if (poll(&p, 1, mp__posix_poll_ms(left)) < 0 && errno != EINTR)
      return mp__posix_error(MP_ESYS, errno, "poll (endpoint)");
  }
  size_t got = 0;
  int all[4];
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (got < 4) all[got++] = fd;
      else close(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    /* Room for four was given, so the kernel cut them short on this side:
     * it could not put them in a process out of descriptors. */
    for (size_t i = 0; i < got; i++) close(all[i]);
    char what[80];
    snprintf(what, sizeof what, "recvmsg (endpoint): %u of the listener's 2 descriptors arrived", (unsigned)got);
    return mp__posix_error(MP_ESYS, EMFILE, what);
  }
  if (got == 0 && data[0] == REFUSAL_BYTE) {
    /* The rest of a two-byte refusal may come a moment after its first. */
    if (data[1] == 0 && recv(sock, data + 1, 1, MSG_DONTWAIT) != 1) data[1] = EIO;
    return mp__posix_error(MP_ESYS, data[1], "the manager's server could not take the connection");
  }
  if (got != 2) {
    for (size_t i = 0; i < got; i++) close(all[i]);
    return mp__set_error(MP_EPROTO, "the listener sent %u descriptors, not 2", (unsigned)got);
  }
  for (int i = 0; i < 2; i++) {
    /* Where MSG_CMSG_CLOEXEC is missing (macOS), right after: the usual
     * window in which another thread's fork+exec could inherit them. */
    if (!flags && mp__posix_prepare_fd(all[i]) != 0) {
      int e = errno;
      close(all[0]);
      close(all[1]);
      return mp__posix_error(MP_ESYS, e, "fcntl (endpoint)");
    }
    fds[i] = all[i];
  }
  return MP_OK;
}

int mp__endpoint_connect(const char *name, mp__handle *rd, mp__handle *wr, double timeout) {
  struct sockaddr_un addr;
  socklen_t alen = 0;
  double deadline = mp__deadline(timeout);
  *rd = *wr = MP__NO_HANDLE;
  if (!name || make_addr(name, &addr, &alen) != 0)
    return mp__set_error(MP_EINVAL, "endpoint: \"%.80s\" is not an endpoint name here", name ? name : "(null)");
  int sock = -1, fds[2] = {-1, -1};
  int rc = connect_socket(name, &addr, alen, deadline, &sock);
  if (rc != MP_OK) return rc;
  rc = receive_fds(sock, fds, deadline);
  close(sock); /* the pipes are the connection from here on */
  if (rc != MP_OK) return rc;
  *wr = (mp__handle)fds[0]; /* requests: the write end of the first pipe */
  *rd = (mp__handle)fds[1];
  return MP_OK;
}
