/* Manager: the client's connection (src/manager_client.c), shared by the
 * manager object (src/manager.c) and the proxies (src/manager_proxy.c,
 * src/manager_dict.c, src/manager_list.c). */
#ifndef MPROC_MANAGER_CLIENT_H
#define MPROC_MANAGER_CLIENT_H

#include "core.h"
#include "manager_lane.h"
#include "manager_wire.h"
#include "sync.h"

typedef struct mp__mgr_client {
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
} mp__mgr_client;

int mp__mgr_client_new(mp__mgr_client **out, const char *name, const uint8_t *token);
mp__mgr_client *mp__mgr_client_ref(mp__mgr_client *c);
/* No more calls through c, from anyone holding it: they read MP_ECLOSED. */
void mp__mgr_client_close(mp__mgr_client *c);
void mp__mgr_client_unref(mp__mgr_client *c);

/* What a call wants back: nothing, a u64, or the reply's bytes. */
enum { MP__MGR_WANT_NOTHING, MP__MGR_WANT_U64, MP__MGR_WANT_VALUE };

typedef struct mp__mgr_reply {
  int want;
  uint64_t u64;
  void *value;            /* MP__MGR_WANT_VALUE: malloc'd, the caller's */
  size_t vlen;
  /* If set, run on a reply that arrived whole, with the connection's lock
   * still held: it checks the answer, and may turn value into out (then
   * it frees value, whatever it returns). Its MP_EPROTO
   * (the server's bytes make no sense) drops the connection, as a
   * malformed frame does. */
  int (*decode)(struct mp__mgr_reply *r, const char *api);
  void *out;
  size_t nout;
} mp__mgr_reply;

/* One round trip: sends rq, waits for the reply (never on a server that
 * is gone: MP_ECLOSED), fills r. The error's text starts with api. */
int mp__mgr_call(mp__mgr_client *c, const char *api, const mp__mgr_request *rq, mp__mgr_reply *r);

#endif
