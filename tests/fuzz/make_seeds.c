/* Writes the fuzzers' seed corpus: fuzz_seeds <tests/fuzz/corpus>.
 *
 * Small valid inputs made with the library's own encoders, so the fuzzers
 * start from what real peers send, plus a few edges (torn, oversized,
 * mismatched). Each harness's input format is at the top of its
 * fuzz_<name>.c. The directories must exist; files are overwritten. */
#define _CRT_SECURE_NO_WARNINGS /* fopen is fine here (MSVC) */
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "core.h"
#include "manager_wire.h"
#include "pool_wire.h"
#include "queue_ring.h"
#include "wire.h"

static const char *root;
static int failures;

static void save(const char *harness, const char *name, const mp__buf *b) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s/%s", root, harness, name);
  FILE *f = fopen(path, "wb");
  if (!f || b->failed || (b->len && fwrite(b->data, 1, b->len, f) != b->len)) {
    fprintf(stderr, "cannot write %s\n", path);
    failures++;
  }
  if (f) fclose(f);
}

static void put_u8(mp__buf *b, uint8_t v) { mp__buf_put(b, &v, 1); }

static void put_u16(mp__buf *b, uint16_t v) {
  put_u8(b, (uint8_t)v);
  put_u8(b, (uint8_t)(v >> 8));
}

static void put_frame(mp__buf *b, int type, uint16_t flags, uint64_t id, const mp__buf *payload) {
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_header h = {(uint8_t)type, flags, id, payload ? payload->len : 0};
  mp__frame_header_encode(&h, head);
  mp__buf_put(b, head, sizeof head);
  if (payload) mp__buf_put(b, payload->data, payload->len);
}

/* ---------------------------------------------------------------- results */
static void result(mp__buf *b, int status, int code, const char *message, const char *data) {
  mp__result_encode(b, status, code, message);
  if (data) mp__buf_put(b, data, strlen(data));
}

/* -------------------------------------------------------------- bootstrap */
static void boot_payload(mp__buf *b, const mp__boot *boot) {
  mp__buf meta;
  mp__buf_init(&meta);
  mp__boot_encode(boot, &meta);
  mp__buf_put_u32(b, (uint32_t)meta.len);
  mp__buf_put(b, meta.data, meta.len);
  mp__buf_put(b, boot->arg, boot->arg_len);
  mp__buf_release(&meta);
}

static void boot_process(mp__buf *b) {
  static const char arg[] = "12345678";
  mp__boot boot;
  memset(&boot, 0, sizeof boot);
  boot.role = MP__ROLE_PROCESS;
  strcpy(boot.task, "square");
  boot.result = 4;
  boot.tasks = MP__NO_HANDLE;
  boot.arg = (const uint8_t *)arg;
  boot.arg_len = 8;
  boot_payload(b, &boot);
}

static void boot_pool_worker(mp__buf *b) {
  mp__boot_object obj;
  memset(&obj, 0, sizeof obj);
  obj.kind = MP__KIND_CONN;
  obj.nhandles = 2;
  obj.handles[0] = 6;
  obj.handles[1] = 7;
  obj.blob = (const uint8_t *)"abc";
  obj.bloblen = 3;
  mp__boot boot;
  memset(&boot, 0, sizeof boot);
  boot.role = MP__ROLE_POOL_WORKER;
  boot.worker_id = 1;
  boot.result = 4;
  boot.tasks = 5;
  boot.max_tasks = 3;
  boot.nobjects = 1;
  boot.objects = &obj;
  boot.arg = (const uint8_t *)"";
  boot_payload(b, &boot);
}

static void token(const char *harness, const char *name, const char *text) {
  mp__buf b;
  mp__buf_init(&b);
  put_u8(&b, 1);
  mp__buf_put(&b, text, strlen(text));
  save(harness, name, &b);
  mp__buf_release(&b);
}

/* ------------------------------------------------------------------ pool */
static void task_packed(mp__buf *b) {
  mp__task_chunk_encode_head(b, "square", 10, 3, 1, 8);
  for (int i = 0; i < 3; i++) mp__buf_put_u64(b, (uint64_t)(10 + i));
}

static void task_long(mp__buf *b) {
  mp__task_chunk_encode_head(b, "echo", 0, 2, 0, 0);
  mp__buf_put_bytes(b, "abc", 3);
  mp__buf_put_bytes(b, NULL, 0);
}

static void chunk_packed(mp__buf *b, uint32_t n, uint64_t size) {
  mp__buf_put_u32(b, n);
  mp__buf_put_u32(b, 1);
  mp__buf_put_u64(b, size);
  for (uint64_t i = 0; i < n * size; i++) put_u8(b, (uint8_t)i);
}

