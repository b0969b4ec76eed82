/* The pool's two readers of shared memory another process wrote: a
 * worker walking a task record's items (src/pool_ring.c), and the pool
 * reading a worker's result ring (src/pool_out.c), which a broken or
 * hostile worker may fill with anything.
 *
 * Input: one selector byte, then the bytes.
 *   bit 0 clear: a task record's payload. Checked: every item the walk
 *     hands out lies inside the payload, and a walk that ends cleanly
 *     gave exactly the head's n items.
 *   bit 0 set: a result ring of 64 << (bits 1-3) bytes; the next two bytes
 *     place the reader's head (times 8), the rest is what the ring holds
 *     from there on (wrapping). Checked: every outcome handed out has its
 *     bytes inside the ring or the reader's own buffer for pieces, a NUL-
 *     terminated text of at most MP__OUT_TEXT_MAX, a known failure status,
 *     a run's items lie whole inside the ring, and the reader's head only
 *     moves forward, never past the tail (stopping before it only at a run
 *     that may still grow). */
#include <string.h>

#include "fuzz.h"
#include "pool_out.h"
#include "pool_ring.h"

static void task_items(const uint8_t *p, size_t n) {
  /* The walker reads the head in place: give it aligned memory, as the
   * ring does. */
  uint64_t *copy = malloc((n / 8 + 1) * 8);
  if (!copy) return;
  if (n) memcpy(copy, p, n);
  const uint8_t *q = (const uint8_t *)copy;
  mp__task_items it;
  if (mp__task_items_open(q, n, &it) == MP_OK) {
    uint32_t got = 0;
    const uint8_t *data;
    size_t len;
    int r;
    while ((r = mp__task_items_next(&it, &data, &len)) == 1) {
      FUZZ_CHECK(fuzz_inside(data, len, q, n));
      got++;
    }
    FUZZ_CHECK(r == 0 ? got == it.head.n : r == MP_EPROTO);
  }
  free(copy);
}

typedef struct seen {
  const uint8_t *ring;
  uint64_t cap;
  mp__out_reader *r;
} seen;

static int check(void *ud, mp__out_event *e) {
  seen *s = ud;
  switch (e->type) {
  case MP__OUT_CHUNK: break;
  case MP__OUT_OK:
    FUZZ_CHECK(e->len <= MP_MAX_MESSAGE);
    if (e->big)
      FUZZ_CHECK(e->big == &s->r->big && e->len == e->big->len);
    else
      FUZZ_CHECK(fuzz_inside(e->data, e->len, s->ring, (size_t)s->cap));
    break;
  case MP__OUT_RUN:
    FUZZ_CHECK(e->len <= MP_MAX_MESSAGE && e->count > 0);
    FUZZ_CHECK(fuzz_inside(e->data, (size_t)e->count * e->len, s->ring, (size_t)s->cap));
    break;
  case MP__OUT_FAIL:
    FUZZ_CHECK(e->status < 0 && e->status >= MP_ESYS);
    /* fall through */
  case MP__OUT_INIT_FAILED:
    FUZZ_CHECK(memchr(e->text, 0, sizeof e->text) != NULL && strlen(e->text) <= MP__OUT_TEXT_MAX);
    break;
  default: FUZZ_CHECK(!"an event of no known type");
  }
  return 0;
}

static void result_ring(uint8_t sel, const uint8_t *p, size_t n) {
  uint64_t cap = (uint64_t)64 << ((sel >> 1) & 7);
  if (n < 2) return;
  uint64_t head = (uint64_t)(p[0] | p[1] << 8) * 8;
  p += 2;
  n -= 2;
  size_t fill = n < cap ? n : (size_t)cap;
  uint64_t *mem = calloc((size_t)cap / 8, 8);
  if (!mem) return;
  uint8_t *ring = (uint8_t *)mem;
  for (size_t i = 0; i < fill; i++) ring[(head + i) % cap] = p[i];
  mp__out_reader r;
  mp__out_reader_init(&r);
  r.head = head;
  seen s = {ring, cap, &r};
  uint64_t tail = head + fill;
  int rc = mp__out_read(&r, ring, cap, tail, check, &s);
  FUZZ_CHECK(rc == MP_OK || rc == MP_EPROTO || rc == MP_ENOMEM);
  FUZZ_CHECK(r.head >= head && r.head <= tail);
  if (rc == MP_OK && r.head != tail) {
    /* Only an open run stops it short: a RUN record at head, the last. */
    const uint8_t *at = ring + (r.head & (cap - 1));
    uint32_t len;
    uint16_t type;
    memcpy(&len, at, 4);
    memcpy(&type, at + 4, 2);
    FUZZ_CHECK(type == MP__OUT_RUN && r.head + len >= tail);
  }
  /* Reading on from where it stopped never goes back either. */
  uint64_t again = r.head;
  (void)mp__out_read(&r, ring, cap, tail, check, &s);
  FUZZ_CHECK(r.head >= again && r.head <= tail);
  mp__out_reader_release(&r);
  free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    result_ring(data[0], data + 1, size - 1);
  else
    task_items(data + 1, size - 1);
  return 0;
}
