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
#include "pool_arena.h"
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
  boot.result = MP__NO_HANDLE;
  boot.max_tasks = 3;
  boot.nchannel = 2;
  boot.channel[0] = 4;
  boot.channel[1] = 5;
  boot.channel_blob = (const uint8_t *)"arena";
  boot.channel_bloblen = 5;
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
/* A task record's payload: the head, then the items. */
static void task_head(mp__buf *b, const char *task, uint64_t first, uint32_t n, uint32_t size) {
  mp__task_head h;
  memset(&h, 0, sizeof h);
  strcpy(h.task, task);
  h.first = first;
  h.n = n;
  h.item_size = size;
  mp__buf_put(b, &h, sizeof h);
}

static void task_packed(mp__buf *b) {
  put_u8(b, 0);
  task_head(b, "square", 10, 3, 8);
  for (uint64_t i = 0; i < 3; i++) {
    uint64_t v = 10 + i;
    mp__buf_put(b, &v, 8);
  }
}

static void slice(mp__buf *b, const char *s, uint64_t len) {
  uint64_t zero = 0;
  mp__buf_put(b, &len, 8);
  mp__buf_put(b, &zero, 8);
  mp__buf_put(b, s, (size_t)len);
  for (uint64_t k = len; k % 16; k++) put_u8(b, 0);
}

static void task_sliced(mp__buf *b) {
  put_u8(b, 0);
  task_head(b, "echo", 0, 2, MP__ITEMS_SLICED);
  slice(b, "abc", 3);
  slice(b, "", 0);
}

/* Result ring records, as a worker writes them. */
static void out_rec(mp__buf *b, int type, const void *body, size_t len) {
  mp__out_head h = {(uint32_t)((8 + len + 7) & ~(size_t)7), (uint16_t)type, 0};
  mp__buf_put(b, &h, sizeof h);
  mp__buf_put(b, body, len);
  for (size_t k = 8 + len; k % 8; k++) put_u8(b, 0);
}

static void out_ok(mp__buf *b, uint32_t index, const char *data, uint32_t len) {
  uint8_t body[64];
  memcpy(body, &index, 4);
  memcpy(body + 4, &len, 4);
  memcpy(body + 8, data, len);
  out_rec(b, MP__OUT_OK, body, 8 + len);
}

static void out_fail(mp__buf *b, uint32_t index, int32_t status, int32_t code, const char *text) {
  uint8_t body[64];
  uint32_t n = (uint32_t)strlen(text);
  memcpy(body, &index, 4);
  memcpy(body + 4, &status, 4);
  memcpy(body + 8, &code, 4);
  memcpy(body + 12, &n, 4);
  memcpy(body + 16, text, n);
  out_rec(b, MP__OUT_FAIL, body, 16 + n);
}

static void out_chunk(mp__buf *b, uint64_t seq) { out_rec(b, MP__OUT_CHUNK, &seq, 8); }

/* Selector: a result ring of 256 bytes; head 0. */
static void ring_outcomes(mp__buf *b) {
  put_u8(b, 1 | (2 << 1));
  put_u8(b, 0);
  put_u8(b, 0);
  out_chunk(b, 7);
  out_ok(b, 0, "12345678", 8);
  out_fail(b, 1, MP_ETASK, 3, "boom");
  out_ok(b, 2, "abcd", 4);
}

/* A result in pieces, then the initializer's failure. */
static void ring_pieces(mp__buf *b) {
  uint8_t big[16], more[8];
  uint32_t index = 0, zero = 0;
  uint64_t total = 12;
  put_u8(b, 1 | (3 << 1));
  put_u8(b, 0);
  put_u8(b, 0);
  out_chunk(b, 1);
  memcpy(big, &index, 4);
  memcpy(big + 4, &zero, 4);
  memcpy(big + 8, &total, 8);
  out_rec(b, MP__OUT_BIG, big, 16);
  memcpy(more, "abcdefgh", 8);
  out_rec(b, MP__OUT_MORE, more, 8);
  out_rec(b, MP__OUT_MORE, "ijkl", 4);
  uint8_t init[24];
  int32_t code = 2;
  uint32_t n = 4;
  memcpy(init, &code, 4);
  memcpy(init + 4, &n, 4);
  memcpy(init + 8, "nope", 4);
  out_rec(b, MP__OUT_INIT_FAILED, init, 12);
}

