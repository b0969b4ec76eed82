/* The frame reader, fed through a real pipe, against a plain reading of
 * the same bytes.
 *
 * Input: one control byte, then the byte stream a peer writes.
 *   bits 0-2  the stream goes into the pipe 2^k bytes at a time (1..128),
 *             and the reader runs with timeout 0 between writes, so frames
 *             arrive torn at every possible point and each call resumes
 *             what the last one left;
 *   bit 3     bodies land in a buffer of the caller's (a fresh one on each
 *             try), else in one the reader allocates;
 *   bits 4-5  the size limit: 32, 512, 4096 or 1 MiB;
 *   bit 6     mp__frame_reader_fill before each header.
 * Checked: the reader delivers exactly the frames the stream holds, in
 * order, byte for byte, then the end the stream has: MP_ECLOSED (clean or
 * torn) or MP_EPROTO (a bad or oversized header), and keeps answering it.
 * Each delivered body also goes through the decoder its frame type has in
 * the library (result, bootstrap, manager). */
#include <string.h>

#include "boot.h"
#include "core.h"
#include "fuzz.h"
#include "manager_wire.h"
#include "wire.h"

static const size_t limits[4] = {32, 512, 4096, (size_t)1 << 20};

/* The header at p, read here without the library's decoder: MP_OK,
 * MP_EPROTO or MP_ETOOBIG, as mp__frame_header_decode must say. */
static int plain_header(const uint8_t *p, size_t max_len, mp__frame_header *h) {
  if (memcmp(p, "MPRC", 4) != 0 || p[4] != MP__WIRE_VERSION || p[5] == 0 || p[5] > MP__FRAME_TYPE_MAX)
    return MP_EPROTO;
  h->type = p[5];
  h->flags = (uint16_t)(p[6] | p[7] << 8);
  h->id = 0;
  h->len = 0;
  for (int i = 7; i >= 0; i--) {
    h->id = h->id << 8 | p[8 + i];
    h->len = h->len << 8 | p[16 + i];
  }
  return h->len > max_len ? MP_ETOOBIG : MP_OK;
}

/* What the library does with such a body. Only memory errors and leaks
 * matter here; each decoder has a harness of its own for the rest. */
static void decode_body(const mp__frame_header *h, const uint8_t *p, size_t len) {
  switch (h->type) {
  case MP__FRAME_RESULT: {
    mp_result r;
    if (mp__result_decode(p, len, &r) == MP_OK) mp_result_clear(&r);
    break;
  }
  case MP__FRAME_BOOT: {
    mp__boot b;
    if (mp__boot_decode_payload(p, len, &b) == MP_OK) mp__boot_release(&b);
    break;
  }
  case MP__FRAME_MGR_REQUEST: {
    mp__mgr_request rq;
    (void)mp__mgr_decode_request((int)h->flags, p, len, &rq);
    break;
  }
  case MP__FRAME_MGR_REPLY: (void)mp__mgr_reply_status(h->flags); break;
  default: break;
  }
}

typedef struct run {
  const uint8_t *s;   /* the stream */
  size_t n;
  size_t expect_at;   /* where the next frame starts in it */
  size_t max_len;
} run;

/* The reader delivered a frame: it must be the stream's next one. */
static void check_frame(run *t, const mp__frame_header *h, const uint8_t *body) {
  mp__frame_header want;
  FUZZ_CHECK(t->n - t->expect_at >= MP__FRAME_HEADER_SIZE);
  FUZZ_CHECK(plain_header(t->s + t->expect_at, t->max_len, &want) == MP_OK);
  FUZZ_CHECK(h->type == want.type && h->flags == want.flags && h->id == want.id && h->len == want.len);
  size_t at = t->expect_at + MP__FRAME_HEADER_SIZE;
  FUZZ_CHECK(t->n - at >= want.len);
  FUZZ_CHECK(want.len == 0 || memcmp(body, t->s + at, (size_t)want.len) == 0);
  t->expect_at = at + (size_t)want.len;
  decode_body(h, body, (size_t)h->len);
}

