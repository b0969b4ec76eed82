/* The server's dicts: chained hash tables (FNV-1a, doubled when they hold
 * as many entries as buckets) whose entries are also on a doubly linked
 * list in insertion order, as Python's dicts keep it: keys and items
 * answer in that order, a key set again keeps its place, one deleted and
 * set again goes to the end. Every function takes the store's lock for
 * the whole of its change, so each request is one atomic step. */
#include <stdlib.h>
#include <string.h>

#include "manager_store_impl.h"

typedef mp__mgr_entry entry;
typedef mp__mgr_dict dict;

static uint64_t hash_key(const char *key, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)key[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* The link that points at key's entry (or at NULL where it would go);
 * the table has buckets. */
static entry **slot_of(dict *d, const char *key, size_t keylen, uint64_t h) {
  entry **at = &d->buckets[h & (d->nbuckets - 1)];
  for (; *at; at = &(*at)->next)
    if ((*at)->hash == h && (*at)->keylen == keylen && memcmp((*at)->key, key, keylen) == 0) break;
  return at;
}

/* key's link as slot_of, or NULL when the table has no buckets yet. */
static entry **find_slot(dict *d, const char *key, size_t keylen) {
  return d->nbuckets ? slot_of(d, key, keylen, hash_key(key, keylen)) : NULL;
}

static entry *dict_find(dict *d, const char *key, size_t keylen) {
  entry **at = find_slot(d, key, keylen);
  return at ? *at : NULL;
}

static int grow(dict *d) {
  size_t n = d->nbuckets ? d->nbuckets * 2 : 16;
  entry **b = calloc(n, sizeof *b);
  if (!b) return MP_ENOMEM;
  for (size_t i = 0; i < d->nbuckets; i++) {
    for (entry *e = d->buckets[i], *next; e; e = next) {
      next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
    }
  }
  free(d->buckets);
  d->buckets = b;
  d->nbuckets = n;
  return MP_OK;
}

/* Room for extra more entries: a failed doubling only makes chains
 * longer, unless there is no table at all. */
static int make_room(dict *d, size_t extra) {
  while (d->count + extra > d->nbuckets && d->nbuckets < ((size_t)1 << (sizeof(size_t) * 8 - 4)))
    if (grow(d) != MP_OK) return d->nbuckets ? MP_OK : MP_ENOMEM;
  return MP_OK;
}

/* A new entry for key, in no table yet (val unset). */
static entry *entry_new(const char *key, size_t keylen, uint64_t h) {
  entry *e = malloc(sizeof *e + (keylen ? keylen : 1));
  if (!e) return NULL;
  memset(e, 0, sizeof *e);
  e->hash = h;
  e->keylen = keylen;
  e->key = (char *)(e + 1);
  if (keylen) memcpy(e->key, key, keylen);
  return e;
}

/* Puts e (holding its value) at the end of its chain and of the order. */
static void link_entry(dict *d, entry *e) {
  entry **at = slot_of(d, e->key, e->keylen, e->hash);
  e->next = NULL;
  *at = e;
  e->newer = NULL;
  e->older = d->newest;
  if (d->newest)
    d->newest->newer = e;
  else
    d->oldest = e;
  d->newest = e;
  d->count++;
}

/* Takes *at's entry out of the table; the caller frees it. */
static entry *unlink_entry(dict *d, entry **at) {
  entry *e = *at;
  *at = e->next;
  if (e->older)
    e->older->newer = e->newer;
  else
    d->oldest = e->newer;
  if (e->newer)
    e->newer->older = e->older;
  else
    d->newest = e->older;
  d->count--;
  return e;
}

/* Points key's entry at v (taking over the caller's reference). */
static int dict_put(dict *d, const char *key, size_t keylen, mp__mgr_value *v) {
  if (make_room(d, 1) != MP_OK) return MP_ENOMEM;
  uint64_t h = hash_key(key, keylen);
  entry **at = slot_of(d, key, keylen, h);
  if (*at) {
    mp__mgr_value_unref((*at)->val);
    (*at)->val = v;
    return MP_OK;
  }
  entry *e = entry_new(key, keylen, h);
  if (!e) return MP_ENOMEM;
  e->val = v;
  link_entry(d, e);
  return MP_OK;
}

void mp__mgr_dict_free_all(dict *d) {
  for (entry *e = d->oldest, *newer; e; e = newer) {
    newer = e->newer;
    mp__mgr_value_unref(e->val);
    free(e);
  }
  free(d->buckets);
  memset(d, 0, sizeof *d);
}

static int no_key(const char *key, size_t keylen) {
  return mp__set_error(MP_ENOTFOUND, "no key \"%.*s\"", keylen > 80 ? 80 : (int)keylen, key);
}

/* The dict id names, with the lock held; NULL (and the error set) if none. */
static dict *locked_dict(mp__mgr_store *s, uint64_t id, int *rc) {
  mp__mgr_object *o = mp__mgr_find(s, id, 0);
  *rc = o ? MP_OK : mp__mgr_bad_id(id);
  return o ? &o->d : NULL;
}

int mp__mgr_dict_set(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, const void *val, size_t len) {
  /* The copy is made before the lock: 10 MiB of memcpy holds up nobody. */
  mp__mgr_value *v = mp__mgr_value_new(val, len);
  if (!v) return mp__set_error(MP_ENOMEM, "manager: out of memory for a %llu-byte value", (unsigned long long)len);
  int rc;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  if (d && (rc = dict_put(d, key, keylen, v)) != MP_OK) rc = mp__mgr_nomem();
  if (rc != MP_OK) mp__mgr_value_unref(v);
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_get(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, mp__mgr_value **val) {
  int rc;
  *val = NULL;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  entry *e = d ? dict_find(d, key, keylen) : NULL;
  if (d && !e) {
    rc = no_key(key, keylen);
  } else if (e) {
    e->val->refs++;
    *val = e->val;
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_contains(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, uint64_t *found) {
  int rc;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  if (d) *found = dict_find(d, key, keylen) != NULL;
  mp__mutex_unlock(s->lock);
  return rc;
}

/* Takes key's entry out of its dict: its value's reference goes to *val
 * (or is dropped if val is NULL). */
static int take(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, mp__mgr_value **val) {
  int rc;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  entry **at = d ? find_slot(d, key, keylen) : NULL;
  if (d && (!at || !*at)) {
    rc = no_key(key, keylen);
  } else if (d) {
    entry *e = unlink_entry(d, at);
    if (val)
      *val = e->val;
    else
      mp__mgr_value_unref(e->val);
    free(e);
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_del(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen) {
  return take(s, id, key, keylen, NULL);
}

int mp__mgr_dict_pop(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, mp__mgr_value **val) {
  *val = NULL;
  return take(s, id, key, keylen, val);
}

/* The sum, unless it leaves int64_t's range. */
static int add_checked(int64_t a, int64_t b, int64_t *sum) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return 0;
  *sum = a + b;
  return 1;
}

int mp__mgr_dict_add(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, int64_t delta, int64_t *now) {
  int rc;
  int64_t cur = 0, sum = 0;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  entry *e = d ? dict_find(d, key, keylen) : NULL;
  if (!d) goto done;
  if (e && e->val->len != sizeof cur) {
    rc = mp__set_error(MP_EINVAL, "the value of \"%.*s\" has %llu bytes, not the 8 of a counter",
                       keylen > 80 ? 80 : (int)keylen, key, (unsigned long long)e->val->len);
    goto done;
  }
  if (e) memcpy(&cur, e->val->data, sizeof cur);
  if (!add_checked(cur, delta, &sum)) {
    rc = mp__set_error(MP_EINVAL, "adding %lld to %lld overflows an int64_t", (long long)delta, (long long)cur);
    goto done;
  }
  if (e && e->val->refs == 1) {
    memcpy(e->val->data, &sum, sizeof sum); /* nobody else sees it: change in place */
  } else {
    /* A reader may still be sending the old value, or another dict or
     * list share it (update, extend): put a new one in. */
    mp__mgr_value *v = mp__mgr_value_new(&sum, sizeof sum);
    if (!v || dict_put(d, key, keylen, v) != MP_OK) {
      mp__mgr_value_unref(v);
      rc = mp__mgr_nomem();
      goto done;
    }
  }
  *now = sum;
done:
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_setdefault(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, const void *val,
                            size_t len, mp__mgr_value **out) {
  /* Made before the lock, as in set; thrown away if the key is there. */
  mp__mgr_value *v = mp__mgr_value_new(val, len);
  if (!v) return mp__set_error(MP_ENOMEM, "manager: out of memory for a %llu-byte value", (unsigned long long)len);
  int rc;
  if (out) *out = NULL;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  entry *e = d ? dict_find(d, key, keylen) : NULL;
  if (e) {
    mp__mgr_value_unref(v);
    v = e->val;
  } else if (d && dict_put(d, key, keylen, v) != MP_OK) {
    mp__mgr_value_unref(v);
    rc = mp__mgr_nomem();
  } else if (!d) {
    mp__mgr_value_unref(v);
  }
  if (rc == MP_OK && out) {
    v->refs++;
    *out = v;
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_clear(mp__mgr_store *s, uint64_t id) {
  int rc;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  if (d) mp__mgr_dict_free_all(d);
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_update(mp__mgr_store *s, uint64_t dst, uint64_t src) {
  int rc;
  mp__mutex_lock(s->lock);
  dict *to = locked_dict(s, dst, &rc);
  dict *from = to ? locked_dict(s, src, &rc) : NULL;
  if (!from || from == to) goto done;
  /* First every new entry is made, so running out of memory changes
   * nothing; they wait on a list (through next) in src's order. */
  entry *fresh = NULL, **tail = &fresh;
  size_t nfresh = 0;
  for (entry *e = from->oldest; e; e = e->newer) {
    if (dict_find(to, e->key, e->keylen)) continue;
    entry *ne = entry_new(e->key, e->keylen, e->hash);
    if (!ne) break;
    *tail = ne;
    tail = &ne->next;
    nfresh++;
  }
  size_t missing = 0;
  for (entry *e = from->oldest; e; e = e->newer) missing += dict_find(to, e->key, e->keylen) == NULL;
  if (nfresh != missing || make_room(to, nfresh) != MP_OK) {
    for (entry *ne = fresh, *next; ne; ne = next) {
      next = ne->next;
      free(ne);
    }
    rc = mp__mgr_nomem();
    goto done;
  }
  /* Then the values are shared, old keys in place, new ones at the end. */
  for (entry *e = from->oldest; e; e = e->newer) {
    e->val->refs++;
    entry *old = dict_find(to, e->key, e->keylen);
    if (old) {
      mp__mgr_value_unref(old->val);
      old->val = e->val;
    } else {
      entry *ne = fresh;
      fresh = ne->next;
      ne->val = e->val;
      link_entry(to, ne);
    }
  }
done:
  mp__mutex_unlock(s->lock);
  return rc;
}

/* The size of a KEYS (with_values 0) or ITEMS reply, or 0 if it is over
 * MP_MAX_MESSAGE. */
static size_t snapshot_size(const dict *d, int with_values) {
  size_t total = 8;
  for (const entry *e = d->oldest; e; e = e->newer) {
    total += 4 + e->keylen + (with_values ? 8 + e->val->len : 0);
    if (total > MP_MAX_MESSAGE) return 0;
  }
  return total;
}

int mp__mgr_dict_snapshot(mp__mgr_store *s, uint64_t id, int with_values, mp__mgr_value **out) {
  int rc;
  mp__mgr_value *blob = NULL, **vals = NULL;
  size_t n = 0;
  *out = NULL;
  mp__mutex_lock(s->lock);
  dict *d = locked_dict(s, id, &rc);
  size_t total = d ? snapshot_size(d, with_values) : 0;
  if (d && total == 0) {
    rc = mp__set_error(MP_ETOOBIG, "the %s of this dict come to more than MP_MAX_MESSAGE bytes",
                       with_values ? "items" : "keys");
  } else if (d && (!(blob = mp__mgr_value_new(NULL, total)) ||
                   (with_values && d->count && !(vals = malloc(d->count * sizeof *vals))))) {
    rc = mp__mgr_nomem();
  } else if (d) {
    /* Keys are copied now; values only get a reference, and their bytes
     * are copied after the lock is let go. */
    uint8_t *p = blob->data;
    mp__store_u64(p, (uint64_t)d->count);
    p += 8;
    for (entry *e = d->oldest; e; e = e->newer) {
      mp__store_u32(p, (uint32_t)e->keylen);
      if (e->keylen) memcpy(p + 4, e->key, e->keylen);
      p += 4 + e->keylen;
      if (!with_values) continue;
      mp__store_u64(p, (uint64_t)e->val->len);
      p += 8 + e->val->len;
      e->val->refs++;
      vals[n++] = e->val;
    }
  }
  mp__mutex_unlock(s->lock);
  if (rc != MP_OK) {
    free(blob); /* seen by nobody else */
    free(vals);
    return rc;
  }
  uint8_t *p = blob->data + 8;
  for (size_t i = 0; i < n; i++) {
    p += 4 + mp__load_u32(p);
    p += 8;
    if (vals[i]->len) memcpy(p, vals[i]->data, vals[i]->len);
    p += vals[i]->len;
  }
  mp__mgr_values_release(s, vals, n);
  free(vals);
  *out = blob;
  return MP_OK;
}
