/* Manager lanes: a manager call without the kernel in the steady state.
 *
 * A socket round trip costs a sleep and a wake on each side (about 12 us
 * on a small machine); two processes that each spin on shared memory for
 * a moment answer each other in a fraction of that. So the owner of a
 * manager creates one shared-memory region of MP__LANE_COUNT lanes, which
 * the server maps at start and every process given the manager maps on
 * import (its handle travels in the manager's description).
 *
 * Region: a 4 KiB header (magic, version, lane count, area size), then the
 * lanes. Lane: a 4 KiB header (mp__lane: request words, response words,
 * the two sleeping flags, each on its own cache line), a 64 KiB request
 * area and a 64 KiB response area.
 *
 * Binding. A lane belongs to one socket session. After HELLO the client
 * sends MP__MGR_LANE over its socket; the session's thread picks a free
 * lane (the server's own table, in its private memory), resets it, and
 * answers its index, or MP__LANE_NONE when all are taken: that client
 * just keeps to the socket. When the session ends (the client closed its
 * connection or died: EOF), the server frees the lane. A dead client
 * never leaks a lane, and the socket is the liveness signal both ways.
 *
 * A call. The client writes what a REQUEST frame's body would hold into
 * the request area (req_op, req_len), then publishes with a sequentially
 * consistent store of req_seq = previous + 1. The server serves it with
 * the same decoder and mp__mgr_execute as a frame, after copying it out
 * of the lane (the client could change it under the decoder). It writes
 * status, length and bytes into the response area and publishes
 * resp_seq = req_seq. Requests that do not fit the request area go over
 * the socket as before. A reply that does not fit is published as
 * MP__LANE_ON_SOCKET, and the server then writes it as an ordinary REPLY
 * frame whose id is the lane sequence number.
 *
 * Waiting, without a lost wake-up and without the kernel when nobody
 * sleeps. Each side spins up to MP__LANE_SPIN (50 us) on the other's
 * sequence word; less after a spin that failed, since on a loaded machine
 * a spinner only delays its peer and itself (mp__lane_spin). Then it
 * announces: its sleeping flag := 1 (seq_cst), looks at the
 * sequence word again (seq_cst), and only if nothing came blocks reading
 * its socket. The other side, after publishing (seq_cst), reads the flag;
 * only if it is set does it take it back (compare-and-swap 1 -> 0) and
 * write a DOORBELL frame (no body) on the socket. Dekker's argument: of
 * "flag := 1; read seq" and "seq := n; read flag", at least one side
 * sees the other's store. A sleeper that finds its answer after all
 * withdraws with the same compare-and-swap; if that fails, the peer
 * took the flag first and a doorbell is on its way: the client reads it
 * at once, the server skips it when it next reads its socket. Every
 * reader skips doorbell frames, so one that arrives late is harmless.
 *
 * Blocking on the socket is what keeps liveness: the client waiting for a
 * reply sees the server's death as EOF (MP_ECLOSED, never a hang), and
 * the server's session thread sees its client go, as before.
 *
 * Everything read from a lane was written by another process and is
 * untrusted: lengths are bounded by the area, an op or length that is
 * wrong, or a sequence number that is neither the last nor the next, is
 * MP_EPROTO for that session only. */
#include <string.h>

#include "manager_lane.h"

#define REGION_MAGIC 0x4E4C504Du /* "MPLN" */
#define REGION_VERSION 1u

typedef struct region_head {
  uint32_t magic, version, nlanes, area;
} region_head;

void mp__lane_region_init(void *region) {
  region_head *h = region;
  h->nlanes = MP__LANE_COUNT;
  h->area = MP__LANE_AREA;
  h->version = REGION_VERSION;
  h->magic = REGION_MAGIC;
}

int mp__lane_region_check(const void *region, size_t size) {
  const volatile region_head *h = region;
  if (size != MP__LANE_REGION_SIZE || h->magic != REGION_MAGIC || h->version != REGION_VERSION ||
      h->nlanes != MP__LANE_COUNT || h->area != MP__LANE_AREA)
    return mp__set_error(MP_EPROTO, "malformed manager: its lane region does not match");
  return MP_OK;
}

mp__lane *mp__lane_at(void *region, uint32_t index) {
  return (mp__lane *)((uint8_t *)region + MP__LANE_HEAD + (size_t)index * MP__LANE_STRIDE);
}

uint8_t *mp__lane_req_area(mp__lane *l) { return (uint8_t *)l + MP__LANE_HEAD; }

uint8_t *mp__lane_resp_area(mp__lane *l) { return (uint8_t *)l + MP__LANE_HEAD + MP__LANE_AREA; }

void mp__lane_reset(mp__lane *l) {
  mp__atomic_store32(&l->req_seq, 0);
  mp__atomic_store32(&l->resp_seq, 0);
  mp__atomic_store32(&l->server_sleeping, 0);
  mp__atomic_store32(&l->client_sleeping, 0);
}

