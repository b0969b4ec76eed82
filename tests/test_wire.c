/* The wire format and the parsers that read what another process wrote:
 * frames, the worker token, the bootstrap message, the result message.
 * Malformed input gives MP_EPROTO (or MP_ECLOSED for a torn stream), never
 * a crash and never an allocation of what a header merely claims. */
#define _CRT_SECURE_NO_WARNINGS /* strcpy is fine here (MSVC deprecates it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "testutil.h"
#include "wire.h"

typedef struct pipe_pair {
  mp__handle r, w;
} pipe_pair;

static pipe_pair make_pipe(void) {
  pipe_pair p;
  TU_CHECK(mp__pipe(&p.r, &p.w), MP_OK);
  return p;
}

static void close_pipe(pipe_pair *p) {
  mp__handle_close(p->r);
  mp__handle_close(p->w);
}

static void raw_header(uint8_t out[MP__FRAME_HEADER_SIZE], uint32_t magic, uint8_t version, uint8_t type,
                       uint64_t len) {
  mp__store_u32(out, magic);
  out[4] = version;
  out[5] = type;
  out[6] = out[7] = 0;
  mp__store_u64(out + 8, 7);
  mp__store_u64(out + 16, len);
}

static void header_round_trip(void **state) {
  (void)state;
  mp__frame_header h = {MP__FRAME_DATA, 0x1234, 0xfeedfacecafebeefull, 123456789}, back;
  uint8_t bytes[MP__FRAME_HEADER_SIZE];
  mp__frame_header_encode(&h, bytes);
  TU_CHECK(mp__frame_header_decode(bytes, 1u << 30, &back), MP_OK);
  assert_int_equal(back.type, h.type);
  assert_int_equal(back.flags, h.flags);
  assert_true(back.id == h.id);
  assert_true(back.len == h.len);
  TU_CHECK(mp__frame_header_decode(bytes, 1000, &back), MP_ETOOBIG);
}

static void bad_headers_are_refused(void **state) {
  (void)state;
  uint8_t b[MP__FRAME_HEADER_SIZE];
  mp__frame_header h;
  raw_header(b, 0xdeadbeef, MP__WIRE_VERSION, MP__FRAME_DATA, 1);
  TU_CHECK(mp__frame_header_decode(b, 100, &h), MP_EPROTO);
  raw_header(b, MP__FRAME_MAGIC, 99, MP__FRAME_DATA, 1);
  TU_CHECK(mp__frame_header_decode(b, 100, &h), MP_EPROTO);
  raw_header(b, MP__FRAME_MAGIC, MP__WIRE_VERSION, 0, 1);
  TU_CHECK(mp__frame_header_decode(b, 100, &h), MP_EPROTO);
  raw_header(b, MP__FRAME_MAGIC, MP__WIRE_VERSION, 200, 1);
  TU_CHECK(mp__frame_header_decode(b, 100, &h), MP_EPROTO);
}

static void frames_survive_a_pipe(void **state) {
  (void)state;
  pipe_pair p = make_pipe();
  mp__frame_reader r;
  mp__frame_reader_init(&r, p.r, 1u << 20);
  const char a[] = "hello", b[] = " world";
  TU_CHECK(mp__frame_write(p.w, MP__FRAME_DATA, 42, a, 5, b, 6), MP_OK);
  TU_CHECK(mp__frame_write(p.w, MP__FRAME_DATA, 43, NULL, 0, NULL, 0), MP_OK);
  mp__frame_header h;
  void *body = NULL;
  TU_CHECK(mp__frame_read_header(&r, 1, &h), MP_OK);
  assert_true(h.id == 42 && h.len == 11);
  TU_CHECK(mp__frame_read_body(&r, NULL, 1, &body), MP_OK);
  assert_memory_equal(body, "hello world", 11);
  free(body);
  TU_CHECK(mp__frame_read_header(&r, 1, &h), MP_OK);
  assert_true(h.id == 43 && h.len == 0);
  TU_CHECK(mp__frame_read_body(&r, NULL, 1, &body), MP_OK);
  assert_non_null(body);
  free(body);
  TU_CHECK(mp__frame_read_header(&r, 0, &h), MP_ETIMEDOUT);
  mp__handle_close(p.w);
  p.w = MP__NO_HANDLE;
  TU_CHECK(mp__frame_read_header(&r, 1, &h), MP_ECLOSED);
  mp__frame_reader_release(&r);
  close_pipe(&p);
}

