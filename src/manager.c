/* Manager: the client side. mp_manager_start runs the server (the built-in
 * task in src/manager_server.c) as a child process and learns the name of
 * its endpoint; the manager object carries that name and a random token,
 * and nothing else, so it can be given to any process, which then opens
 * its own connection on its first call. Handles cannot be sent to a server
 * that is already running in a portable way; a name can.
 *
 * One connection per manager object per process, shared by its threads
 * (a lock keeps one call at a time on it) and by the dict and list
 * proxies made from it, which hold a reference to it. A connection that
 * broke (the server died, or said something malformed) is dropped; the
 * next call connects again, and reads MP_ECLOSED if nobody listens.
 *
 * The manager object also carries the handle of its lane region, which
 * every process maps: right after HELLO a connection asks the server for
 * a lane of its own, and then calls go through shared memory, with the
 * socket only as doorbell and liveness signal (src/manager_lane.c). A
 * connection that got no lane, and a request too big for one, use the
 * socket as before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_lane.h"
#include "manager_wire.h"
#include "sync.h"

/* Generous bounds for waits that only a broken system makes long: the
 * server starting (a spawn under Wine takes seconds), a busy listener,
 * the server ending after SHUTDOWN. */
#define START_TIMEOUT 120.0
#define CONNECT_TIMEOUT 60.0
#define END_TIMEOUT 10.0
#define BLOB_VERSION 2

typedef struct client {
  mp__mutex *lock;        /* one call at a time; guards everything below */
  size_t refs;            /* the manager object and each proxy */
  int closed;             /* shut down or released: calls read MP_ECLOSED */
  mp__handle rd, wr;      /* the connection; MP__NO_HANDLE until the first call */
  mp__frame_reader reader;
  uint64_t seq;
  char name[MP__ENDPOINT_NAME_MAX];
  uint8_t token[MP__MGR_TOKEN_LEN];
  void *lanes;            /* the lane region (the manager object's mapping), or NULL */
  mp__lane *lane;         /* this connection's lane, or NULL: the socket only */
  uint32_t lane_index;
  uint32_t lane_seq;      /* the last lane call */
  mp__lane_spinner spin;
} client;

struct mp_manager {
  mp_object base;
  client *c;
  mp_shm *lanes;          /* the lane region: created by the owner, imported elsewhere */
  mp_process *server;     /* in the process that started it; else NULL */
  int shut;
};

/* A dict and a list proxy have the same shape. */
typedef struct proxy {
  client *c;
  uint64_t id;
  int is_list;
  char *name;
} proxy;
struct mp_dict {
  proxy p;
};
struct mp_list {
  proxy p;
};

static int manager_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static void manager_destroy(mp_object *o);
static const mp__object_ops manager_ops = {MP__KIND_MANAGER, "manager", manager_export, manager_destroy, NULL};

