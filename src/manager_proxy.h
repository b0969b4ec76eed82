/* Manager proxies: what mp_dict and mp_list are, and the helpers their
 * calls share (src/manager_proxy.c); the calls themselves are in
 * src/manager_dict.c and src/manager_list.c. */
#ifndef MPROC_MANAGER_PROXY_H
#define MPROC_MANAGER_PROXY_H

#include "manager.h"
#include "manager_client.h"

/* A dict and a list proxy have the same shape. */
typedef struct mp__mgr_proxy {
  mp__mgr_client *c;    /* a reference to the manager's connection */
  uint64_t id;          /* the object's id in the server */
  int is_list;
  char *name;
} mp__mgr_proxy;
struct mp_dict {
  mp__mgr_proxy p;
};
struct mp_list {
  mp__mgr_proxy p;
};

/* MP_EINVAL (with a message starting with api) for a NULL key or one over
 * MP_MANAGER_KEY_MAX; *len gets its length. */
int mp__mgr_check_key(const char *api, const char *key, size_t *len);
/* MP_EINVAL for NULL bytes with a length, MP_ETOOBIG over MP_MAX_MESSAGE. */
int mp__mgr_check_value(const char *api, const void *val, size_t len);
/* MP_EINVAL unless both objects belong to the same manager's server. */
int mp__mgr_check_same(const char *api, const mp__mgr_proxy *a, const mp__mgr_proxy *b);

/* A request about p's object. */
mp__mgr_request mp__mgr_request_for(const mp__mgr_proxy *p, int op);
/* A reply that wants that (MP__MGR_WANT_*). */
mp__mgr_reply mp__mgr_want(int want);

/* A call whose reply carries nothing. */
int mp__mgr_call_plain(const mp__mgr_proxy *p, const char *api, const mp__mgr_request *rq);
/* A call whose reply is a value: *val (release with mp_free) and *len;
 * NULL and 0 on failure. */
int mp__mgr_call_value(const mp__mgr_proxy *p, const char *api, const mp__mgr_request *rq, void **val,
                       size_t *len);
/* A KEYS (items 0) or ITEMS reply (manager_wire.h) in r->value, checked
 * and laid out as mp_dict_keys' or mp_dict_items' one block in r->out,
 * with r->nout entries; r->value is freed either way. MP_EPROTO for bytes
 * that do not add up, MP_ENOMEM. (src/manager_dict.c; fuzzed by
 * tests/fuzz/fuzz_manager.c.) */
int mp__mgr_decode_entries(mp__mgr_reply *r, const char *api, int items);
/* mp_dict_len and mp_list_len. */
int mp__mgr_length_of(const mp__mgr_proxy *p, const char *api, size_t *n);

#endif