/* Half a frame, a timeout, the rest: the frame arrives whole. */
static void partial_frames_resume_after_a_timeout(void **state) {
  (void)state;
  pipe_pair p = make_pipe();
  mp__frame_reader r;
  mp__frame_reader_init(&r, p.r, 1u << 20);
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_header fh = {MP__FRAME_DATA, 0, 1, 10};
  mp__frame_header_encode(&fh, head);
  mp__frame_header h;
  void *body = NULL;
  TU_CHECK(mp__write_all(p.w, head, 10), MP_OK);
  TU_CHECK(mp__frame_read_header(&r, 0.01, &h), MP_ETIMEDOUT);
  TU_CHECK(mp__write_all(p.w, head + 10, MP__FRAME_HEADER_SIZE - 10), MP_OK);
  TU_CHECK(mp__write_all(p.w, "01234", 5), MP_OK);
  char dst[10];
  TU_CHECK(mp__frame_read_body(&r, dst, 0.01, NULL), MP_ETIMEDOUT);
  TU_CHECK(mp__write_all(p.w, "56789", 5), MP_OK);
  TU_CHECK(mp__frame_read_body(&r, NULL, 1, &body), MP_OK);
  assert_memory_equal(body, "0123456789", 10);
  free(body);
  mp__frame_reader_release(&r);
  close_pipe(&p);
}

/* A header claiming 1 GiB followed by 3 bytes and EOF: the reader must
 * neither allocate the gigabyte nor deliver the 3 bytes. */
static void a_lying_header_allocates_nothing(void **state) {
  (void)state;
  pipe_pair p = make_pipe();
  mp__frame_reader r;
  mp__frame_reader_init(&r, p.r, (size_t)1 << 30);
  uint8_t head[MP__FRAME_HEADER_SIZE];
  raw_header(head, MP__FRAME_MAGIC, MP__WIRE_VERSION, MP__FRAME_DATA, (uint64_t)1 << 30);
  TU_CHECK(mp__write_all(p.w, head, sizeof head), MP_OK);
  TU_CHECK(mp__write_all(p.w, "abc", 3), MP_OK);
  mp__handle_close(p.w);
  p.w = MP__NO_HANDLE;
  void *body = NULL;
  TU_CHECK(mp__frame_read_body(&r, NULL, 5, &body), MP_ECLOSED);
  assert_null(body);
  assert_true(r.body_cap <= 64 * 1024);
  mp__frame_header h;
  TU_CHECK(mp__frame_read_header(&r, 0, &h), MP_ECLOSED); /* stays broken */
  mp__frame_reader_release(&r);
  close_pipe(&p);
}

static void garbage_is_a_protocol_error(void **state) {
  (void)state;
  pipe_pair p = make_pipe();
  mp__frame_reader r;
  mp__frame_reader_init(&r, p.r, 1u << 20);
  char junk[100];
  memset(junk, 'x', sizeof junk);
  TU_CHECK(mp__write_all(p.w, junk, sizeof junk), MP_OK);
  mp__frame_header h;
  TU_CHECK(mp__frame_read_header(&r, 1, &h), MP_EPROTO);
  TU_CHECK(mp__frame_read_header(&r, 1, &h), MP_EPROTO);
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_reader_release(&r);
  mp__frame_reader_init(&r, p.r, 100);
  raw_header(head, MP__FRAME_MAGIC, MP__WIRE_VERSION, MP__FRAME_DATA, 101);
  close_pipe(&p);
  p = make_pipe();
  r.h = p.r;
  TU_CHECK(mp__write_all(p.w, head, sizeof head), MP_OK);
  TU_CHECK(mp__frame_read_header(&r, 1, &h), MP_EPROTO); /* over this reader's limit */
  mp__frame_reader_release(&r);
  close_pipe(&p);
}

