/* Growable byte buffers and bounds-checked readers, little-endian on the
 * wire whatever the host, so a message means the same to every process. */
#ifndef MPROC_BUF_H
#define MPROC_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct mp__buf {
  uint8_t *data;
  size_t len, cap;
  int failed;   /* an allocation failed: every later put is ignored */
  int borrowed; /* data is the caller's storage (not freed; moved on growth) */
} mp__buf;

void mp__buf_init(mp__buf *b);
/* Starts in the caller's storage (e.g. on the stack), so a small message
 * costs no allocation; it moves to the heap only if it outgrows it. */
void mp__buf_init_on(mp__buf *b, void *storage, size_t cap);
void mp__buf_release(mp__buf *b);
/* Grows b for n more bytes (out of line: the rare case); 0 or -1. */
int mp__buf_grow(mp__buf *b, size_t n);
/* Inline: a put into room already there is a bounds check and a copy. */
static inline void mp__buf_put(mp__buf *b, const void *p, size_t n) {
  if (n == 0 || (b->cap - b->len < n && mp__buf_grow(b, n) != 0)) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
}
/* memmove for the hot paths, whose copies are mostly a few bytes (a map's
 * items and results): up to 16 bytes as two overlapping fixed-size copies
 * through registers (no call, and overlap is fine), else memmove. */
static inline void mp__move(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + n - 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + n - 4, 4);
    memcpy(d, &a, 4);
    memcpy(d + n - 4, &b, 4);
  } else if (n > 16) {
    memmove(d, s, n);
  } else if (n) {
    /* 1 to 3 bytes: first, middle and last, all read before any write. */
    unsigned char a = s[0], b = s[n >> 1], c = s[n - 1];
    d[0] = a;
    d[n >> 1] = b;
    d[n - 1] = c;
  }
}
void mp__buf_put_u32(mp__buf *b, uint32_t v);
void mp__buf_put_u64(mp__buf *b, uint64_t v);
void mp__buf_put_str(mp__buf *b, const char *s);      /* u32 length + bytes */
void mp__buf_put_bytes(mp__buf *b, const void *p, size_t n); /* u64 length + bytes */

/* A reader never looks past its end: the first short read sets failed and
 * every later get returns zeros, so a decoder checks `failed` once. */
typedef struct mp__rd {
  const uint8_t *p;
  size_t len, off;
  int failed;
} mp__rd;

void mp__rd_init(mp__rd *r, const void *p, size_t len);
uint32_t mp__rd_u32(mp__rd *r);
uint64_t mp__rd_u64(mp__rd *r);
/* A pointer to the next n bytes inside the reader's memory, or NULL. */
const uint8_t *mp__rd_take(mp__rd *r, size_t n);
/* A u32-length string of at most max bytes with no NUL inside, copied into
 * out[cap] and terminated; 0 on success. */
int mp__rd_str(mp__rd *r, char *out, size_t cap);
/* A u64-length byte run: pointer into the reader, or NULL (len 0 is fine
 * and gives a non-NULL pointer). */
const uint8_t *mp__rd_bytes(mp__rd *r, size_t *len);

void mp__store_u32(uint8_t *p, uint32_t v);
void mp__store_u64(uint8_t *p, uint64_t v);
uint32_t mp__load_u32(const uint8_t *p);
uint64_t mp__load_u64(const uint8_t *p);

#endif
