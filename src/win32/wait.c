/* Waiting on many (mp_wait, the pollable handles): a waiter is a
 * manual-reset, non-inheritable Event; a wait is WaitForMultipleObjects
 * over the wait set's handles. A named pipe's HANDLE does not signal
 * when data comes, so a connection has no wait handle here (mp_wait
 * looks at it every slice instead; see src/wait.c). */
#include <stdlib.h>

#include "../deadline.h"
#include "win32.h"

struct mp__waiter {
  HANDLE ev;
};

int mp__waiter_new(mp__waiter **out) {
  *out = NULL;
  mp__waiter *w = malloc(sizeof *w);
  if (!w) return mp__set_error(MP_ENOMEM, "out of memory for a waiter");
  w->ev = CreateEventW(NULL, TRUE, FALSE, NULL); /* NULL attributes: not inheritable */
  if (!w->ev) {
    int rc = mp__win_error(MP_ESYS, GetLastError(), "CreateEventW");
    free(w);
    return rc;
  }
  *out = w;
  return MP_OK;
}

void mp__waiter_free(mp__waiter *w) {
  if (!w) return;
  CloseHandle(w->ev);
  free(w);
}

void mp__waiter_signal(mp__waiter *w) { SetEvent(w->ev); }

void mp__waiter_clear(mp__waiter *w) { ResetEvent(w->ev); }

mp__handle mp__waiter_handle(const mp__waiter *w) { return MP__AS_HANDLE(w->ev); }

mp__handle mp__read_wait_handle(mp__handle rd) {
  (void)rd;
  return MP__NO_HANDLE;
}

int mp__wait_handles(const mp__handle *h, size_t n, double timeout) {
  HANDLE few[MAXIMUM_WAIT_OBJECTS];
  double deadline = mp__deadline(timeout);
  /* Over 64 handles: the first 64 block, the rest are looked at every
   * millisecond (a wait set that large is rare). */
  size_t first = n < MAXIMUM_WAIT_OBJECTS ? n : MAXIMUM_WAIT_OBJECTS;
  for (size_t i = 0; i < first; i++) few[i] = MP__HANDLE_OF(h[i]);
  for (;;) {
    double left = mp__remaining(deadline);
    double slice = first < n && (left < 0 || left > 0.001) ? 0.001 : left;
    DWORD r = WAIT_TIMEOUT;
    if (first)
      r = WaitForMultipleObjects((DWORD)first, few, FALSE, mp__win_ms(slice));
    else
      Sleep(mp__win_ms(slice));
    if (r < WAIT_OBJECT_0 + first) return MP_OK;
    if (r == WAIT_FAILED) return mp__win_error(MP_ESYS, GetLastError(), "WaitForMultipleObjects");
    for (size_t i = first; i < n; i++)
      if (WaitForSingleObject(MP__HANDLE_OF(h[i]), 0) == WAIT_OBJECT_0) return MP_OK;
    if (mp__remaining(deadline) == 0) return MP_ETIMEDOUT;
  }
}
