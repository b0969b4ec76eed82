/* Error codes: names and messages from one list; the thread-local detail. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "platform.h"

/* The one list. Each entry's number is the public MP_* constant, so the
 * header stays the contract and this table can never disagree with it. */
#define MP__ERROR_LIST(X)                                                  \
  X(MP_OK, "success")                                                      \
  X(MP_EINVAL, "invalid argument")                                         \
  X(MP_ENOMEM, "out of memory")                                            \
  X(MP_ETIMEDOUT, "timed out")                                             \
  X(MP_ECLOSED, "closed")                                                  \
  X(MP_EFULL, "full")                                                      \
  X(MP_EEMPTY, "empty")                                                    \
  X(MP_ETASK, "the task reported failure")                                 \
  X(MP_ECRASHED, "the process running the task died")                      \
  X(MP_ENOTASK, "no task registered under that name")                      \
  X(MP_EBOOTSTRAP, "mp_main() was not called first")                       \
  X(MP_ESTATE, "not allowed in this state")                                \
  X(MP_ECANCELLED, "cancelled")                                            \
  X(MP_EPROTO, "malformed message")                                        \
  X(MP_ETOOBIG, "over the size limit")                                     \
  X(MP_ENOTFOUND, "not found")                                             \
  X(MP_EOWNERDEAD, "the previous owner died holding the lock")             \
  X(MP_ENOTSUP, "not supported on this platform")                          \
  X(MP_ESYS, "the operating system refused")

const char *mp_strerror(int err) {
  switch (err) {
#define MP__STRERROR_CASE(code, text) case code: return text;
    MP__ERROR_LIST(MP__STRERROR_CASE)
#undef MP__STRERROR_CASE
  default:
    return "unknown error";
  }
}

const char *mp_err_name(int err) {
  switch (err) {
#define MP__NAME_CASE(code, text) case code: return #code;
    MP__ERROR_LIST(MP__NAME_CASE)
#undef MP__NAME_CASE
  default:
    return "MP_E?";
  }
}

static MP__THREAD_LOCAL char last_error[512];

const char *mp_last_error(void) { return last_error; }

int mp__set_error(int code, const char *fmt, ...) {
  /* Formatted apart first: the arguments may include the current detail
   * itself ("%s: %s", api, mp_last_error()). */
  char text[sizeof last_error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  memcpy(last_error, text, sizeof last_error);
  return code;
}

void mp__clear_error(void) { last_error[0] = '\0'; }

int mp__error_in(const char *api, int rc) {
  if (rc >= 0) return rc;
  size_t n = strlen(api);
  if (strncmp(last_error, api, n) == 0 && (last_error[n] == ':' || last_error[n] == '(')) return rc;
  return mp__set_error(rc, "%s: %s", api, last_error[0] ? last_error : mp_strerror(rc));
}
