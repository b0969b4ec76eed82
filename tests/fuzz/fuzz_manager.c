/* The manager's server, from the bytes a client sends: each request is
 * decoded (src/manager_wire.c) and, if well formed, carried out on a real
 * store (src/manager_store.c), as the server's session threads do.
 *
 * Input: a series of requests, each u16 op (the frame's flags), u16
 * payload length, then the payload (u64 obj, u64 num, u32 key length, key,
 * value). Checked: a decoded request points only into its payload and
 * keeps to the op's fields; every answer is released; the store frees
 * everything at the end (the leak checker's part). Reply flags go through
 * mp__mgr_reply_status as a client reads them. */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "manager_store.h"
#include "manager_wire.h"

static void one(mp__mgr_store *s, uint16_t op, const uint8_t *p, size_t len) {
  int status = mp__mgr_reply_status(op);
  FUZZ_CHECK(status <= MP_OK && status >= MP_ESYS);
  mp__mgr_request rq;
  int rc = mp__mgr_decode_request((int)op, p, len, &rq);
  if (rc != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO);
    return;
  }
  FUZZ_CHECK(rq.op == (int)op && rq.op >= MP__MGR_HELLO && rq.op <= MP__MGR_OP_MAX);
  FUZZ_CHECK(rq.keylen <= MP_MANAGER_KEY_MAX);
  FUZZ_CHECK(fuzz_inside(rq.key, rq.keylen, p, len) && fuzz_inside(rq.value, rq.vlen, p, len));
  FUZZ_CHECK(MP__MGR_FIXED + rq.keylen + rq.vlen == len);
  if (rq.op == MP__MGR_HELLO) return; /* the session's greeting, not the store's */
  mp__mgr_answer a;
  rc = mp__mgr_execute(s, &rq, &a);
  if (rc == MP_OK && a.value) {
    FUZZ_CHECK(a.value->len == 0 || a.value->data != NULL);
    mp__mgr_value_release(s, a.value);
  }
  if (rc != MP_OK) FUZZ_CHECK(a.value == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mp__mgr_store *s = NULL;
  FUZZ_CHECK(mp__mgr_store_new(&s) == MP_OK);
  size_t at = 0;
  while (size - at >= 4) {
    uint16_t op = (uint16_t)(data[at] | data[at + 1] << 8);
    size_t len = (size_t)(data[at + 2] | data[at + 3] << 8);
    at += 4;
    if (len > size - at) len = size - at;
    one(s, op, data + at, len);
    at += len;
  }
  mp__mgr_store_free(s);
  return 0;
}