/* Runs: one whole (a record follows it), one still open at the end. */
static void out_run(mp__buf *b, uint32_t first, uint32_t size, uint32_t count, const char *data) {
  uint8_t body[64];
  uint32_t zero = 0;
  memcpy(body, &first, 4);
  memcpy(body + 4, &size, 4);
  memcpy(body + 8, &count, 4);
  memcpy(body + 12, &zero, 4);
  memcpy(body + 16, data, (size_t)size * count);
  out_rec(b, MP__OUT_RUN, body, 16 + (size_t)size * count);
}

static void ring_runs(mp__buf *b) {
  put_u8(b, 1 | (3 << 1));
  put_u8(b, 0);
  put_u8(b, 0);
  out_chunk(b, 4);
  out_run(b, 0, 4, 3, "aaaabbbbcccc");
  out_fail(b, 3, MP_ETASK, 1, "no");
  out_run(b, 4, 2, 2, "ddee");
}

/* A ring of 64 bytes read from offset 48: a PAD to its end, then wrapped. */
static void ring_wrapped(mp__buf *b) {
  put_u8(b, 1);
  put_u8(b, 6);
  put_u8(b, 0);
  out_rec(b, MP__OUT_PAD, "", 8);
  out_chunk(b, 2);
  out_ok(b, 0, "xy", 2);
}

/* ----------------------------------------------------------------- queue */
static void ring_record(mp__buf *b, uint32_t mark, const char *payload, uint32_t len) {
  mp__buf_put_u32(b, len);
  mp__buf_put_u32(b, mark);
  mp__buf_put_u32(b, 4242); /* owner */
  mp__buf_put_u32(b, 0);
  mp__buf_put(b, payload, len);
  for (uint64_t pad = mp__ring_record_size(len) - MP__RING_RECORD_HEAD - len; pad > 0; pad--) put_u8(b, 0);
}

/* Two rings: the warm one with two records and a JUMP (or a damaged head
 * for the second), the store one with a record whose payload runs past
 * its end and goes on at its start. */
static void ring(const char *name, uint64_t pos, uint64_t park, int damaged) {
  mp__buf warm, b;
  mp__buf_init(&warm);
  mp__buf_init(&b);
  ring_record(&warm, MP__RING_READY_MARK, "hello", 5);
  if (damaged) {
    mp__buf_put_u32(&warm, 0xFFFFFFF0u); /* a head that claims far more than the ring */
    mp__buf_put_u32(&warm, MP__RING_READY_MARK);
    mp__buf_put_u64(&warm, 0);
  } else
    ring_record(&warm, MP__RING_BUSY_MARK, "abc", 3);
  ring_record(&warm, MP__RING_JUMP_MARK, "", 0);
  for (int i = 0; i < 16; i++) put_u8(&warm, 0);
  mp__buf_put_u64(&b, pos);
  mp__buf_put_u64(&b, park);
  mp__buf_put_u32(&b, (uint32_t)warm.len);
  mp__buf_put(&b, warm.data, warm.len);
  /* The store ring, 64 bytes: a 24-byte payload from offset 48 wraps to 0. */
  mp__buf_put(&b, "wrapped-part-two", 16);
  for (int i = 0; i < 32; i++) put_u8(&b, 0);
  mp__buf_put_u32(&b, 24);
  mp__buf_put_u32(&b, MP__RING_READY_MARK);
  mp__buf_put_u64(&b, 0);
  save("queue_ring", name, &b);
  mp__buf_release(&warm);
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
  /* The methods of protocol 3. */
  mgr(b, MP__MGR_DICT_CONTAINS, 1, 0, "n", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_SETDEFAULT, 1, 1, "s", 1, "dflt", 4);
  mgr(b, MP__MGR_DICT_SETDEFAULT, 1, 0, "s", 1, "other", 5);
  mgr(b, MP__MGR_DICT_KEYS, 1, 0, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_DICT_ITEMS, 1, 0, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_OPEN_DICT, 0, 0, "e", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_UPDATE, 3, 1, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_DICT_POP, 3, 0, "s", 1, NULL, 0);
  mgr(b, MP__MGR_DICT_CLEAR, 1, 0, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_LIST_INSERT, 2, 0, NULL, 0, "y", 1);
  mgr(b, MP__MGR_LIST_SET, 2, 1, NULL, 0, "z", 1);
  mgr(b, MP__MGR_LIST_EXTEND, 2, 2, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_LIST_POP, 2, MP__MGR_LIST_LAST, NULL, 0, NULL, 0);
  mgr(b, MP__MGR_LIST_DELETE, 2, 0, NULL, 0, NULL, 0);
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
  lane(b, MP__MGR_DICT_SETDEFAULT, 1, 1, "s", 1, "dflt", 4);
  lane(b, MP__MGR_DICT_ITEMS, 1, 0, NULL, 0, NULL, 0);
  lane(b, MP__MGR_DICT_POP, 1, 0, "k", 1, NULL, 0);
  lane(b, MP__MGR_LIST_INSERT, 2, 0, NULL, 0, "y", 1);
  lane(b, MP__MGR_LIST_POP, 2, 5, NULL, 0, NULL, 0);
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
  mgr(b, MP__MGR_DICT_SETDEFAULT, 1, 2, "k", 1, NULL, 0); /* a flag neither 0 nor 1 */
  mgr(b, MP__MGR_DICT_UPDATE, 1, 9, NULL, 0, NULL, 0);  /* no such source */
  mgr(b, MP__MGR_LIST_EXTEND, 1, 1, NULL, 0, NULL, 0);  /* a dict, not a list */
  mgr(b, MP__MGR_LIST_DELETE, 1, MP__MGR_LIST_LAST, NULL, 0, NULL, 0);
}

