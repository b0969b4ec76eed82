/* Manager list proxies: each call is one request to the server, carried
 * out there in one step (src/manager_store_list.c), and one reply. */
#include <string.h>

#include "manager_proxy.h"

/* A request about item i of l carrying a value, checked. */
static int value_request(mp_list *l, const char *api, int op, uint64_t i, const void *val, size_t len,
                         mp__mgr_request *rq) {
  if (!l) return mp__set_error(MP_EINVAL, "%s: NULL list", api);
  int rc = mp__mgr_check_value(api, val, len);
  if (rc != MP_OK) return rc;
  *rq = mp__mgr_request_for(&l->p, op);
  rq->num = i;
  rq->value = val;
  rq->vlen = len;
  return MP_OK;
}

int mp_list_append(mp_list *l, const void *val, size_t len) {
  mp__mgr_request rq;
  int rc = value_request(l, "mp_list_append", MP__MGR_LIST_APPEND, 0, val, len, &rq);
  return rc == MP_OK ? mp__mgr_call_plain(&l->p, "mp_list_append", &rq) : rc;
}

int mp_list_set(mp_list *l, size_t i, const void *val, size_t len) {
  mp__mgr_request rq;
  int rc = value_request(l, "mp_list_set", MP__MGR_LIST_SET, (uint64_t)i, val, len, &rq);
  return rc == MP_OK ? mp__mgr_call_plain(&l->p, "mp_list_set", &rq) : rc;
}

int mp_list_insert(mp_list *l, size_t i, const void *val, size_t len) {
  mp__mgr_request rq;
  int rc = value_request(l, "mp_list_insert", MP__MGR_LIST_INSERT, (uint64_t)i, val, len, &rq);
  return rc == MP_OK ? mp__mgr_call_plain(&l->p, "mp_list_insert", &rq) : rc;
}

/* get and pop: a value back, or NULL and 0. */
static int value_of(mp_list *l, const char *api, int op, uint64_t i, void **val, size_t *len) {
  if (val) *val = NULL;
  if (len) *len = 0;
  if (!l || !val || !len) return mp__set_error(MP_EINVAL, "%s: NULL argument", api);
  mp__mgr_request rq = mp__mgr_request_for(&l->p, op);
  rq.num = i;
  return mp__mgr_call_value(&l->p, api, &rq, val, len);
}

int mp_list_get(mp_list *l, size_t i, void **val, size_t *len) {
  return value_of(l, "mp_list_get", MP__MGR_LIST_GET, (uint64_t)i, val, len);
}

int mp_list_pop(mp_list *l, size_t i, void **val, size_t *len) {
  /* MP_LIST_LAST is SIZE_MAX, which is not UINT64_MAX on every target. */
  uint64_t at = i == MP_LIST_LAST ? MP__MGR_LIST_LAST : (uint64_t)i;
  return value_of(l, "mp_list_pop", MP__MGR_LIST_POP, at, val, len);
}

int mp_list_delete(mp_list *l, size_t i) {
  if (!l) return mp__set_error(MP_EINVAL, "mp_list_delete: NULL list");
  mp__mgr_request rq = mp__mgr_request_for(&l->p, MP__MGR_LIST_DELETE);
  rq.num = (uint64_t)i;
  return mp__mgr_call_plain(&l->p, "mp_list_delete", &rq);
}

int mp_list_len(mp_list *l, size_t *n) { return mp__mgr_length_of(l ? &l->p : NULL, "mp_list_len", n); }

int mp_list_extend(mp_list *l, mp_list *src) {
  if (!l || !src) return mp__set_error(MP_EINVAL, "mp_list_extend: NULL list");
  int rc = mp__mgr_check_same("mp_list_extend", &l->p, &src->p);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = mp__mgr_request_for(&l->p, MP__MGR_LIST_EXTEND);
  rq.num = src->p.id;
  return mp__mgr_call_plain(&l->p, "mp_list_extend", &rq);
}
