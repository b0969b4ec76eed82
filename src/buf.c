#include "buf.h"

#include <stdlib.h>
#include <string.h>

void mp__store_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

void mp__store_u64(uint8_t *p, uint64_t v) {
  mp__store_u32(p, (uint32_t)v);
  mp__store_u32(p + 4, (uint32_t)(v >> 32));
}

uint32_t mp__load_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t mp__load_u64(const uint8_t *p) {
  return (uint64_t)mp__load_u32(p) | (uint64_t)mp__load_u32(p + 4) << 32;
}

void mp__buf_init(mp__buf *b) { memset(b, 0, sizeof *b); }

void mp__buf_init_on(mp__buf *b, void *storage, size_t cap) {
  mp__buf_init(b);
  b->data = storage;
  b->cap = cap;
  b->borrowed = 1;
}

void mp__buf_release(mp__buf *b) {
  if (!b->borrowed) free(b->data);
  mp__buf_init(b);
}

static int buf_reserve(mp__buf *b, size_t n) {
  if (b->failed) return -1;
  if (n > SIZE_MAX - b->len) goto fail;
  if (b->len + n <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + n) {
    if (cap > SIZE_MAX / 2) { cap = b->len + n; break; }
    cap *= 2;
  }
  uint8_t *p = b->borrowed ? malloc(cap) : realloc(b->data, cap);
  if (!p) goto fail;
  if (b->borrowed && b->len) memcpy(p, b->data, b->len);
  b->borrowed = 0;
  b->data = p;
  b->cap = cap;
  return 0;
fail:
  b->failed = 1;
  b->cap = b->len; /* no room left: the inline put ignores every later put */
  return -1;
}

int mp__buf_grow(mp__buf *b, size_t n) { return buf_reserve(b, n); }

void mp__buf_put_u32(mp__buf *b, uint32_t v) {
  uint8_t tmp[4];
  mp__store_u32(tmp, v);
  mp__buf_put(b, tmp, sizeof tmp);
}

void mp__buf_put_u64(mp__buf *b, uint64_t v) {
  uint8_t tmp[8];
  mp__store_u64(tmp, v);
  mp__buf_put(b, tmp, sizeof tmp);
}

void mp__buf_put_str(mp__buf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  mp__buf_put_u32(b, (uint32_t)n);
  mp__buf_put(b, s, n);
}

void mp__buf_put_bytes(mp__buf *b, const void *p, size_t n) {
  mp__buf_put_u64(b, (uint64_t)n);
  mp__buf_put(b, p, n);
}

void mp__rd_init(mp__rd *r, const void *p, size_t len) {
  r->p = p;
  r->len = len;
  r->off = 0;
  r->failed = 0;
}

const uint8_t *mp__rd_take(mp__rd *r, size_t n) {
  if (r->failed || n > r->len - r->off) {
    r->failed = 1;
    return NULL;
  }
  if (n == 0 && !r->p) return (const uint8_t *)""; /* empty but present */
  const uint8_t *p = r->p + r->off;
  r->off += n;
  return p;
}

uint32_t mp__rd_u32(mp__rd *r) {
  const uint8_t *p = mp__rd_take(r, 4);
  return p ? mp__load_u32(p) : 0;
}

uint64_t mp__rd_u64(mp__rd *r) {
  const uint8_t *p = mp__rd_take(r, 8);
  return p ? mp__load_u64(p) : 0;
}

int mp__rd_str(mp__rd *r, char *out, size_t cap) {
  uint32_t n = mp__rd_u32(r);
  if (r->failed || n >= cap) goto bad;
  const uint8_t *p = mp__rd_take(r, n);
  if (!p || memchr(p, 0, n)) goto bad;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
bad:
  r->failed = 1;
  out[0] = '\0';
  return -1;
}

const uint8_t *mp__rd_bytes(mp__rd *r, size_t *len) {
  uint64_t n = mp__rd_u64(r);
  *len = 0;
  if (r->failed || n > (uint64_t)(r->len - r->off)) {
    r->failed = 1;
    return NULL;
  }
  *len = (size_t)n;
  return mp__rd_take(r, (size_t)n);
}
