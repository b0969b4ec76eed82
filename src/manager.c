/* Manager: the client side. mp_manager_start runs the server (the built-in
 * task in src/manager_server.c) as a child process and learns the name of
 * its endpoint; the manager object carries that name and a random token,
 * and nothing else, so it can be given to any process, which then opens
 * its own connection on its first call. Handles cannot be sent to a server
 * that is already running in a portable way; a name can.
 *
 * The manager object also carries the handle of its lane region, which
 * every process maps. Its connection, one per manager object per process,
 * is src/manager_client.c; the proxies are src/manager_proxy.c,
 * src/manager_dict.c and src/manager_list.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "manager.h"
#include "manager_client.h"

/* Generous bounds for waits that only a broken system makes long: the
 * server starting (a spawn under Wine takes seconds), the server ending
 * after SHUTDOWN. */
#define START_TIMEOUT 120.0
#define END_TIMEOUT 10.0
#define BLOB_VERSION 2

struct mp_manager {
  mp_object base;
  mp__mgr_client *c;
  mp_shm *lanes;          /* the lane region: created by the owner, imported elsewhere */
  mp_process *server;     /* in the process that started it; else NULL */
  int shut;
};

static int manager_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static void manager_destroy(mp_object *o);
static const mp__object_ops manager_ops = {MP__KIND_MANAGER, "manager", manager_export, manager_destroy, NULL};

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
  if (rc == MP_OK) rc = mp__mgr_client_new(&m->c, name, token);
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
  mp__mgr_reply a = {MP__MGR_WANT_NOTHING, 0, NULL, 0, NULL, NULL, 0};
  /* A server already dead answers MP_ECLOSED: it is gone all the same. */
  (void)mp__mgr_call(m->c, "mp_manager_shutdown", &rq, &a);
  mp__mgr_client_close(m->c);
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
  mp__mgr_client_close(m->c); /* no call touches the lanes after this */
  mp__mgr_client_unref(m->c);
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
  int rc = mp__mgr_client_new(&t->c, m->c->name, m->c->token);
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

int mp__manager_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  char name[MP__ENDPOINT_NAME_MAX];
  (void)handles;
  uint32_t version = mp__rd_u32(r);
  int bad_name = mp__rd_str(r, name, sizeof name);
  const uint8_t *token = mp__rd_take(r, MP__MGR_TOKEN_LEN);
  /* The rest is the lane region's own description: its size is looked at
   * first, so a hostile one never makes this process map anything else. */
  mp__rd peek = *r;
  uint64_t size = mp__rd_u64(&peek);
  if (r->failed || bad_name || version != BLOB_VERSION || nhandles != 1 || !name[0] || peek.failed ||
      peek.off != peek.len || size != MP__LANE_REGION_SIZE)
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: manager description");
  mp_object *lanes = NULL;
  int rc = mp__shm_import(handles, nhandles, r, &lanes);
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
  if ((rc = mp__mgr_client_new(&m->c, name, token)) != MP_OK) {
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

mp__mgr_client *mp__manager_client(mp_manager *m) { return m->c; }
