/* Manager dict proxies: each call is one request to the server, carried
 * out there in one step (src/manager_store_dict.c), and one reply. Keys
 * and items come back as one block the caller frees with mp_free: the
 * reply (manager_wire.h's KEYS and ITEMS) is checked and laid out here. */
#include <stdlib.h>
#include <string.h>

#include "manager_proxy.h"

/* A request about key in d, checked. */
static int key_request(mp_dict *d, const char *api, int op, const char *key, mp__mgr_request *rq) {
  size_t klen = 0;
  int rc = mp__mgr_check_key(api, key, &klen);
  if (rc != MP_OK) return rc;
  *rq = mp__mgr_request_for(&d->p, op);
  rq->key = key;
  rq->keylen = klen;
  return MP_OK;
}

int mp_dict_set(mp_dict *d, const char *key, const void *val, size_t len) {
  mp__mgr_request rq;
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_set: NULL dict");
  int rc = key_request(d, "mp_dict_set", MP__MGR_DICT_SET, key, &rq);
  if (rc == MP_OK) rc = mp__mgr_check_value("mp_dict_set", val, len);
  if (rc != MP_OK) return rc;
  rq.value = val;
  rq.vlen = len;
  return mp__mgr_call_plain(&d->p, "mp_dict_set", &rq);
}

/* get and pop: a value back, or NULL and 0. */
static int value_of(mp_dict *d, const char *api, int op, const char *key, void **val, size_t *len) {
  mp__mgr_request rq;
  if (val) *val = NULL;
  if (len) *len = 0;
  if (!d || !val || !len) return mp__set_error(MP_EINVAL, "%s: NULL argument", api);
  int rc = key_request(d, api, op, key, &rq);
  return rc == MP_OK ? mp__mgr_call_value(&d->p, api, &rq, val, len) : rc;
}

int mp_dict_get(mp_dict *d, const char *key, void **val, size_t *len) {
  return value_of(d, "mp_dict_get", MP__MGR_DICT_GET, key, val, len);
}

int mp_dict_pop(mp_dict *d, const char *key, void **val, size_t *len) {
  return value_of(d, "mp_dict_pop", MP__MGR_DICT_POP, key, val, len);
}

int mp_dict_del(mp_dict *d, const char *key) {
  mp__mgr_request rq;
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_del: NULL dict");
  int rc = key_request(d, "mp_dict_del", MP__MGR_DICT_DEL, key, &rq);
  return rc == MP_OK ? mp__mgr_call_plain(&d->p, "mp_dict_del", &rq) : rc;
}

int mp_dict_len(mp_dict *d, size_t *n) { return mp__mgr_length_of(d ? &d->p : NULL, "mp_dict_len", n); }

int mp_dict_add_i64(mp_dict *d, const char *key, int64_t delta, int64_t *now) {
  mp__mgr_request rq;
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_add_i64: NULL dict");
  int rc = key_request(d, "mp_dict_add_i64", MP__MGR_DICT_ADD, key, &rq);
  if (rc != MP_OK) return rc;
  rq.num = mp__mgr_from_i64(delta);
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_U64);
  if ((rc = mp__mgr_call(d->p.c, "mp_dict_add_i64", &rq, &r)) == MP_OK && now) *now = mp__mgr_to_i64(r.u64);
  return rc;
}

/* contains' answer is 1 or 0; anything else is a server talking nonsense. */
static int check_flag(mp__mgr_reply *r, const char *api) {
  if (r->u64 > 1)
    return mp__set_error(MP_EPROTO, "%s: malformed manager reply: %llu where 1 or 0 belongs", api,
                         (unsigned long long)r->u64);
  return MP_OK;
}

int mp_dict_contains(mp_dict *d, const char *key, int *found) {
  mp__mgr_request rq;
  if (found) *found = 0;
  if (!d || !found) return mp__set_error(MP_EINVAL, "mp_dict_contains: NULL argument");
  int rc = key_request(d, "mp_dict_contains", MP__MGR_DICT_CONTAINS, key, &rq);
  if (rc != MP_OK) return rc;
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_U64);
  r.decode = check_flag;
  if ((rc = mp__mgr_call(d->p.c, "mp_dict_contains", &rq, &r)) != MP_OK) return rc;
  *found = (int)r.u64;
  return MP_OK;
}

