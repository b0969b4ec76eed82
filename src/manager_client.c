/* Manager: this process's connection to the server, shared by its
 * threads (a lock keeps one call at a time on it) and by every proxy made
 * from the manager object, which hold a reference to it. It connects on
 * the first call; a connection that broke (the server died, or said
 * something malformed) is dropped, and the next call connects again and
 * reads MP_ECLOSED if nobody listens.
 *
 * Right after HELLO a connection asks the server for a lane of its own,
 * and then calls go through shared memory, with the socket only as
 * doorbell and liveness signal (src/manager_lane.c). A connection that got
 * no lane, and a request too big for one, use the socket as before; a
 * reply too big for the lane comes on the socket too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager_client.h"

/* A generous bound for a listener that is only slow on a broken system. */
#define CONNECT_TIMEOUT 60.0

typedef mp__mgr_client client;
typedef mp__mgr_reply answer;

/* ------------------------------------------------------------- client */
int mp__mgr_client_new(client **out, const char *name, const uint8_t *token) {
  client *c = calloc(1, sizeof *c);
  if (!c) return mp__set_error(MP_ENOMEM, "manager: out of memory");
  int rc = mp__mutex_new(&c->lock);
  if (rc != MP_OK) {
    free(c);
    return rc;
  }
  c->refs = 1;
  c->rd = c->wr = MP__NO_HANDLE;
  snprintf(c->name, sizeof c->name, "%s", name);
  memcpy(c->token, token, sizeof c->token);
  *out = c;
  return MP_OK;
}

client *mp__mgr_client_ref(client *c) {
  mp__mutex_lock(c->lock);
  c->refs++;
  mp__mutex_unlock(c->lock);
  return c;
}

static void drop_connection(client *c) {
  c->lane = NULL; /* the server frees it when it sees the connection go */
  mp__frame_reader_release(&c->reader);
  mp__handle_close(c->rd);
  mp__handle_close(c->wr);
  c->rd = c->wr = MP__NO_HANDLE;
}

/* No more calls through c, from anyone holding it. */
void mp__mgr_client_close(client *c) {
  mp__mutex_lock(c->lock);
  c->closed = 1;
  c->lanes = NULL; /* its mapping goes with the manager object */
  drop_connection(c);
  mp__mutex_unlock(c->lock);
}

void mp__mgr_client_unref(client *c) {
  mp__mutex_lock(c->lock);
  int last = --c->refs == 0;
  mp__mutex_unlock(c->lock);
  if (!last) return;
  drop_connection(c);
  mp__mutex_free(c->lock);
  free(c);
}

/* The server's failure text, as the detail of this call's error. */
static int read_failure(client *c, const char *api, const mp__frame_header *h, int status) {
  char text[MP__MGR_TEXT_MAX + 1];
  if (h->len > MP__MGR_TEXT_MAX) return mp__set_error(MP_EPROTO, "malformed manager reply: an overlong error text");
  int rc = mp__frame_read_body(&c->reader, text, MP_FOREVER, NULL);
  if (rc != MP_OK) return rc;
  text[h->len] = '\0';
  return mp__set_error(status, "%s: %s", api, text);
}

/* The next frame that is not a doorbell (doorbells only say "look at
 * the lane", and one may arrive after its news was found). */
static int read_frame(client *c, mp__frame_header *h) {
  for (;;) {
    int rc = mp__frame_read_header(&c->reader, MP_FOREVER, h);
    if (rc != MP_OK || h->type != MP__FRAME_MGR_DOORBELL) return rc;
    if (h->len != 0) return mp__set_error(MP_EPROTO, "malformed manager reply: a doorbell with a body");
    uint8_t none[1];
    if ((rc = mp__frame_read_body(&c->reader, none, MP_FOREVER, NULL)) != MP_OK) return rc;
  }
}