/* ------------------------------------------------------------- client */
static int client_new(client **out, const char *name, const uint8_t *token) {
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

static client *client_ref(client *c) {
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
static void client_close(client *c) {
  mp__mutex_lock(c->lock);
  c->closed = 1;
  c->lanes = NULL; /* its mapping goes with the manager object */
  drop_connection(c);
  mp__mutex_unlock(c->lock);
}

static void client_unref(client *c) {
  mp__mutex_lock(c->lock);
  int last = --c->refs == 0;
  mp__mutex_unlock(c->lock);
  if (!last) return;
  drop_connection(c);
  mp__mutex_free(c->lock);
  free(c);
}

/* What a call wants back: nothing, a u64, or the value bytes. */
enum { WANT_NOTHING, WANT_U64, WANT_VALUE };

typedef struct answer {
  int want;
  uint64_t u64;
  void *value;            /* WANT_VALUE: malloc'd, the caller's */
  size_t vlen;
} answer;

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
  if (a->want == WANT_VALUE) {
    rc = mp__frame_read_body(&c->reader, NULL, MP_FOREVER, &a->value);
    if (rc == MP_OK) a->vlen = (size_t)h.len;
  } else {
    uint8_t small[8];
    size_t expect = a->want == WANT_U64 ? sizeof small : 0;
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
  if (a->want == WANT_VALUE) {
    if (!(a->value = malloc(len ? len : 1))) {
      /* The call was carried out; only its answer is lost. */
      *transport = 0;
      return mp__set_error(MP_ENOMEM, "%s: out of memory for a %llu-byte value", api, (unsigned long long)len);
    }
    if (len) memcpy(a->value, body, len);
    a->vlen = len;
  } else {
    size_t expect = a->want == WANT_U64 ? 8 : 0;
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
  answer a = {WANT_U64, 0, NULL, 0};
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
  answer a = {WANT_NOTHING, 0, NULL, 0};
  int transport;
  rc = exchange(c, api, &hello, &a, &transport);
  if (rc == MP_OK && c->lanes) rc = ask_for_lane(c, api);
  if (rc != MP_OK) drop_connection(c);
  return rc;
}

static int call(client *c, const char *api, const mp__mgr_request *rq, answer *a) {
  int rc, transport = 0;
  mp__mutex_lock(c->lock);
  if (c->closed) {
    rc = mp__set_error(MP_ECLOSED, "%s: the manager was shut down", api);
  } else if (c->rd == MP__NO_HANDLE && (rc = connect_client(c, api)) != MP_OK) {
    transport = 1;
  } else {
    rc = exchange(c, api, rq, a, &transport);
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

/* ------------------------------------------------------------- manager */
static int read_ready(mp_conn *rx, mp_process *server, char name[MP__ENDPOINT_NAME_MAX]) {
  void *msg = NULL;
  size_t len = 0;
  int rc = mp_conn_recv(rx, &msg, &len, START_TIMEOUT);
  if (rc == MP_ECLOSED) {
    int code = 0;
    mp_process_join(server, END_TIMEOUT);
    if (mp_process_exitcode(server, &code) != MP_OK) code = 0;
    return mp__set_error(MP_ESYS, "mp_manager_start: the server process ended before it listened (exit code %d)",
                         code);
  }
  if (rc != MP_OK) return mp__set_error(rc, "mp_manager_start: no word from the server process: %s", mp_last_error());
  const uint8_t *p = msg;
  if (len < 2 || len > MP__ENDPOINT_NAME_MAX || memchr(p + 1, 0, len - 1)) {
    rc = mp__set_error(MP_EPROTO, "mp_manager_start: a malformed ready message");
  } else if (p[0] != 0) {
    rc = mp__set_error(p[0] <= (uint8_t)(-MP_ESYS) ? -(int)p[0] : MP_ESYS, "mp_manager_start: the server failed: %.*s",
                       (int)(len - 1), (const char *)p + 1);
  } else {
    memcpy(name, p + 1, len - 1);
    name[len - 1] = '\0';
  }
  mp_free(msg);
  return rc;
}

/* Runs the server (handing it the lane region) and waits for the name it
 * listens on. */
static int start_server(mp_process **server, const uint8_t *token, mp_shm *lanes, char name[MP__ENDPOINT_NAME_MAX]) {
  mp_conn *rx = NULL, *tx = NULL;
  int rc = mp_pipe(&rx, &tx, 0);
  if (rc != MP_OK) return rc;
  mp_object *objs[2] = {mp_conn_obj(tx), mp_shm_obj(lanes)};
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.name = "manager";
  o.objects = objs;
  o.nobjects = 2;
  rc = mp_process_start(server, MP__MGR_TASK, token, MP__MGR_TOKEN_LEN, &o);
  /* Only the server may hold the sending end: its exit is then our EOF. */
  mp_conn_free(tx);
  if (rc == MP_OK) rc = read_ready(rx, *server, name);
  mp_conn_free(rx);
  if (rc != MP_OK) *server = mp_process_free(*server);
  return rc;
}

int mp_manager_start(mp_manager **out) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_manager_start: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_manager_start");
  if (rc != MP_OK) return rc;
  uint8_t token[MP__MGR_TOKEN_LEN];
  char name[MP__ENDPOINT_NAME_MAX];
  if ((rc = mp__random_bytes(token, sizeof token)) != MP_OK) return mp__error_in("mp_manager_start", rc);
  mp_manager *m = calloc(1, sizeof *m);
  if (!m) return mp__set_error(MP_ENOMEM, "mp_manager_start: out of memory");
  mp__object_init(&m->base, &manager_ops);
  if ((rc = mp_shm_create(&m->lanes, MP__LANE_REGION_SIZE)) == MP_OK) {
    mp__lane_region_init(mp_shm_ptr(m->lanes));
    rc = start_server(&m->server, token, m->lanes, name);
  }
  if (rc == MP_OK) rc = client_new(&m->c, name, token);
  if (rc != MP_OK) {
    mp_process_free(m->server);
    mp_shm_free(m->lanes);
    free(m);
    return mp__error_in("mp_manager_start", rc);
  }
  m->c->lanes = mp_shm_ptr(m->lanes);
  *out = m;
  return MP_OK;
}

int mp_manager_shutdown(mp_manager *m) {
  if (!m) return mp__set_error(MP_EINVAL, "mp_manager_shutdown: NULL manager");
  if (m->base.borrowed)
    return mp__set_error(MP_ESTATE, "mp_manager_shutdown: only the process that started the manager may");
  if (m->shut) return MP_OK;
  m->shut = 1;
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = MP__MGR_SHUTDOWN;
  answer a = {WANT_NOTHING, 0, NULL, 0};
  /* A server already dead answers MP_ECLOSED: it is gone all the same. */
  (void)call(m->c, "mp_manager_shutdown", &rq, &a);
  client_close(m->c);
  if (mp_process_join(m->server, END_TIMEOUT) != MP_OK) {
    mp_process_kill(m->server);
    mp_process_join(m->server, END_TIMEOUT);
  }
  m->server = mp_process_free(m->server);
  /* A server that was killed could not remove its endpoint's name. */
  mp__endpoint_remove(m->c->name);
  return MP_OK;
}

void mp__manager_release(mp_manager *m) {
  if (!m) return;
  client_close(m->c); /* no call touches the lanes after this */
  client_unref(m->c);
  mp_process_free(m->server);
  mp__shm_release(m->lanes);
  free(m);
}

/* The last reference: the process that started the server shuts it
 * down; anywhere else this only lets go of the handle. */
static void manager_destroy(mp_object *o) {
  mp_manager *m = (mp_manager *)o;
  if (!m->base.borrowed) mp_manager_shutdown(m);
  mp__manager_release(m);
}

mp_manager *mp_manager_free(mp_manager *m) {
  /* One rebuilt in a worker belongs to the call; the worker releases it.
   * One a pool was given lives (and serves) until the pool is freed. */
  if (m) mp__object_free(&m->base);
  return NULL;
}

int64_t mp__manager_server_pid(mp_manager *m) { return m && m->server ? mp_process_pid(m->server) : 0; }

const char *mp__manager_endpoint(mp_manager *m) { return m->c->name; }

int mp__manager_lane(mp_manager *m) {
  mp__mutex_lock(m->c->lock);
  int index = m->c->lane ? (int)m->c->lane_index : -1;
  mp__mutex_unlock(m->c->lock);
  return index;
}

void *mp__manager_lanes(mp_manager *m) { return mp_shm_ptr(m->lanes); }

int mp__manager_twin(mp_manager *m, mp_manager **out) {
  mp_manager *t = calloc(1, sizeof *t);
  if (!t) return mp__set_error(MP_ENOMEM, "out of memory");
  int rc = client_new(&t->c, m->c->name, m->c->token);
  if (rc != MP_OK) {
    free(t);
    return rc;
  }
  t->c->lanes = m->c->lanes;
  mp__object_init(&t->base, &manager_ops);
  t->base.borrowed = 1;
  *out = t;
  return MP_OK;
}

mp_object *mp_manager_obj(mp_manager *m) { return m ? &m->base : NULL; }

mp_manager *mp_call_manager(mp_call *call, size_t i) {
  return (mp_manager *)mp__call_object(call, i, MP__KIND_MANAGER, "mp_call_manager");
}

/* The blob: u32 version, the name (u32 length + bytes), the token, then
 * the lane region as a shared-memory object describes itself (its one
 * handle, u64 size). A child connects by name. */
static int manager_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp_manager *m = (mp_manager *)o;
  mp_object *lanes = mp_shm_obj(m->lanes);
  mp__buf_put_u32(blob, BLOB_VERSION);
  mp__buf_put_str(blob, m->c->name);
  mp__buf_put(blob, m->c->token, sizeof m->c->token);
  return lanes->ops->export_to(lanes, handles, nhandles, blob);
}

int mp__manager_import(const mp__handle *handles, size_t nhandles, const uint8_t *blob, size_t bloblen,
                       mp_object **out) {
  mp__rd r;
  char name[MP__ENDPOINT_NAME_MAX];
  (void)handles;
  mp__rd_init(&r, blob, bloblen);
  uint32_t version = mp__rd_u32(&r);
  int bad_name = mp__rd_str(&r, name, sizeof name);
  const uint8_t *token = mp__rd_take(&r, MP__MGR_TOKEN_LEN);
  /* The rest is the lane region's own description: its size is looked at
   * first, so a hostile one never makes this process map anything else. */
  mp__rd peek = r;
  uint64_t size = mp__rd_u64(&peek);
  if (r.failed || bad_name || version != BLOB_VERSION || nhandles != 1 || !name[0] || peek.failed ||
      peek.off != peek.len || size != MP__LANE_REGION_SIZE)
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: manager description");
  mp_object *lanes = NULL;
  int rc = mp__shm_import(handles, nhandles, &r, &lanes);
  if (rc != MP_OK) return rc;
  mp_shm *shm = (mp_shm *)lanes;
  if ((rc = mp__lane_region_check(mp_shm_ptr(shm), mp_shm_size(shm))) != MP_OK) {
    mp__shm_release(shm);
    return rc;
  }
  mp_manager *m = calloc(1, sizeof *m);
  if (!m) {
    mp__shm_release(shm);
    return mp__set_error(MP_ENOMEM, "out of memory rebuilding a manager");
  }
  if ((rc = client_new(&m->c, name, token)) != MP_OK) {
    mp__shm_release(shm);
    free(m);
    return rc;
  }
  m->lanes = shm;
  m->c->lanes = mp_shm_ptr(shm);
  mp__object_init(&m->base, &manager_ops);
  m->base.borrowed = 1;
  *out = &m->base;
  return MP_OK;
}

/* ------------------------------------------------------------- proxies */
static int check_key(const char *api, const char *key, size_t *len) {
  if (!key) return mp__set_error(MP_EINVAL, "%s: the key is NULL", api);
  *len = strlen(key);
  if (*len > MP_MANAGER_KEY_MAX)
    return mp__set_error(MP_EINVAL, "%s: keys and names are at most %d bytes, this one has %llu", api,
                         MP_MANAGER_KEY_MAX, (unsigned long long)*len);
  return MP_OK;
}

static int check_value(const char *api, const void *val, size_t len) {
  if (!val && len) return mp__set_error(MP_EINVAL, "%s: the value is NULL but len is %llu", api, (unsigned long long)len);
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "%s: a value of %llu bytes is over MP_MAX_MESSAGE", api, (unsigned long long)len);
  return MP_OK;
}

/* Fills p for the dict or list called name, made in the server if new. */
static int open_proxy(mp_manager *m, const char *name, int is_list, proxy *p) {
  const char *api = is_list ? "mp_manager_list" : "mp_manager_dict";
  size_t len = 0;
  int rc = check_key(api, name, &len);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = is_list ? MP__MGR_OPEN_LIST : MP__MGR_OPEN_DICT;
  rq.key = name;
  rq.keylen = len;
  answer a = {WANT_U64, 0, NULL, 0};
  if ((rc = call(m->c, api, &rq, &a)) != MP_OK) return rc;
  if (!(p->name = mp__strdup(name))) return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  p->c = client_ref(m->c);
  p->id = a.u64;
  p->is_list = is_list;
  return MP_OK;
}

static void proxy_clear(proxy *p) {
  client_unref(p->c);
  free(p->name);
}

int mp_manager_dict(mp_manager *m, const char *name, mp_dict **out) {
  if (out) *out = NULL;
  if (!m || !out) return mp__set_error(MP_EINVAL, "mp_manager_dict: NULL argument");
  mp_dict *d = calloc(1, sizeof *d);
  if (!d) return mp__set_error(MP_ENOMEM, "mp_manager_dict: out of memory");
  int rc = open_proxy(m, name, 0, &d->p);
  if (rc != MP_OK) {
    free(d);
    return rc;
  }
  *out = d;
  return MP_OK;
}

int mp_manager_list(mp_manager *m, const char *name, mp_list **out) {
  if (out) *out = NULL;
  if (!m || !out) return mp__set_error(MP_EINVAL, "mp_manager_list: NULL argument");
  mp_list *l = calloc(1, sizeof *l);
  if (!l) return mp__set_error(MP_ENOMEM, "mp_manager_list: out of memory");
  int rc = open_proxy(m, name, 1, &l->p);
  if (rc != MP_OK) {
    free(l);
    return rc;
  }
  *out = l;
  return MP_OK;
}

mp_dict *mp_dict_free(mp_dict *d) {
  if (d) {
    proxy_clear(&d->p);
    free(d);
  }
  return NULL;
}

mp_list *mp_list_free(mp_list *l) {
  if (l) {
    proxy_clear(&l->p);
    free(l);
  }
  return NULL;
}

/* A request about one object of p's. */
static mp__mgr_request request_for(const proxy *p, int op) {
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = op;
  rq.obj = p->id;
  return rq;
}

int mp_dict_set(mp_dict *d, const char *key, const void *val, size_t len) {
  size_t klen = 0;
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_set: NULL dict");
  int rc = check_key("mp_dict_set", key, &klen);
  if (rc == MP_OK) rc = check_value("mp_dict_set", val, len);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = request_for(&d->p, MP__MGR_DICT_SET);
  rq.key = key;
  rq.keylen = klen;
  rq.value = val;
  rq.vlen = len;
  answer a = {WANT_NOTHING, 0, NULL, 0};
  return call(d->p.c, "mp_dict_set", &rq, &a);
}

int mp_dict_get(mp_dict *d, const char *key, void **val, size_t *len) {
  size_t klen = 0;
  if (val) *val = NULL;
  if (len) *len = 0;
  if (!d || !val || !len) return mp__set_error(MP_EINVAL, "mp_dict_get: NULL argument");
  int rc = check_key("mp_dict_get", key, &klen);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = request_for(&d->p, MP__MGR_DICT_GET);
  rq.key = key;
  rq.keylen = klen;
  answer a = {WANT_VALUE, 0, NULL, 0};
  if ((rc = call(d->p.c, "mp_dict_get", &rq, &a)) != MP_OK) return rc;
  *val = a.value;
  *len = a.vlen;
  return MP_OK;
}

int mp_dict_del(mp_dict *d, const char *key) {
  size_t klen = 0;
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_del: NULL dict");
  int rc = check_key("mp_dict_del", key, &klen);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = request_for(&d->p, MP__MGR_DICT_DEL);
  rq.key = key;
  rq.keylen = klen;
  answer a = {WANT_NOTHING, 0, NULL, 0};
  return call(d->p.c, "mp_dict_del", &rq, &a);
}

static int length_of(proxy *p, const char *api, size_t *n) {
  if (n) *n = 0;
  if (!p || !n) return mp__set_error(MP_EINVAL, "%s: NULL argument", api);
  mp__mgr_request rq = request_for(p, p->is_list ? MP__MGR_LIST_LEN : MP__MGR_DICT_LEN);
  answer a = {WANT_U64, 0, NULL, 0};
  int rc = call(p->c, api, &rq, &a);
  if (rc == MP_OK) *n = (size_t)a.u64;
  return rc;
}

int mp_dict_len(mp_dict *d, size_t *n) { return length_of(d ? &d->p : NULL, "mp_dict_len", n); }

int mp_list_len(mp_list *l, size_t *n) { return length_of(l ? &l->p : NULL, "mp_list_len", n); }

int mp_dict_add_i64(mp_dict *d, const char *key, int64_t delta, int64_t *now) {
  size_t klen = 0;
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_add_i64: NULL dict");
  int rc = check_key("mp_dict_add_i64", key, &klen);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = request_for(&d->p, MP__MGR_DICT_ADD);
  rq.key = key;
  rq.keylen = klen;
  rq.num = mp__mgr_from_i64(delta);
  answer a = {WANT_U64, 0, NULL, 0};
  if ((rc = call(d->p.c, "mp_dict_add_i64", &rq, &a)) == MP_OK && now) *now = mp__mgr_to_i64(a.u64);
  return rc;
}

int mp_list_append(mp_list *l, const void *val, size_t len) {
  if (!l) return mp__set_error(MP_EINVAL, "mp_list_append: NULL list");
  int rc = check_value("mp_list_append", val, len);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = request_for(&l->p, MP__MGR_LIST_APPEND);
  rq.value = val;
  rq.vlen = len;
  answer a = {WANT_NOTHING, 0, NULL, 0};
  return call(l->p.c, "mp_list_append", &rq, &a);
}

int mp_list_get(mp_list *l, size_t i, void **val, size_t *len) {
  if (val) *val = NULL;
  if (len) *len = 0;
  if (!l || !val || !len) return mp__set_error(MP_EINVAL, "mp_list_get: NULL argument");
  mp__mgr_request rq = request_for(&l->p, MP__MGR_LIST_GET);
  rq.num = (uint64_t)i;
  answer a = {WANT_VALUE, 0, NULL, 0};
  int rc = call(l->p.c, "mp_list_get", &rq, &a);
  if (rc != MP_OK) return rc;
  *val = a.value;
  *len = a.vlen;
  return MP_OK;
}