static void chunk_long(mp__buf *b) {
  mp__chunk_builder cb;
  memset(&cb, 0, sizeof cb);
  mp__chunk_builder_reset(&cb);
  mp__chunk_builder_add(&cb, MP_OK, 0, NULL, "12345678", 8);
  mp__chunk_builder_add(&cb, MP_ETASK, 3, "boom", NULL, 0);
  mp__chunk_builder_add(&cb, MP_OK, 0, NULL, "abcd", 4);
  mp__buf_put_u32(b, cb.n);
  mp__buf_put_u32(b, 0);
  mp__buf_put(b, cb.full.data, cb.full.len);
  mp__chunk_builder_release(&cb);
}

/* ----------------------------------------------------------------- queue */
static void ring_record(mp__buf *b, uint32_t mark, const char *payload, uint32_t len) {
  mp__buf_put_u32(b, len);
  mp__buf_put_u32(b, mark);
  mp__buf_put(b, payload, len);
  for (uint64_t pad = mp__ring_record_size(len) - MP__RING_RECORD_HEAD - len; pad > 0; pad--) put_u8(b, 0);
}

static void ring(const char *name, uint64_t pos, int damaged) {
  mp__buf b;
  mp__buf_init(&b);
  mp__buf_put_u64(&b, pos);
  ring_record(&b, MP__RING_RECORD_MARK, "hello", 5);
  if (damaged) {
    mp__buf_put_u32(&b, 0xFFFFFFF0u); /* a head that claims far more than the ring */
    mp__buf_put_u32(&b, MP__RING_RECORD_MARK);
  } else
    ring_record(&b, MP__RING_RECORD_MARK, "abc", 3);
  ring_record(&b, MP__RING_WRAP_MARK, "", 0);
  for (int i = 0; i < 16; i++) put_u8(&b, 0);
  save("queue_ring", name, &b);
  mp__buf_release(&b);
}

/* --------------------------------------------------------------- manager */
/* A request's payload: u64 obj, u64 num, u32 key length, key, value. */
static void mgr_payload(mp__buf *b, uint64_t obj, uint64_t num, const char *key, size_t keylen, const void *value,
                        size_t vlen) {
  mp__buf_put_u64(b, obj);
  mp__buf_put_u64(b, num);
  mp__buf_put_u32(b, (uint32_t)keylen);
  mp__buf_put(b, key, keylen);
  mp__buf_put(b, value, vlen);
}

/* One request as fuzz_manager.c reads them: u16 op, u16 length, payload. */
static void mgr(mp__buf *b, int op, uint64_t obj, uint64_t num, const char *key, size_t keylen, const void *value,
                size_t vlen) {
  put_u16(b, (uint16_t)op);
  put_u16(b, (uint16_t)(MP__MGR_FIXED + keylen + vlen));
  mgr_payload(b, obj, num, key, keylen, value, vlen);
}

static void mgr_session(mp__buf *b) {
  uint8_t counter[8] = {5, 0, 0, 0, 0, 0, 0, 0};
  mgr(b, MP__MGR_OPEN_DICT, 0, 0, "d", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_SET, 1, 0, "k", 1, "value", 5);
  mgr(b, MP__MGR_DICT_GET, 1, 0, "k", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_SET, 1, 0, "n", 1, counter, sizeof counter);
  mgr(b, MP__MGR_DICT_ADD, 1, 7, "n", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_ADD, 1, mp__mgr_from_i64(-20), "m", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_LEN, 1, 0, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_DICT_DEL, 1, 0, "k", 1, NULL, 0);
  mgr(b, MP__MGR_OPEN_LIST, 0, 0, "l", 1, NULL, 0);
  mgr(b, MP__MGR_LIST_APPEND, 2, 0, NULL, 0, "x", 1);
  mgr(b, MP__MGR_LIST_GET, 2, 0, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_LIST_LEN, 2, 0, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_SHUTDOWN, 0, 0, NULL, 0, NULL, 0);
}

/* One lane step as fuzz_manager_lane.c reads them: u32 op, u32 length,
 * u16 byte count, the bytes. */
static void lane(mp__buf *b, int op, uint64_t obj, uint64_t num, const char *key, size_t keylen, const void *value,
                 size_t vlen) {
  mp__buf p;
  mp__buf_init(&p);
  mgr_payload(&p, obj, num, key, keylen, value, vlen);
  mp__buf_put_u32(b, (uint32_t)op);
  mp__buf_put_u32(b, (uint32_t)p.len);
  put_u16(b, (uint16_t)p.len);
  mp__buf_put(b, p.data, p.len);
  mp__buf_release(&p);
}