/* Reads the reply frame to call seq. */
static int read_reply(client *c, const char *api, uint64_t seq, answer *a, int *transport) {
  mp__frame_header h;
  *transport = 1;
  int rc = read_frame(c, &h);
  if (rc != MP_OK) return rc;
  if (h.type != MP__FRAME_MGR_REPLY || h.id != seq)
    return mp__set_error(MP_EPROTO, "malformed manager reply: type %u, call %llu for %llu", (unsigned)h.type,
                         (unsigned long long)h.id, (unsigned long long)seq);
  int status = mp__mgr_reply_status(h.flags);
  if (status == MP_EPROTO) return status; /* the server drops us after that */
  if (status != MP_OK) {
    rc = read_failure(c, api, &h, status);
    *transport = rc != status;
    return rc;
  }
  if (a->want == MP__MGR_WANT_VALUE) {
    rc = mp__frame_read_body(&c->reader, NULL, MP_FOREVER, &a->value);
    if (rc == MP_OK) a->vlen = (size_t)h.len;
  } else {
    uint8_t small[8];
    size_t expect = a->want == MP__MGR_WANT_U64 ? sizeof small : 0;
    if (h.len != expect)
      return mp__set_error(MP_EPROTO, "malformed manager reply: %llu bytes where %llu belong",
                           (unsigned long long)h.len, (unsigned long long)expect);
    rc = mp__frame_read_body(&c->reader, small, MP_FOREVER, NULL);
    if (rc == MP_OK && expect) a->u64 = mp__load_u64(small);
  }
  if (rc == MP_OK) *transport = 0;
  return rc;
}

/* Waits for the lane's reply to call seq: spins, then announces that it
 * sleeps and blocks on the socket, where a doorbell wakes it and the
 * server's death reads MP_ECLOSED. */
static int lane_wait(client *c, uint32_t seq) {
  mp__lane *l = c->lane;
  if (mp__lane_spin(&l->resp_seq, seq, &c->spin)) return MP_OK;
  for (;;) {
    uint32_t now = mp__lane_announce(&l->client_sleeping, &l->resp_seq);
    if (now == seq) {
      if (!mp__lane_withdraw(&l->client_sleeping)) return MP_OK;
      /* The server took the flag first: its doorbell is on the way, and
       * is read now, so none is left behind on the connection. */
      mp__frame_header h;
      int rc = mp__frame_read_header(&c->reader, MP_FOREVER, &h);
      if (rc != MP_OK) return rc;
      if (h.type != MP__FRAME_MGR_DOORBELL || h.len != 0)
        return mp__set_error(MP_EPROTO, "malformed manager reply: type %u where a doorbell belongs", (unsigned)h.type);
      uint8_t none[1];
      return mp__frame_read_body(&c->reader, none, MP_FOREVER, NULL);
    }
    if (now != seq - 1)
      return mp__set_error(MP_EPROTO, "malformed manager lane: reply %u to call %u", now, seq);
    mp__frame_header h;
    int rc = mp__frame_read_header(&c->reader, MP_FOREVER, &h);
    if (rc != MP_OK) return rc;
    if (h.type != MP__FRAME_MGR_DOORBELL || h.len != 0)
      return mp__set_error(MP_EPROTO, "malformed manager reply: type %u on a lane call", (unsigned)h.type);
    uint8_t none[1];
    if ((rc = mp__frame_read_body(&c->reader, none, MP_FOREVER, NULL)) != MP_OK) return rc;
    (void)mp__lane_withdraw(&l->client_sleeping); /* normally the server took it already */
  }
}

/* One call through the lane; its reply may still come on the socket if
 * it was too big for the lane. */
static int lane_exchange(client *c, const char *api, const mp__mgr_request *rq, answer *a, int *transport) {
  mp__lane *l = c->lane;
  uint32_t seq = ++c->lane_seq;
  *transport = 1;
  mp__lane_put_request(l, seq, rq);
  int rc = mp__lane_ring(&l->server_sleeping, c->wr);
  if (rc == MP_OK) rc = lane_wait(c, seq);
  if (rc != MP_OK) return rc;
  int status, on_socket;
  const uint8_t *body;
  size_t len;
  if ((rc = mp__lane_get_reply(l, &status, &body, &len, &on_socket)) != MP_OK) return rc;
  if (on_socket) return read_reply(c, api, seq, a, transport);
  if (status != MP_OK) {
    if (len > MP__MGR_TEXT_MAX) return mp__set_error(MP_EPROTO, "malformed manager reply: an overlong error text");
    char text[MP__MGR_TEXT_MAX + 1];
    memcpy(text, body, len);
    text[len] = '\0';
    *transport = status == MP_EPROTO; /* the server drops us after that */
    return mp__set_error(status, "%s: %s", api, text);
  }
  if (a->want == MP__MGR_WANT_VALUE) {
    if (!(a->value = malloc(len ? len : 1))) {
      /* The call was carried out; only its answer is lost. */
      *transport = 0;
      return mp__set_error(MP_ENOMEM, "%s: out of memory for a %llu-byte value", api, (unsigned long long)len);
    }
    if (len) memcpy(a->value, body, len);
    a->vlen = len;
  } else {
    size_t expect = a->want == MP__MGR_WANT_U64 ? 8 : 0;
    if (len != expect)
      return mp__set_error(MP_EPROTO, "malformed manager reply: %llu bytes where %llu belong", (unsigned long long)len,
                           (unsigned long long)expect);
    if (expect) a->u64 = mp__load_u64(body);
  }
  *transport = 0;
  return MP_OK;
}