int mp_dict_setdefault(mp_dict *d, const char *key, const void *dflt, size_t dlen, void **val, size_t *len) {
  mp__mgr_request rq;
  if (val) *val = NULL;
  if (len) *len = 0;
  if (!d || !val != !len) return mp__set_error(MP_EINVAL, "mp_dict_setdefault: NULL dict, or only one of val and len");
  int rc = key_request(d, "mp_dict_setdefault", MP__MGR_DICT_SETDEFAULT, key, &rq);
  if (rc == MP_OK) rc = mp__mgr_check_value("mp_dict_setdefault", dflt, dlen);
  if (rc != MP_OK) return rc;
  rq.value = dflt;
  rq.vlen = dlen;
  rq.num = val != NULL; /* without val the server sends nothing back */
  if (!val) return mp__mgr_call_plain(&d->p, "mp_dict_setdefault", &rq);
  return mp__mgr_call_value(&d->p, "mp_dict_setdefault", &rq, val, len);
}

int mp_dict_clear(mp_dict *d) {
  if (!d) return mp__set_error(MP_EINVAL, "mp_dict_clear: NULL dict");
  mp__mgr_request rq = mp__mgr_request_for(&d->p, MP__MGR_DICT_CLEAR);
  return mp__mgr_call_plain(&d->p, "mp_dict_clear", &rq);
}

int mp_dict_update(mp_dict *dst, mp_dict *src) {
  if (!dst || !src) return mp__set_error(MP_EINVAL, "mp_dict_update: NULL dict");
  int rc = mp__mgr_check_same("mp_dict_update", &dst->p, &src->p);
  if (rc != MP_OK) return rc;
  mp__mgr_request rq = mp__mgr_request_for(&dst->p, MP__MGR_DICT_UPDATE);
  rq.num = src->p.id;
  return mp__mgr_call_plain(&dst->p, "mp_dict_update", &rq);
}

/* ------------------------------------------------------------ keys, items */
/* Reads a KEYS or ITEMS reply, entry by entry, checking every length. */
typedef struct reader {
  const uint8_t *p;
  size_t left;
  int bad;
} reader;

static uint64_t rd_num(reader *r, size_t n) {
  if (r->bad || r->left < n) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = n == 4 ? mp__load_u32(r->p) : mp__load_u64(r->p);
  r->p += n;
  r->left -= n;
  return v;
}

static const uint8_t *rd_bytes(reader *r, uint64_t n) {
  if (r->bad || r->left < n) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *at = r->p;
  r->p += n;
  r->left -= (size_t)n;
  return at;
}

/* The next key; NULL if the reply is malformed. */
static const char *rd_key(reader *r, size_t *keylen) {
  uint64_t n = rd_num(r, 4);
  *keylen = 0;
  const uint8_t *k = n > MP_MANAGER_KEY_MAX ? NULL : rd_bytes(r, n);
  if (!k || memchr(k, 0, (size_t)n)) {
    r->bad = 1;
    return NULL;
  }
  *keylen = (size_t)n;
  return (const char *)k;
}

/* *total += n, unless that overflows. */
static int grow_by(size_t *total, size_t n) {
  if (n > SIZE_MAX - *total) return 0;
  *total += n;
  return 1;
}

#define VALUE_ALIGN 16 /* what malloc gives: a value may hold any type */

static size_t aligned(size_t n) { return (n + (VALUE_ALIGN - 1)) & ~(size_t)(VALUE_ALIGN - 1); }

/* The block: the array of n entries, then (for items) each value at an
 * aligned offset followed by its key, or (for keys) the keys one after
 * another. Two passes over the bytes: the first checks them and counts,
 * the second copies. */