static void tokens_parse_strictly(void **state) {
  (void)state;
  char tok[MP__TOKEN_MAX];
  mp__handle h = 0;
  mp__token_format(123, tok);
  TU_CHECK(mp__token_parse(tok, &h), MP_OK);
  assert_true(h == 123);
  const char *bad[] = {"", "--mproc-worker=", "--mproc-worker=1:", "--mproc-worker=2:5",
                       "--mproc-worker=1:5x", "--mproc-worker=1:-5", "--mproc-worker=1:99999999999999999999",
                       "--mproc-worker1:5", "--other=1:5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) TU_CHECK(mp__token_parse(bad[i], &h), MP_EPROTO);
  TU_CHECK(mp__token_parse(NULL, &h), MP_EPROTO);
}

static void boot_messages_round_trip_and_reject_damage(void **state) {
  (void)state;
  mp__boot b, d;
  mp__boot_object obj;
  memset(&b, 0, sizeof b);
  memset(&obj, 0, sizeof obj);
  b.role = MP__ROLE_PROCESS;
  b.worker_id = 3;
  strcpy(b.task, "square");
  b.result = 9;

  obj.kind = MP__KIND_CONN;
  obj.nhandles = 2;
  obj.handles[0] = 5;
  obj.handles[1] = 6;
  obj.blob = (const uint8_t *)"\x03\x00\x00\x00";
  obj.bloblen = 4;
  b.objects = &obj;
  b.nobjects = 1;
  b.arg_len = 4;
  mp__buf meta;
  mp__buf_init(&meta);
  mp__boot_encode(&b, &meta);
  assert_false(meta.failed);
  TU_CHECK(mp__boot_decode(meta.data, meta.len, (const uint8_t *)"abcd", 4, &d), MP_OK);
  assert_string_equal(d.task, "square");
  assert_int_equal(d.worker_id, 3);
  assert_true(d.result == 9 && d.nobjects == 1 && d.objects[0].handles[1] == 6);
  mp__boot_release(&d);
  /* Every truncation, and every single-byte change, decodes or fails
   * cleanly; wrong argument length is caught. */
  for (size_t cut = 0; cut < meta.len; cut++)
    TU_CHECK(mp__boot_decode(meta.data, cut, (const uint8_t *)"abcd", 4, &d), MP_EPROTO);
  TU_CHECK(mp__boot_decode(meta.data, meta.len, (const uint8_t *)"abc", 3, &d), MP_EPROTO);
  for (size_t i = 0; i < meta.len; i++) {
    uint8_t saved = meta.data[i];
    meta.data[i] ^= 0xff;
    if (mp__boot_decode(meta.data, meta.len, (const uint8_t *)"abcd", 4, &d) == MP_OK) mp__boot_release(&d);
    meta.data[i] = saved;
  }
  uint8_t tiny[3] = {1, 2, 3};
  TU_CHECK(mp__boot_decode_payload(tiny, sizeof tiny, &d), MP_EPROTO);
  mp__buf_release(&meta);
}

static void result_messages_reject_damage(void **state) {
  (void)state;
  mp__buf m;
  mp_result r;
  mp__buf_init(&m);
  mp__result_encode(&m, MP_ETASK, 5, "went wrong");
  TU_CHECK(mp__result_decode(m.data, m.len, &r), MP_OK);
  assert_int_equal(r.status, MP_ETASK);
  assert_int_equal(r.task_code, 5);
  assert_string_equal(r.message, "went wrong");
  mp_result_clear(&r);
  for (size_t cut = 0; cut < m.len; cut++) TU_CHECK(mp__result_decode(m.data, cut, &r), MP_EPROTO);
  mp__buf_release(&m);
  mp__buf_init(&m);
  mp__result_encode(&m, 77, 0, NULL); /* not a status we know */
  TU_CHECK(mp__result_decode(m.data, m.len, &r), MP_EPROTO);
  mp__buf_release(&m);
  mp__buf_init(&m);
  mp__result_encode(&m, MP_OK, 0, NULL);
  mp__buf_put(&m, "data", 4);
  TU_CHECK(mp__result_decode(m.data, m.len, &r), MP_OK);
  assert_int_equal(r.len, 4);
  assert_memory_equal(r.data, "data", 4);
  assert_null(r.message);
  mp_result_clear(&r);
  mp__buf_release(&m);
}

int main(int argc, char **argv) {
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(header_round_trip),
      TU_TEST(bad_headers_are_refused),
      TU_TEST(frames_survive_a_pipe),
      TU_TEST(partial_frames_resume_after_a_timeout),
      TU_TEST(a_lying_header_allocates_nothing),
      TU_TEST(garbage_is_a_protocol_error),
      TU_TEST(tokens_parse_strictly),
      TU_TEST(boot_messages_round_trip_and_reject_damage),
      TU_TEST(result_messages_reject_damage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