/* Sends rq and reads its reply. *transport is set when the connection is
 * no longer usable (the error is about the channel, not the request). */
static int exchange(client *c, const char *api, const mp__mgr_request *rq, answer *a, int *transport) {
  if (c->lane && mp__lane_request_size(rq)) return lane_exchange(c, api, rq, a, transport);
  uint64_t seq = ++c->seq;
  *transport = 1;
  int rc = mp__mgr_write_request(c->wr, seq, rq);
  if (rc != MP_OK) return rc;
  return read_reply(c, api, seq, a, transport);
}

/* Asks the server for a lane; none (all taken) is fine: the socket stays. */
static int ask_for_lane(client *c, const char *api) {
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = MP__MGR_LANE;
  answer a = {MP__MGR_WANT_U64, 0, NULL, 0, NULL, NULL, 0};
  int transport;
  int rc = exchange(c, api, &rq, &a, &transport);
  if (rc != MP_OK) return rc;
  if (a.u64 == MP__LANE_NONE) return MP_OK;
  if (a.u64 >= MP__LANE_COUNT)
    return mp__set_error(MP_EPROTO, "malformed manager reply: lane %llu", (unsigned long long)a.u64);
  c->lane_index = (uint32_t)a.u64;
  c->lane = mp__lane_at(c->lanes, c->lane_index);
  c->lane_seq = 0;
  return MP_OK;
}

/* Opens this process's connection and proves it holds the token. */
static int connect_client(client *c, const char *api) {
  int rc = mp__endpoint_connect(c->name, &c->rd, &c->wr, CONNECT_TIMEOUT);
  if (rc != MP_OK) return rc;
  mp__frame_reader_init(&c->reader, c->rd, MP_MAX_MESSAGE);
  /* Replies are only ever awaited without a timeout (the server's death
   * ends the wait): one blocking read instead of three calls. */
  (void)mp__handle_reads_block(c->rd);
  mp__mgr_request hello;
  memset(&hello, 0, sizeof hello);
  hello.op = MP__MGR_HELLO;
  hello.num = MP__MGR_PROTOCOL;
  hello.value = c->token;
  hello.vlen = sizeof c->token;
  answer a = {MP__MGR_WANT_NOTHING, 0, NULL, 0, NULL, NULL, 0};
  int transport;
  rc = exchange(c, api, &hello, &a, &transport);
  if (rc == MP_OK && c->lanes) rc = ask_for_lane(c, api);
  if (rc != MP_OK) drop_connection(c);
  return rc;
}

int mp__mgr_call(client *c, const char *api, const mp__mgr_request *rq, answer *a) {
  int rc, transport = 0;
  mp__mutex_lock(c->lock);
  if (c->closed) {
    rc = mp__set_error(MP_ECLOSED, "%s: the manager was shut down", api);
  } else if (c->rd == MP__NO_HANDLE && (rc = connect_client(c, api)) != MP_OK) {
    transport = 1;
  } else {
    rc = exchange(c, api, rq, a, &transport);
    if (rc == MP_OK && a->decode && (rc = a->decode(a, api)) == MP_EPROTO) transport = 1;
    if (transport) drop_connection(c);
  }
  mp__mutex_unlock(c->lock);
  if (transport && rc == MP_ECLOSED) {
    char why[200];
    snprintf(why, sizeof why, "%s", mp_last_error());
    return mp__set_error(MP_ECLOSED, "%s: the manager is gone (%s)", api, why);
  }
  return mp__error_in(api, rc);
}