int mp__mgr_decode_entries(mp__mgr_reply *r, const char *api, int items) {
  reader rd = {r->value, r->vlen, 0};
  uint64_t count = rd_num(&rd, 8);
  size_t entry = items ? sizeof(mp_dict_item) : sizeof(char *);
  /* Every entry takes at least 4 bytes of the reply (12 for items). */
  int rc = MP_OK;
  if (rd.bad || count > rd.left / (items ? 12 : 4)) {
    rc = mp__set_error(MP_EPROTO, "%s: malformed manager reply: %llu entries in %llu bytes", api,
                       (unsigned long long)count, (unsigned long long)r->vlen);
    goto out;
  }
  size_t total = aligned((size_t)count * entry), keylen = 0;
  int fits = 1;
  for (uint64_t i = 0; i < count && !rd.bad; i++) {
    if (!rd_key(&rd, &keylen)) break;
    if (items) {
      uint64_t vlen = rd_num(&rd, 8);
      if (!rd_bytes(&rd, vlen)) break;
      fits = fits && grow_by(&total, (size_t)vlen) && grow_by(&total, VALUE_ALIGN);
    }
    fits = fits && grow_by(&total, keylen + 1);
    total = items && fits ? aligned(total) : total;
  }
  if (rd.bad || rd.left != 0) {
    rc = mp__set_error(MP_EPROTO, "%s: malformed manager reply: an entry's lengths do not add up", api);
    goto out;
  }
  uint8_t *block = fits ? malloc(total ? total : 1) : NULL;
  if (!block) {
    rc = mp__set_error(MP_ENOMEM, "%s: out of memory for %llu entries", api, (unsigned long long)count);
    goto out;
  }
  reader again = {(const uint8_t *)r->value + 8, r->vlen - 8, 0};
  size_t at = aligned((size_t)count * entry);
  for (size_t i = 0; i < (size_t)count; i++) {
    const char *key = rd_key(&again, &keylen);
    if (items) {
      mp_dict_item *it = (mp_dict_item *)(void *)block + i;
      size_t vlen = (size_t)rd_num(&again, 8);
      const uint8_t *v = rd_bytes(&again, vlen);
      if (vlen) memcpy(block + at, v, vlen);
      it->val = block + at;
      it->len = vlen;
      at += vlen;
      it->key = (const char *)block + at;
    } else {
      ((char **)(void *)block)[i] = (char *)block + at;
    }
    if (keylen) memcpy(block + at, key, keylen);
    block[at + keylen] = '\0';
    at += keylen + 1;
    if (items) at = aligned(at);
  }
  r->out = block;
  r->nout = (size_t)count;
out:
  free(r->value);
  r->value = NULL;
  return rc;
}

static int decode_keys(mp__mgr_reply *r, const char *api) { return mp__mgr_decode_entries(r, api, 0); }

static int decode_items(mp__mgr_reply *r, const char *api) { return mp__mgr_decode_entries(r, api, 1); }

static int snapshot(mp_dict *d, const char *api, int op, void **out, size_t *n) {
  if (out) *out = NULL;
  if (n) *n = 0;
  if (!d || !out || !n) return mp__set_error(MP_EINVAL, "%s: NULL argument", api);
  mp__mgr_request rq = mp__mgr_request_for(&d->p, op);
  mp__mgr_reply r = mp__mgr_want(MP__MGR_WANT_VALUE);
  r.decode = op == MP__MGR_DICT_ITEMS ? decode_items : decode_keys;
  int rc = mp__mgr_call(d->p.c, api, &rq, &r);
  if (rc != MP_OK) return rc;
  *out = r.out;
  *n = r.nout;
  return MP_OK;
}

int mp_dict_keys(mp_dict *d, char ***keys, size_t *n) {
  void *block = NULL;
  int rc = snapshot(d, "mp_dict_keys", MP__MGR_DICT_KEYS, keys ? &block : NULL, n);
  if (keys) *keys = block;
  return rc;
}

int mp_dict_items(mp_dict *d, mp_dict_item **items, size_t *n) {
  void *block = NULL;
  int rc = snapshot(d, "mp_dict_items", MP__MGR_DICT_ITEMS, items ? &block : NULL, n);
  if (items) *items = block;
  return rc;
}
