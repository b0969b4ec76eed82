/* Waiting on many (mp_wait, the pollable handles): a waiter is a
 * non-blocking, close-on-exec pipe whose read end poll() watches; a wait
 * is one poll() over every descriptor a wait set has. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "../deadline.h"
#include "posix.h"

struct mp__waiter {
  mp__handle rd, wr;
};

int mp__waiter_new(mp__waiter **out) {
  *out = NULL;
  mp__waiter *w = malloc(sizeof *w);
  if (!w) return mp__set_error(MP_ENOMEM, "out of memory for a waiter");
  int rc = mp__pipe(&w->rd, &w->wr);
  if (rc != MP_OK) {
    free(w);
    return rc;
  }
  *out = w;
  return MP_OK;
}

void mp__waiter_free(mp__waiter *w) {
  if (!w) return;
  mp__handle_close(w->rd);
  mp__handle_close(w->wr);
  free(w);
}

void mp__waiter_signal(mp__waiter *w) {
  /* One byte is enough: a full pipe is signalled already (EAGAIN). */
  static const char one = 1;
  ssize_t r;
  do {
    r = write((int)w->wr, &one, 1);
  } while (r < 0 && errno == EINTR);
}

void mp__waiter_clear(mp__waiter *w) {
  char buf[64];
  ssize_t r;
  do {
    r = read((int)w->rd, buf, sizeof buf);
  } while (r > 0 || (r < 0 && errno == EINTR));
}

mp__handle mp__waiter_handle(const mp__waiter *w) { return w->rd; }

mp__handle mp__read_wait_handle(mp__handle rd) { return rd; }

int mp__wait_handles(const mp__handle *h, size_t n, double timeout) {
  struct pollfd few[16], *p = few;
  if (n > sizeof few / sizeof few[0] && !(p = malloc(n * sizeof *p)))
    return mp__set_error(MP_ENOMEM, "out of memory for a wait set of %llu descriptors", (unsigned long long)n);
  for (size_t i = 0; i < n; i++) {
    p[i].fd = (int)h[i];
    p[i].events = POLLIN;
    p[i].revents = 0;
  }
  double deadline = mp__deadline(timeout);
  int rc, r;
  for (;;) {
    r = poll(p, (nfds_t)n, mp__posix_poll_ms(mp__remaining(deadline)));
    if (r >= 0 || errno != EINTR) break;
  }
  if (r > 0)
    rc = MP_OK;
  else if (r == 0)
    rc = MP_ETIMEDOUT;
  else
    rc = mp__posix_error(MP_ESYS, errno, "poll");
  if (p != few) free(p);
  return rc;
}