size_t mp__lane_request_size(const mp__mgr_request *rq) {
  if (rq->keylen > MP__LANE_AREA || rq->vlen > MP__LANE_AREA - MP__MGR_FIXED - rq->keylen) return 0;
  return MP__MGR_FIXED + rq->keylen + rq->vlen;
}

void mp__lane_put_request(mp__lane *l, uint32_t seq, const mp__mgr_request *rq) {
  uint8_t *p = mp__lane_req_area(l);
  size_t len = mp__lane_request_size(rq);
  mp__store_u64(p, rq->obj);
  mp__store_u64(p + 8, rq->num);
  mp__store_u32(p + 16, (uint32_t)rq->keylen);
  if (rq->keylen) memcpy(p + MP__MGR_FIXED, rq->key, rq->keylen);
  if (rq->vlen) memcpy(p + MP__MGR_FIXED + rq->keylen, rq->value, rq->vlen);
  l->req_op = (uint32_t)rq->op;
  l->req_len = (uint32_t)len;
  mp__atomic_store32(&l->req_seq, seq); /* publishes the bytes above */
}

int mp__lane_take_request(const mp__lane *l, uint8_t *copy, mp__mgr_request *rq) {
  uint32_t op = l->req_op, len = l->req_len; /* each read once */
  memset(rq, 0, sizeof *rq);
  if (len > MP__LANE_AREA) return mp__set_error(MP_EPROTO, "malformed manager lane: a request of %u bytes", len);
  /* HELLO and LANE belong to the socket. */
  if (op == MP__MGR_HELLO || op == MP__MGR_LANE || op > MP__MGR_OP_MAX)
    return mp__set_error(MP_EPROTO, "malformed manager lane: operation %u", op);
  memcpy(copy, (const uint8_t *)l + MP__LANE_HEAD, len);
  return mp__mgr_decode_request((int)op, copy, len, rq);
}

int mp__lane_put_reply(mp__lane *l, uint32_t seq, int status, const void *p1, size_t n1, const void *p2,
                       size_t n2) {
  int fits = n1 <= MP__LANE_AREA && n2 <= MP__LANE_AREA - n1;
  uint8_t *p = mp__lane_resp_area(l);
  if (fits) {
    if (n1) memcpy(p, p1, n1);
    if (n2) memcpy(p + n1, p2, n2);
  }
  l->resp_status = (uint32_t)(-status);
  l->resp_len = fits ? (uint32_t)(n1 + n2) : MP__LANE_ON_SOCKET;
  mp__atomic_store32(&l->resp_seq, seq);
  return fits;
}

int mp__lane_get_reply(mp__lane *l, int *status, const uint8_t **body, size_t *len, int *on_socket) {
  uint32_t st = l->resp_status, n = l->resp_len; /* each read once */
  *on_socket = n == MP__LANE_ON_SOCKET;
  *body = mp__lane_resp_area(l);
  *len = 0;
  /* Only the codes mproc.h defines travel (MP_ESYS is the last); an
   * MP_EPROTO status is the server's word, with its text, not garbage. */
  if (st > (uint32_t)(-MP_ESYS)) return mp__set_error(MP_EPROTO, "malformed manager reply: status %u", st);
  *status = -(int)st;
  if (*on_socket) return MP_OK;
  if (n > MP__LANE_AREA) return mp__set_error(MP_EPROTO, "malformed manager reply: %u bytes on a lane", n);
  *len = n;
  return MP_OK;
}

int mp__lane_spin(volatile uint32_t *seq, uint32_t want, mp__lane_spinner *s) {
  double budget = s->budget;
  if (budget < MP__LANE_SPIN_MIN || budget > MP__LANE_SPIN) budget = MP__LANE_SPIN;
  if ((++s->waits & 63) == 0) budget = MP__LANE_SPIN; /* a probe */
  double until = 0;
  for (unsigned i = 1;; i++) {
    if (mp__atomic_load32(seq) == want) {
      s->budget = budget * 2 > MP__LANE_SPIN ? MP__LANE_SPIN : budget * 2;
      return 1;
    }
    mp__cpu_relax();
    if ((i & 15) == 0) {
      double now = mp__now();
      if (until == 0) {
        until = now + budget;
      } else if (now >= until) {
        s->budget = MP__LANE_SPIN_MIN;
        return 0;
      }
    }
  }
}

int mp__lane_ring(volatile uint32_t *peer_sleeping, mp__handle wr) {
  uint32_t one = 1;
  if (mp__atomic_load32(peer_sleeping) == 0 || !mp__atomic_cas32(peer_sleeping, &one, 0)) return MP_OK;
  return mp__frame_write(wr, MP__FRAME_MGR_DOORBELL, 0, NULL, 0, NULL, 0);
}

uint32_t mp__lane_announce(volatile uint32_t *my_sleeping, volatile uint32_t *seq) {
  mp__atomic_store32(my_sleeping, 1);
  return mp__atomic_load32(seq);
}

int mp__lane_withdraw(volatile uint32_t *my_sleeping) {
  uint32_t one = 1;
  return !mp__atomic_cas32(my_sleeping, &one, 0);
}