static void lane_session(mp__buf *b) {
  lane(b, MP__MGR_OPEN_DICT, 0, 0, "d", 1, NULL, 0);
  lane(b, MP__MGR_DICT_SET, 1, 0, "k", 1, "value", 5);
  lane(b, MP__MGR_DICT_GET, 1, 0, "k", 1, NULL, 0);
  lane(b, MP__MGR_DICT_ADD, 1, 7, "n", 1, NULL, 0);
  lane(b, MP__MGR_DICT_GET, 1, 0, "missing", 7, NULL, 0);
  lane(b, MP__MGR_OPEN_LIST, 0, 0, "l", 1, NULL, 0);
  lane(b, MP__MGR_LIST_APPEND, 2, 0, NULL, 0, "x", 1);
  lane(b, MP__MGR_LIST_LEN, 2, 0, NULL, 0, NULL, 0);
  /* Response words: status 2 (a failure), 3 bytes. */
  mp__buf_put_u32(b, 2);
  mp__buf_put_u32(b, 3);
}

static void lane_hostile(mp__buf *b) {
  lane(b, MP__MGR_HELLO, 0, 1, NULL, 0, NULL, 0);
  lane(b, MP__MGR_LANE, 0, 0, NULL, 0, NULL, 0);
  lane(b, 999, 0, 0, NULL, 0, NULL, 0);
  /* A length past the area, and past the bytes given. */
  mp__buf_put_u32(b, MP__MGR_DICT_LEN);
  mp__buf_put_u32(b, 0xFFFFFFF0u);
  put_u16(b, 0);
  mp__buf_put_u32(b, MP__MGR_DICT_LEN);
  mp__buf_put_u32(b, 4000);
  put_u16(b, 0);
  /* Response words: "on the socket", then a length past the area. */
  mp__buf_put_u32(b, 0);
  mp__buf_put_u32(b, 0xFFFFFFFFu);
}

static void mgr_odd(mp__buf *b) {
  static const char token32[] = "0123456789abcdef0123456789abcdef";
  mgr(b, MP__MGR_HELLO, 0, MP__MGR_PROTOCOL, NULL, 0, token32, 32);
  mgr(b, MP__MGR_OPEN_DICT, 0, 0, "d", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_ADD, 1, 1, "k", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_SET, 1, 0, "k", 1, "abc", 3);
  mgr(b, MP__MGR_DICT_ADD, 1, 1, "k", 1, NULL, 0);      /* not a counter */
  mgr(b, MP__MGR_DICT_GET, 2, 0, "k", 1, NULL, 0);      /* no such object */
  mgr(b, MP__MGR_LIST_GET, 1, 0, NULL, 0, NULL, 0);     /* a dict, not a list */
  mgr(b, MP__MGR_DICT_SET, 1, 0, "a\0b", 3, "v", 1);    /* a NUL in the key */
  mgr(b, 99, 0, 0, NULL, 0, NULL, 0);                   /* no such op */
  mgr(b, MP__MGR_DICT_LEN, 1, 5, NULL, 0, NULL, 0);     /* a number it does not take */
}

/* ------------------------------------------------------------------ main */
typedef void (*fill_fn)(mp__buf *b);

static void one(const char *harness, const char *name, int selector, fill_fn fill) {
  mp__buf b;
  mp__buf_init(&b);
  if (selector >= 0) put_u8(&b, (uint8_t)selector);
  fill(&b);
  save(harness, name, &b);
  mp__buf_release(&b);
}

static void ok_data(mp__buf *b) { result(b, MP_OK, 0, NULL, "hello"); }
static void ok_empty(mp__buf *b) { result(b, MP_OK, 0, NULL, NULL); }
static void ok_message(mp__buf *b) { result(b, MP_OK, 0, "", "x"); }
static void failed(mp__buf *b) { result(b, MP_ETASK, 3, "it went wrong", NULL); }
static void crashed(mp__buf *b) { result(b, MP_ECRASHED, -11, NULL, NULL); }
static void failed_with_data(mp__buf *b) { result(b, MP_ETASK, 1, "m", "data"); }

static void frame_result(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  ok_data(&p);
  put_frame(b, MP__FRAME_RESULT, 0, 1, &p);
  mp__buf_release(&p);
}

static void frame_two_data(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  mp__buf_put(&p, "abc", 3);
  put_frame(b, MP__FRAME_DATA, 0, 1, &p);
  put_frame(b, MP__FRAME_DATA, 0, 2, NULL);
  mp__buf_release(&p);
}

static void frame_task(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  task_packed(&p);
  put_frame(b, MP__FRAME_TASK, 0, 7, &p);
  mp__buf_release(&p);
}

static void frame_boot(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  boot_pool_worker(&p);
  put_frame(b, MP__FRAME_BOOT, 0, 0, &p);
  mp__buf_release(&p);
}

