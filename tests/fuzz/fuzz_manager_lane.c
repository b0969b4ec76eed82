/* A manager lane, as the server's session thread and a client read it
 * (src/manager_lane.c): every word and byte of a lane was written by
 * another process, so each is fuzzed here.
 *
 * Input: a series of steps, each u32 req_op, u32 req_len, u16 n, then n
 * bytes for the request area (the rest of the area stays as the last step
 * left it). Each step is taken from the lane as the server does (checked:
 * the decoded request lies inside the private copy and keeps to its op),
 * carried out on a real store, answered on the lane, and the answer read
 * back as a client does (checked: the same status and bytes). Last, the
 * final 8 input bytes (if any) become raw response words, which the
 * client's reader must bound or refuse. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "manager_lane.h"
#include "manager_store.h"

static uint64_t lane_mem[MP__LANE_STRIDE / 8];

static void answer_and_read_back(mp__lane *l, uint32_t seq, int status, const void *p, size_t n) {
  int fits = mp__lane_put_reply(l, seq, status, p, n, NULL, 0);
  FUZZ_CHECK(mp__atomic_load32(&l->resp_seq) == seq);
  int got, on_socket;
  const uint8_t *body;
  size_t len;
  FUZZ_CHECK(mp__lane_get_reply(l, &got, &body, &len, &on_socket) == MP_OK);
  FUZZ_CHECK(got == status && on_socket == !fits);
  if (fits) FUZZ_CHECK(len == n && (n == 0 || memcmp(body, p, n) == 0));
}

static void step(mp__mgr_store *s, mp__lane *l, uint8_t *copy, uint32_t seq) {
  mp__mgr_request rq;
  int rc = mp__lane_take_request(l, copy, &rq);
  if (rc != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO);
    return;
  }
  FUZZ_CHECK(rq.op != MP__MGR_HELLO && rq.op != MP__MGR_LANE && rq.op >= 1 && rq.op <= MP__MGR_OP_MAX);
  FUZZ_CHECK(l->req_len <= MP__LANE_AREA);
  FUZZ_CHECK(fuzz_inside(rq.key, rq.keylen, copy, l->req_len) && fuzz_inside(rq.value, rq.vlen, copy, l->req_len));
  FUZZ_CHECK(MP__MGR_FIXED + rq.keylen + rq.vlen == l->req_len);
  mp__mgr_answer a;
  rc = mp__mgr_execute(s, &rq, &a);
  if (rc != MP_OK) {
    FUZZ_CHECK(a.value == NULL);
    answer_and_read_back(l, seq, rc, "failed", 6);
  } else if (a.value) {
    answer_and_read_back(l, seq, MP_OK, a.value->data, a.value->len);
    mp__mgr_value_release(s, a.value);
  } else {
    uint8_t u[8];
    mp__store_u64(u, a.u64);
    answer_and_read_back(l, seq, MP_OK, u, a.has_u64 ? 8 : 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mp__mgr_store *s = NULL;
  FUZZ_CHECK(mp__mgr_store_new(&s) == MP_OK);
  memset(lane_mem, 0, sizeof lane_mem);
  mp__lane *l = (mp__lane *)(void *)lane_mem;
  mp__lane_reset(l);
  uint8_t *copy = malloc(MP__LANE_AREA);
  FUZZ_CHECK(copy != NULL);
  size_t at = 0;
  uint32_t seq = 0;
  while (size - at >= 10) {
    uint32_t op = mp__load_u32(data + at), len = mp__load_u32(data + at + 4);
    size_t n = (size_t)(data[at + 8] | data[at + 9] << 8);
    at += 10;
    if (n > size - at) n = size - at;
    memcpy(mp__lane_req_area(l), data + at, n);
    at += n;
    l->req_op = op;
    l->req_len = len;
    mp__atomic_store32(&l->req_seq, ++seq);
    step(s, l, copy, seq);
  }
  if (size - at >= 8) {
    l->resp_status = mp__load_u32(data + at);
    l->resp_len = mp__load_u32(data + at + 4);
    int status, on_socket;
    const uint8_t *body;
    size_t len;
    if (mp__lane_get_reply(l, &status, &body, &len, &on_socket) == MP_OK) {
      FUZZ_CHECK(status <= MP_OK && status >= MP_ESYS);
      FUZZ_CHECK(len <= MP__LANE_AREA && body == mp__lane_resp_area(l));
      FUZZ_CHECK(!on_socket || len == 0);
    }
  }
  free(copy);
  mp__mgr_store_free(s);
  return 0;
}