/* The reader stopped with rc: it must be where and how the stream ends. */
static void check_end(const run *t, int rc) {
  size_t left = t->n - t->expect_at;
  mp__frame_header h;
  if (left < MP__FRAME_HEADER_SIZE) {
    FUZZ_CHECK(rc == MP_ECLOSED);
    return;
  }
  int want = plain_header(t->s + t->expect_at, t->max_len, &h);
  uint8_t head[MP__FRAME_HEADER_SIZE];
  memcpy(head, t->s + t->expect_at, sizeof head);
  FUZZ_CHECK(mp__frame_header_decode(head, t->max_len, &h) == want);
  if (want != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO); /* an oversized one breaks the channel just the same */
    return;
  }
  FUZZ_CHECK(left - MP__FRAME_HEADER_SIZE < h.len); /* torn in its body */
  FUZZ_CHECK(rc == MP_ECLOSED);
}

/* One attempt at the next frame: MP_OK (checked), MP_ETIMEDOUT, or the end. */
static int next_frame(mp__frame_reader *r, run *t, int into_dst, int fill, double timeout) {
  mp__frame_header h;
  if (fill && !mp__frame_reader_pending(r)) {
    int frc = mp__frame_reader_fill(r, timeout);
    if (frc == MP_ETIMEDOUT) return frc;
    FUZZ_CHECK(frc == MP_OK || frc == MP_ECLOSED || frc == MP_EPROTO);
  }
  int rc = mp__frame_read_header(r, timeout, &h);
  if (rc != MP_OK) return rc;
  FUZZ_CHECK(h.len <= t->max_len);
  if (into_dst) {
    uint8_t *dst = malloc(h.len ? (size_t)h.len : 1);
    FUZZ_CHECK(dst != NULL);
    rc = mp__frame_read_body(r, dst, timeout, NULL);
    if (rc == MP_OK) check_frame(t, &h, dst);
    free(dst);
  } else {
    void *body = NULL;
    rc = mp__frame_read_body(r, NULL, timeout, &body);
    if (rc == MP_OK) {
      FUZZ_CHECK(body != NULL);
      check_frame(t, &h, body);
      free(body);
    }
  }
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t ctl = data[0];
  size_t step = (size_t)1 << (ctl & 7);
  int into_dst = (ctl >> 3) & 1, fill = (ctl >> 6) & 1;
  run t = {data + 1, size - 1, 0, limits[(ctl >> 4) & 3]};
  mp__handle rd, wr;
  FUZZ_CHECK(mp__pipe(&rd, &wr) == MP_OK);
  mp__frame_reader r;
  mp__frame_reader_init(&r, rd, t.max_len);
  size_t fed = 0;
  int end = 0;
  while (!end) {
    double timeout = 0;
    if (fed < t.n) {
      size_t k = t.n - fed < step ? t.n - fed : step;
      FUZZ_CHECK(mp__write_all(wr, t.s + fed, k) == MP_OK);
      fed += k;
    } else {
      if (wr != MP__NO_HANDLE) mp__handle_close(wr);
      wr = MP__NO_HANDLE;
      timeout = 10; /* everything is in: the reader must not wait for more */
    }
    /* Take every frame the bytes so far allow; a timeout means "more". */
    for (;;) {
      int rc = next_frame(&r, &t, into_dst, fill, timeout);
      if (rc == MP_OK) continue;
      if (rc == MP_ETIMEDOUT) {
        FUZZ_CHECK(timeout == 0);
        break;
      }
      check_end(&t, rc);
      mp__frame_header h;
      FUZZ_CHECK(mp__frame_read_header(&r, 0, &h) == rc); /* a broken channel stays broken */
      end = 1;
      break;
    }
  }
  mp__frame_reader_release(&r);
  mp__handle_close(rd);
  mp__handle_close(wr);
  return 0;
}