static void frame_chunk(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  chunk_long(&p);
  put_frame(b, MP__FRAME_CHUNK, 0, 7, &p);
  mp__buf_release(&p);
}

static void frame_manager(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  mgr_payload(&p, 1, 0, "k", 1, "v", 1);
  put_frame(b, MP__FRAME_MGR_REQUEST, MP__MGR_DICT_SET, 3, &p);
  put_frame(b, MP__FRAME_MGR_REPLY, (uint16_t)-MP_ENOTFOUND, 3, NULL);
  mp__buf_release(&p);
}

static void frame_torn_header(mp__buf *b) {
  frame_result(b);
  b->len = 10;
}

static void frame_torn_body(mp__buf *b) {
  frame_task(b);
  b->len -= 5;
}

static void frame_bad_magic(mp__buf *b) {
  frame_two_data(b);
  b->data[0] ^= 0xFF;
}

static void frame_big(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  for (int i = 0; i < 3000; i++) put_u8(&p, (uint8_t)(i * 7));
  put_frame(b, MP__FRAME_DATA, 0, 9, &p);
  put_frame(b, MP__FRAME_DATA, 0, 10, NULL);
  mp__buf_release(&p);
}

static void nothing(mp__buf *b) { (void)b; }
static void process_boot(mp__buf *b) { boot_process(b); }
static void process_boot_truncated(mp__buf *b) {
  boot_process(b);
  mp__store_u32(b->data + 1, mp__load_u32(b->data + 1) - 1);
}
static void chunk_packed_3(mp__buf *b) { chunk_packed(b, 3, 8); }
static void chunk_packed_empty(mp__buf *b) { chunk_packed(b, 4, 0); }

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
    return 2;
  }
  root = argv[1];
  /* frame: control byte (see fuzz_frame.c), then the stream. */
  one("frame", "result-128-byte-writes", 0x27, frame_result);
  one("frame", "two-data-bytewise", 0x20, frame_two_data);
  one("frame", "task-into-buffer", 0x2B, frame_task);
  one("frame", "boot", 0x25, frame_boot);
  one("frame", "chunk-with-fill", 0x63, frame_chunk);
  one("frame", "manager", 0x24, frame_manager);
  one("frame", "torn-header", 0x27, frame_torn_header);
  one("frame", "torn-body", 0x22, frame_torn_body);
  one("frame", "bad-magic", 0x27, frame_bad_magic);
  one("frame", "over-limit", 0x07, frame_two_data);
  one("frame", "big-body-into-buffer", 0x3F, frame_big);
  one("frame", "empty", 0x00, nothing);
  /* result: the payload. */
  one("result", "ok-data", -1, ok_data);
  one("result", "ok-empty", -1, ok_empty);
  one("result", "ok-empty-message", -1, ok_message);
  one("result", "failed", -1, failed);
  one("result", "crashed", -1, crashed);
  one("result", "failed-with-data", -1, failed_with_data);
  /* boot: even selector, payload; odd selector, token. */
  one("boot", "process", 0, process_boot);
  one("boot", "pool-worker", 0, boot_pool_worker);
  one("boot", "truncated-meta", 0, process_boot_truncated);
  token("boot", "token", "--mproc-worker=1:5");
  token("boot", "token-18-digits", "--mproc-worker=1:123456789012345678");
  token("boot", "token-19-digits", "--mproc-worker=1:1234567890123456789");
  token("boot", "token-version-2", "--mproc-worker=2:5");
  token("boot", "token-no-number", "--mproc-worker=1:");
  token("boot", "token-trailing", "--mproc-worker=1:5x");
  /* pool_chunk: selector (see fuzz_pool_chunk.c), then the payload. */
  one("pool_chunk", "task-packed", 0, task_packed);
  one("pool_chunk", "task-long", 0, task_long);
  one("pool_chunk", "result-packed", 3, chunk_packed_3);
  one("pool_chunk", "result-packed-empty-items", 3, chunk_packed_empty);
  one("pool_chunk", "result-long", 3, chunk_long);
  one("pool_chunk", "result-count-mismatch", (5 << 2) | 1, chunk_long);
  /* queue_ring: u64 position, then the ring. */
  ring("records-then-wrap", 0, 0);
  ring("at-the-wrap", 32, 0);
  ring("damaged-length", 0, 1);
  ring("position-past-the-end", UINT64_MAX - 3, 0);
  /* manager: requests. */
  one("manager", "session", -1, mgr_session);
  one("manager", "refused", -1, mgr_odd);
  /* manager_lane: lane steps, then response words. */
  one("manager_lane", "session", -1, lane_session);
  one("manager_lane", "hostile", -1, lane_hostile);
  return failures ? 1 : 0;
}
