/* The manager's request and reply frames (layout in manager_wire.h). */
#include <string.h>

#include "manager_wire.h"
#include "wire.h"

/* Which fields each op carries: anything else must be zero or empty. */
enum { F_OBJ = 1, F_NUM = 2, F_KEY = 4, F_VALUE = 8 };

static int op_fields(int op) {
  switch (op) {
  case MP__MGR_HELLO: return F_NUM | F_VALUE;
  case MP__MGR_OPEN_DICT:
  case MP__MGR_OPEN_LIST: return F_KEY;
  case MP__MGR_DICT_SET: return F_OBJ | F_KEY | F_VALUE;
  case MP__MGR_DICT_GET:
  case MP__MGR_DICT_DEL:
  case MP__MGR_DICT_CONTAINS:
  case MP__MGR_DICT_POP: return F_OBJ | F_KEY;
  case MP__MGR_DICT_LEN:
  case MP__MGR_LIST_LEN:
  case MP__MGR_DICT_KEYS:
  case MP__MGR_DICT_ITEMS:
  case MP__MGR_DICT_CLEAR: return F_OBJ;
  case MP__MGR_DICT_ADD: return F_OBJ | F_NUM | F_KEY;
  case MP__MGR_DICT_SETDEFAULT: return F_OBJ | F_NUM | F_KEY | F_VALUE;
  case MP__MGR_LIST_APPEND: return F_OBJ | F_VALUE;
  case MP__MGR_LIST_SET:
  case MP__MGR_LIST_INSERT: return F_OBJ | F_NUM | F_VALUE;
  case MP__MGR_LIST_GET:
  case MP__MGR_LIST_POP:
  case MP__MGR_LIST_DELETE:
  case MP__MGR_DICT_UPDATE:
  case MP__MGR_LIST_EXTEND: return F_OBJ | F_NUM;
  case MP__MGR_SHUTDOWN:
  case MP__MGR_LANE: return 0;
  default: return -1;
  }
}

int mp__mgr_write_request(mp__handle h, uint64_t seq, const mp__mgr_request *rq) {
  uint8_t head[MP__FRAME_HEADER_SIZE];
  uint8_t meta[MP__MGR_FIXED];
  mp__store_u64(meta, rq->obj);
  mp__store_u64(meta + 8, rq->num);
  mp__store_u32(meta + 16, (uint32_t)rq->keylen);
  mp__frame_header fh = {MP__FRAME_MGR_REQUEST, (uint16_t)rq->op, seq,
                         (uint64_t)MP__MGR_FIXED + rq->keylen + rq->vlen};
  mp__frame_header_encode(&fh, head);
  mp__iovec parts[4] = {{head, sizeof head}, {meta, sizeof meta}, {rq->key, rq->keylen}, {rq->value, rq->vlen}};
  return mp__write_parts(h, parts, 4);
}

static int malformed(const char *what) {
  return mp__set_error(MP_EPROTO, "malformed manager request: %s", what);
}

int mp__mgr_decode_request(int op, const uint8_t *p, size_t len, mp__mgr_request *out) {
  int fields = op_fields(op);
  memset(out, 0, sizeof *out);
  if (fields < 0) return malformed("unknown operation");
  if (len < MP__MGR_FIXED) return malformed("shorter than its fixed fields");
  out->op = op;
  out->obj = mp__load_u64(p);
  out->num = mp__load_u64(p + 8);
  uint32_t keylen = mp__load_u32(p + 16);
  if (keylen > MP_MANAGER_KEY_MAX || keylen > len - MP__MGR_FIXED) return malformed("key length");
  out->key = (const char *)(p + MP__MGR_FIXED);
  out->keylen = keylen;
  out->value = p + MP__MGR_FIXED + keylen;
  out->vlen = len - MP__MGR_FIXED - keylen;
  if (memchr(out->key, 0, keylen)) return malformed("a NUL inside the key");
  if (!(fields & F_OBJ) && out->obj) return malformed("an object where none belongs");
  if (!(fields & F_NUM) && out->num) return malformed("a number where none belongs");
  if (!(fields & F_KEY) && keylen) return malformed("a key where none belongs");
  if (!(fields & F_VALUE) && out->vlen) return malformed("a value where none belongs");
  if (op == MP__MGR_HELLO && out->vlen != MP__MGR_TOKEN_LEN) return malformed("token length");
  if (op == MP__MGR_DICT_SETDEFAULT && out->num > 1) return malformed("setdefault's flag is neither 0 nor 1");
  return MP_OK;
}

int mp__mgr_write_reply(mp__handle h, uint64_t seq, int status, const void *p1, size_t n1, const void *p2,
                        size_t n2) {
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_header fh = {MP__FRAME_MGR_REPLY, (uint16_t)(-status), seq, (uint64_t)n1 + n2};
  mp__frame_header_encode(&fh, head);
  mp__iovec parts[3] = {{head, sizeof head}, {p1, n1}, {p2, n2}};
  return mp__write_parts(h, parts, 3);
}

int mp__mgr_reply_status(uint16_t flags) {
  /* Only the codes mproc.h defines travel; MP_ESYS is the last of them. */
  if (flags > (uint16_t)(-MP_ESYS)) return mp__set_error(MP_EPROTO, "malformed manager reply: status %u", flags);
  return -(int)flags;
}