/* Hostile KEYS / ITEMS replies, as payloads (every payload is read as one). */
static void mgr_entries(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  mp__buf_put_u64(&p, 2); /* two keys, but only one there */
  mp__buf_put_u32(&p, 3);
  mp__buf_put(&p, "abc", 3);
  put_u16(b, MP__MGR_DICT_LEN);
  put_u16(b, (uint16_t)p.len);
  mp__buf_put(b, p.data, p.len);
  mp__buf_release(&p);
  mp__buf_init(&p);
  mp__buf_put_u64(&p, 1); /* one item: key "k", value "vv" */
  mp__buf_put_u32(&p, 1);
  mp__buf_put(&p, "k", 1);
  mp__buf_put_u64(&p, 2);
  mp__buf_put(&p, "vv", 2);
  put_u16(b, MP__MGR_DICT_LEN);
  put_u16(b, (uint16_t)p.len);
  mp__buf_put(b, p.data, p.len);
  mp__buf_release(&p);
  mp__buf_init(&p);
  mp__buf_put_u64(&p, UINT64_MAX); /* a count no reply can hold */
  mp__buf_put_u32(&p, 0);
  put_u16(b, MP__MGR_DICT_LEN);
  put_u16(b, (uint16_t)p.len);
  mp__buf_put(b, p.data, p.len);
  mp__buf_release(&p);
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

static void frame_boot(mp__buf *b) {
  mp__buf p;
  mp__buf_init(&p);
  boot_pool_worker(&p);
  put_frame(b, MP__FRAME_BOOT, 0, 0, &p);
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
  frame_boot(b);
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

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
    return 2;
  }
  root = argv[1];
  /* frame: control byte (see fuzz_frame.c), then the stream. */
  one("frame", "result-128-byte-writes", 0x27, frame_result);
  one("frame", "two-data-bytewise", 0x20, frame_two_data);
  one("frame", "boot", 0x25, frame_boot);
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
  /* pool_ring: selector (see fuzz_pool_ring.c), then the bytes. */
  one("pool_ring", "task-packed", -1, task_packed);
  one("pool_ring", "task-sliced", -1, task_sliced);
  one("pool_ring", "outcomes", -1, ring_outcomes);
  one("pool_ring", "pieces", -1, ring_pieces);
  one("pool_ring", "wrapped", -1, ring_wrapped);
  one("pool_ring", "runs", -1, ring_runs);
  /* queue_ring: u64 positions in the warm and store rings, u32 the warm
   * ring's size, then the rings. */
  ring("records-then-jump", 0, 48, 0);
  ring("at-the-jump", 64, 48, 0);
  ring("damaged-length", 0, 48, 1);
  ring("position-past-the-end", UINT64_MAX - 3, 48, 0);
  ring("jump-to-a-bad-place", 64, 40, 0);
  /* manager: requests. */
  one("manager", "session", -1, mgr_session);
  one("manager", "refused", -1, mgr_odd);
  one("manager", "entries", -1, mgr_entries);
  /* manager_lane: lane steps, then response words. */
  one("manager_lane", "session", -1, lane_session);
  one("manager_lane", "hostile", -1, lane_hostile);
  return failures ? 1 : 0;
}
