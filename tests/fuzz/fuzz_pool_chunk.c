/* The pool's chunk decoders (src/pool_wire.c): a TASK frame as a worker
 * reads it from its pool, and a CHUNK frame of outcomes as the pool reads
 * it from a worker that may be broken or hostile.
 *
 * Input: one selector byte, then the payload.
 *   bit 0 clear: a TASK payload. Checked: it decodes to items that lie in
 *     the payload and encode back to the very same bytes.
 *   bit 0 set: a CHUNK payload; the pool expects as many outcomes as the
 *     payload's own count (bit 1 set) or selector >> 2 (0..63). Checked:
 *     the short form (mp__chunk_packed) is only claimed for back-to-back
 *     results inside the payload, and then the long decoder agrees; every
 *     outcome the decoder hands out has its data inside the payload, a
 *     known status, no data on failure, a NUL-terminated message, and
 *     they come in order, as many as expected when the decode succeeds. */
#include <string.h>

#include "fuzz.h"
#include "pool_wire.h"

static void task_chunk(const uint8_t *p, size_t n) {
  mp__task_chunk c;
  int rc = mp__task_chunk_decode(p, n, &c);
  if (rc != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO && c.items == NULL);
    return;
  }
  FUZZ_CHECK(c.n >= 1 && c.n <= MP__MAX_CHUNK_ITEMS && strlen(c.task) <= MP__TASK_NAME_MAX);
  int packed = c.items == NULL;
  mp__buf b;
  mp__buf_init(&b);
  mp__task_chunk_encode_head(&b, c.task, c.first, c.n, packed, c.size);
  for (uint32_t i = 0; i < c.n; i++) {
    size_t len;
    const uint8_t *item = mp__task_chunk_item(&c, i, &len);
    FUZZ_CHECK(fuzz_inside(item, len, p, n));
    if (!packed) mp__buf_put_u64(&b, (uint64_t)len);
    mp__buf_put(&b, item, len);
  }
  FUZZ_CHECK(!b.failed && b.len == n && memcmp(b.data, p, n) == 0);
  mp__buf_release(&b);
  mp__task_chunk_release(&c);
}

typedef struct seen {
  const uint8_t *p;     /* the payload */
  size_t n;
  uint32_t next;        /* the index the next outcome must have */
  const uint8_t *packed; /* the short form's bytes, if mp__chunk_packed said so */
  size_t size;
} seen;

static void check_outcome(void *ud, uint32_t i, const mp__outcome *o) {
  seen *s = ud;
  FUZZ_CHECK(i == s->next);
  s->next++;
  FUZZ_CHECK(o->status <= MP_OK && o->status >= MP_ESYS);
  FUZZ_CHECK(o->status == MP_OK || o->len == 0);
  FUZZ_CHECK(o->len == 0 || fuzz_inside(o->data, o->len, s->p, s->n));
  if (o->message) FUZZ_CHECK(strlen(o->message) <= 64 * 1024);
  if (s->packed) {
    FUZZ_CHECK(o->status == MP_OK && o->message == NULL && o->len == s->size);
    FUZZ_CHECK(o->len == 0 || o->data == s->packed + (size_t)i * s->size);
  }
}

static void result_chunk(const uint8_t *p, size_t n, uint32_t expect) {
  seen s = {p, n, 0, NULL, 0};
  const uint8_t *packed = NULL;
  size_t size = 0;
  if (mp__chunk_packed(p, n, expect, &packed, &size)) {
    FUZZ_CHECK(expect == 0 || size <= n / expect);
    FUZZ_CHECK(fuzz_inside(packed, size * expect, p, n) && packed + size * expect == p + n);
    s.packed = packed;
    s.size = size;
  }
  int rc = mp__chunk_decode(p, n, expect, check_outcome, &s);
  if (s.packed) FUZZ_CHECK(rc == MP_OK);
  if (rc == MP_OK)
    FUZZ_CHECK(s.next == expect);
  else
    FUZZ_CHECK(rc == MP_EPROTO && s.next <= expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  if (!(data[0] & 1)) {
    task_chunk(p, n);
    return 0;
  }
  uint32_t expect = data[0] >> 2;
  if (data[0] & 2) {
    if (n < 4) return 0;
    expect = mp__load_u32(p);
    /* A pool never sends more items than this, so never expects more. */
    if (expect > MP__MAX_CHUNK_ITEMS) return 0;
  }
  result_chunk(p, n, expect);
  return 0;
}
