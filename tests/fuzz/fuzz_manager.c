/* The manager's server, from the bytes a client sends: each request is
 * decoded (src/manager_wire.c) and, if well formed, carried out on a real
 * store (src/manager_store.c), as the server's session threads do.
 *
 * Input: a series of requests, each u16 op (the frame's flags), u16
 * payload length, then the payload (u64 obj, u64 num, u32 key length, key,
 * value). Checked: a decoded request points only into its payload and
 * keeps to the op's fields; every answer is released; the store frees
 * everything at the end (the leak checker's part). Reply flags go through
 * mp__mgr_reply_status as a client reads them. A KEYS or ITEMS answer is
 * read back as the client does (src/manager_dict.c; checked: as many
 * entries as the dict has, every key within its bounds); and every
 * payload is also read as a hostile server's KEYS and ITEMS reply, which
 * the client must lay out or refuse with MP_EPROTO. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "manager_proxy.h"
#include "manager_store.h"
#include "manager_wire.h"

/* Reads n bytes as a KEYS (items 0) or ITEMS reply, as the client does;
 * returns the status, checks what it laid out. */
static int read_entries(const void *bytes, size_t n, int items, size_t *count) {
  mp__mgr_reply r;
  memset(&r, 0, sizeof r);
  r.value = malloc(n ? n : 1);
  FUZZ_CHECK(r.value != NULL);
  if (n) memcpy(r.value, bytes, n);
  r.vlen = n;
  int rc = mp__mgr_decode_entries(&r, "fuzz", items);
  FUZZ_CHECK(r.value == NULL);
  if (rc != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO || rc == MP_ENOMEM);
    return rc;
  }
  FUZZ_CHECK(r.out != NULL);
  for (size_t i = 0; i < r.nout; i++) {
    const char *key = items ? ((mp_dict_item *)r.out)[i].key : ((char **)r.out)[i];
    FUZZ_CHECK(strlen(key) <= MP_MANAGER_KEY_MAX);
    if (items) FUZZ_CHECK(((mp_dict_item *)r.out)[i].val != NULL);
  }
  *count = r.nout;
  free(r.out);
  return MP_OK;
}

static void one(mp__mgr_store *s, uint16_t op, const uint8_t *p, size_t len) {
  int status = mp__mgr_reply_status(op);
  size_t count = 0;
  FUZZ_CHECK(status <= MP_OK && status >= MP_ESYS);
  (void)read_entries(p, len, 0, &count);
  (void)read_entries(p, len, 1, &count);
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
  if (rc == MP_OK && (rq.op == MP__MGR_DICT_KEYS || rq.op == MP__MGR_DICT_ITEMS)) {
    uint64_t n = 0;
    FUZZ_CHECK(a.value != NULL && mp__mgr_len(s, rq.obj, 0, &n) == MP_OK);
    int got = read_entries(a.value->data, a.value->len, rq.op == MP__MGR_DICT_ITEMS, &count);
    FUZZ_CHECK(got == MP_ENOMEM || (got == MP_OK && count == n));
  }
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
