/* Manager proxies: opening a dict or list by name, freeing a proxy, and
 * the checks and call shapes every proxy call shares. */
#include <stdlib.h>
#include <string.h>

#include "manager_proxy.h"

int mp__mgr_check_key(const char *api, const char *key, size_t *len) {
  if (!key) return mp__set_error(MP_EINVAL, "%s: the key is NULL", api);
  *len = strlen(key);
  if (*len > MP_MANAGER_KEY_MAX)
    return mp__set_error(MP_EINVAL, "%s: keys and names are at most %d bytes, this one has %llu", api,
                         MP_MANAGER_KEY_MAX, (unsigned long long)*len);
  return MP_OK;
}

int mp__mgr_check_value(const char *api, const void *val, size_t len) {
  if (!val && len) return mp__set_error(MP_EINVAL, "%s: the value is NULL but len is %llu", api, (unsigned long long)len);
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "%s: a value of %llu bytes is over MP_MAX_MESSAGE", api, (unsigned long long)len);
  return MP_OK;
}

int mp__mgr_check_same(const char *api, const mp__mgr_proxy *a, const mp__mgr_proxy *b) {
  /* Two manager objects in one process (a child given it twice) have
   * connections of their own to the same server: the name tells. */
  if (a->c != b->c && strcmp(a->c->name, b->c->name) != 0)
    return mp__set_error(MP_EINVAL, "%s: the two %ss belong to different managers", api, a->is_list ? "list" : "dict");
  return MP_OK;
}

mp__mgr_request mp__mgr_request_for(const mp__mgr_proxy *p, int op) {
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = op;
  rq.obj = p->id;
  return rq;
}

mp__mgr_reply mp__mgr_want(int want) {
  mp__mgr_reply r;
  memset(&r, 0, sizeof r);
  r.want = want;
  return r;
}

int mp__mgr_call_plain(const mp__mgr_proxy *p, const char *api, const mp__mgr_request *rq) {
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_NOTHING);
  return mp__mgr_call(p->c, api, rq, &r);
}

int mp__mgr_call_value(const mp__mgr_proxy *p, const char *api, const mp__mgr_request *rq, void **val,
                       size_t *len) {
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_VALUE);
  int rc = mp__mgr_call(p->c, api, rq, &r);
  if (rc != MP_OK) return rc;
  *val = r.value;
  *len = r.vlen;
  return MP_OK;
}

int mp__mgr_length_of(const mp__mgr_proxy *p, const char *api, size_t *n) {
  if (n) *n = 0;
  if (!p || !n) return mp__set_error(MP_EINVAL, "%s: NULL argument", api);
  mp__mgr_request rq = mp__mgr_request_for(p, p->is_list ? MP__MGR_LIST_LEN : MP__MGR_DICT_LEN);
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_U64);
  int rc = mp__mgr_call(p->c, api, &rq, &r);
  if (rc == MP_OK) *n = (size_t)r.u64;
  return rc;
}

/* Fills p for the dict or list called name, made in the server if new. */
static int open_proxy(mp_manager *m, const char *name, int is_list, mp__mgr_proxy *p) {
  const char *api = is_list ? "mp_manager_list" : "mp_manager_dict";
  mp__mgr_client *c = mp__manager_client(m);
  size_t len = 0;
  int rc = mp__mgr_check_key(api, name, &len);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = is_list ? MP__MGR_OPEN_LIST : MP__MGR_OPEN_DICT;
  rq.key = name;
  rq.keylen = len;
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_U64);
  if ((rc = mp__mgr_call(c, api, &rq, &r)) != MP_OK) return rc;
  if (!(p->name = mp__strdup(name))) return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  p->c = mp__mgr_client_ref(c);
  p->id = r.u64;
  p->is_list = is_list;
  return MP_OK;
}

static void proxy_clear(mp__mgr_proxy *p) {
  mp__mgr_client_unref(p->c);
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
