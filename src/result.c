/* mp_result and its RESULT-frame encoding. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define NO_MESSAGE 0xFFFFFFFFu
#define MESSAGE_MAX (64u * 1024u)

char *mp__strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

void mp_result_clear(mp_result *r) {
  if (!r) return;
  free(r->data);
  free(r->message);
  memset(r, 0, sizeof *r);
}

void mp__result_fail(mp_result *res, int status, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  mp_result_clear(res);
  res->status = status;
  res->message = mp__strdup(text);
}

void mp__result_encode(mp__buf *meta, int status, int task_code, const char *message) {
  mp__buf_put_u32(meta, (uint32_t)status);
  mp__buf_put_u32(meta, (uint32_t)task_code);
  if (!message) {
    mp__buf_put_u32(meta, NO_MESSAGE);
    return;
  }
  size_t n = strlen(message);
  if (n > MESSAGE_MAX) n = MESSAGE_MAX;
  mp__buf_put_u32(meta, (uint32_t)n);
  mp__buf_put(meta, message, n);
}

static int known_status(int s) { return s <= MP_OK && s >= MP_ESYS; }

int mp__result_decode(const uint8_t *p, size_t len, mp_result *res) {
  mp__rd r;
  mp__rd_init(&r, p, len);
  memset(res, 0, sizeof *res);
  int status = (int)(int32_t)mp__rd_u32(&r);
  int code = (int)(int32_t)mp__rd_u32(&r);
  uint32_t mlen = mp__rd_u32(&r);
  if (r.failed || !known_status(status) || (mlen != NO_MESSAGE && mlen > MESSAGE_MAX))
    return mp__set_error(MP_EPROTO, "malformed result message");
  const uint8_t *msg = mlen == NO_MESSAGE ? NULL : mp__rd_take(&r, mlen);
  if (r.failed || (msg && memchr(msg, 0, mlen)))
    return mp__set_error(MP_EPROTO, "malformed result message text");
  size_t dlen = r.len - r.off;
  if (status != MP_OK && dlen)
    return mp__set_error(MP_EPROTO, "malformed result: a failure with data");
  if (msg) {
    if (!(res->message = malloc((size_t)mlen + 1))) goto nomem;
    memcpy(res->message, msg, mlen);
    res->message[mlen] = '\0';
  }
  if (status == MP_OK && dlen) { /* none: data stays NULL */
    if (!(res->data = malloc(dlen))) goto nomem;
    memcpy(res->data, p + r.off, dlen);
    res->len = dlen;
  }
  res->status = status;
  res->task_code = code;
  return MP_OK;
nomem:
  mp_result_clear(res);
  return mp__set_error(MP_ENOMEM, "out of memory for a result");
}
