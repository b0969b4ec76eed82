/* The server's data: dicts are chained hash tables (FNV-1a, doubled when
 * they hold as many entries as buckets), lists are growable arrays, and
 * objects are found by the id OPEN handed out (their index + 1). */
#include <stdlib.h>
#include <string.h>

#include "manager_store.h"

typedef struct entry {
  struct entry *next;
  uint64_t hash;
  size_t keylen;
  char *key;              /* keylen bytes, right after this struct */
  mp__mgr_value *val;
} entry;

typedef struct dict {
  entry **buckets;
  size_t nbuckets, count;
} dict;

typedef struct list {
  mp__mgr_value **items;
  size_t len, cap;
} list;

typedef struct object {
  int is_list;
  char *name;
  size_t namelen;
  dict d;
  list l;
} object;

struct mp__mgr_store {
  mp__mutex *lock;
  object *objs;
  size_t nobjs, cap;
};

/* ------------------------------------------------------------ values */
static mp__mgr_value *value_new(const void *data, size_t len) {
  mp__mgr_value *v = malloc(sizeof *v + (len ? len : 1));
  if (!v) return NULL;
  v->refs = 1;
  v->len = len;
  v->data = (uint8_t *)(v + 1);
  if (len) memcpy(v->data, data, len);
  return v;
}

static void value_unref(mp__mgr_value *v) {
  if (v && --v->refs == 0) free(v);
}

void mp__mgr_value_release(mp__mgr_store *s, mp__mgr_value *v) {
  if (!v) return;
  mp__mutex_lock(s->lock);
  value_unref(v);
  mp__mutex_unlock(s->lock);
}

/* ------------------------------------------------------------ store */
int mp__mgr_store_new(mp__mgr_store **out) {
  mp__mgr_store *s = calloc(1, sizeof *s);
  if (!s) return mp__set_error(MP_ENOMEM, "manager: out of memory");
  int rc = mp__mutex_new(&s->lock);
  if (rc != MP_OK) {
    free(s);
    return rc;
  }
  *out = s;
  return MP_OK;
}

static void object_clear(object *o) {
  for (size_t b = 0; b < o->d.nbuckets; b++) {
    for (entry *e = o->d.buckets[b], *next; e; e = next) {
      next = e->next;
      value_unref(e->val);
      free(e);
    }
  }
  free(o->d.buckets);
  for (size_t i = 0; i < o->l.len; i++) value_unref(o->l.items[i]);
  free(o->l.items);
  free(o->name);
}

void mp__mgr_store_free(mp__mgr_store *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nobjs; i++) object_clear(&s->objs[i]);
  free(s->objs);
  mp__mutex_free(s->lock);
  free(s);
}

int mp__mgr_store_open(mp__mgr_store *s, int is_list, const char *name, size_t namelen, uint64_t *id) {
  int rc = MP_OK;
  mp__mutex_lock(s->lock);
  for (size_t i = 0; i < s->nobjs; i++) {
    object *o = &s->objs[i];
    if (o->is_list == is_list && o->namelen == namelen && memcmp(o->name, name, namelen) == 0) {
      *id = (uint64_t)i + 1;
      goto done;
    }
  }
  if (s->nobjs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    object *objs = realloc(s->objs, cap * sizeof *objs);
    if (!objs) goto nomem;
    s->objs = objs;
    s->cap = cap;
  }
  object *o = &s->objs[s->nobjs];
  memset(o, 0, sizeof *o);
  if (!(o->name = malloc(namelen + 1))) goto nomem;
  if (namelen) memcpy(o->name, name, namelen);
  o->name[namelen] = '\0';
  o->namelen = namelen;
  o->is_list = is_list;
  *id = (uint64_t)++s->nobjs;
  goto done;
nomem:
  rc = mp__set_error(MP_ENOMEM, "manager: out of memory");
done:
  mp__mutex_unlock(s->lock);
  return rc;
}

/* The object id names, if it is of the right kind; the lock is held. */
static object *find(mp__mgr_store *s, uint64_t id, int is_list) {
  if (id == 0 || id > s->nobjs) return NULL;
  object *o = &s->objs[id - 1];
  return o->is_list == is_list ? o : NULL;
}

static int bad_id(uint64_t id) {
  return mp__set_error(MP_EPROTO, "malformed manager request: no object %llu of that kind", (unsigned long long)id);
}

/* ------------------------------------------------------------ dicts */
static uint64_t hash_key(const char *key, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)key[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* The link that points at key's entry (or at NULL where it would go). */
static entry **slot_of(dict *d, const char *key, size_t keylen, uint64_t h) {
  entry **at = &d->buckets[h & (d->nbuckets - 1)];
  for (; *at; at = &(*at)->next)
    if ((*at)->hash == h && (*at)->keylen == keylen && memcmp((*at)->key, key, keylen) == 0) break;
  return at;
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

/* Points key's entry at v (taking over the caller's reference). */
static int dict_put(dict *d, const char *key, size_t keylen, mp__mgr_value *v) {
  if (d->count >= d->nbuckets && grow(d) != MP_OK && d->nbuckets == 0) return MP_ENOMEM;
  uint64_t h = hash_key(key, keylen);
  entry **at = slot_of(d, key, keylen, h);
  if (*at) {
    value_unref((*at)->val);
    (*at)->val = v;
    return MP_OK;
  }
  entry *e = malloc(sizeof *e + (keylen ? keylen : 1));
  if (!e) return MP_ENOMEM;
  e->next = NULL;
  e->hash = h;
  e->keylen = keylen;
  e->key = (char *)(e + 1);
  if (keylen) memcpy(e->key, key, keylen);
  e->val = v;
  *at = e;
  d->count++;
  return MP_OK;
}

static entry *dict_find(dict *d, const char *key, size_t keylen) {
  return d->nbuckets ? *slot_of(d, key, keylen, hash_key(key, keylen)) : NULL;
}

static int no_key(const char *key, size_t keylen) {
  return mp__set_error(MP_ENOTFOUND, "no key \"%.*s\"", keylen > 80 ? 80 : (int)keylen, key);
}

int mp__mgr_dict_set(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, const void *val, size_t len) {
  /* The copy is made before the lock: 10 MiB of memcpy holds up nobody. */
  mp__mgr_value *v = value_new(val, len);
  if (!v) return mp__set_error(MP_ENOMEM, "manager: out of memory for a %llu-byte value", (unsigned long long)len);
  int rc;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, 0);
  rc = o ? dict_put(&o->d, key, keylen, v) : bad_id(id);
  if (rc != MP_OK) value_unref(v);
  mp__mutex_unlock(s->lock);
  return rc == MP_ENOMEM ? mp__set_error(rc, "manager: out of memory") : rc;
}

int mp__mgr_dict_get(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, mp__mgr_value **val) {
  int rc = MP_OK;
  *val = NULL;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, 0);
  entry *e = o ? dict_find(&o->d, key, keylen) : NULL;
  if (!o) {
    rc = bad_id(id);
  } else if (!e) {
    rc = no_key(key, keylen);
  } else {
    e->val->refs++;
    *val = e->val;
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_dict_del(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen) {
  int rc = MP_OK;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, 0);
  entry **at = o && o->d.nbuckets ? slot_of(&o->d, key, keylen, hash_key(key, keylen)) : NULL;
  if (!o) {
    rc = bad_id(id);
  } else if (!at || !*at) {
    rc = no_key(key, keylen);
  } else {
    entry *e = *at;
    *at = e->next;
    value_unref(e->val);
    free(e);
    o->d.count--;
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

/* The sum, unless it leaves int64_t's range. */
static int add_checked(int64_t a, int64_t b, int64_t *sum) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return 0;
  *sum = a + b;
  return 1;
}

int mp__mgr_dict_add(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, int64_t delta, int64_t *now) {
  int rc = MP_OK;
  int64_t cur = 0, sum = 0;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, 0);
  entry *e = o ? dict_find(&o->d, key, keylen) : NULL;
  if (!o) {
    rc = bad_id(id);
    goto done;
  }
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
    /* A reader may still be sending the old value: put a new one in. */
    mp__mgr_value *v = value_new(&sum, sizeof sum);
    if (!v || dict_put(&o->d, key, keylen, v) != MP_OK) {
      value_unref(v);
      rc = mp__set_error(MP_ENOMEM, "manager: out of memory");
      goto done;
    }
  }
  *now = sum;
done:
  mp__mutex_unlock(s->lock);
  return rc;
}

/* ------------------------------------------------------------ lists */
int mp__mgr_list_append(mp__mgr_store *s, uint64_t id, const void *val, size_t len) {
  mp__mgr_value *v = value_new(val, len);
  if (!v) return mp__set_error(MP_ENOMEM, "manager: out of memory for a %llu-byte value", (unsigned long long)len);
  int rc = MP_OK;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, 1);
  if (!o) {
    rc = bad_id(id);
  } else if (o->l.len == o->l.cap) {
    size_t cap = o->l.cap ? o->l.cap * 2 : 16;
    mp__mgr_value **items = realloc(o->l.items, cap * sizeof *items);
    if (items) {
      o->l.items = items;
      o->l.cap = cap;
    } else {
      rc = mp__set_error(MP_ENOMEM, "manager: out of memory");
    }
  }
  if (rc == MP_OK) {
    o->l.items[o->l.len++] = v;
  } else {
    value_unref(v);
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_list_get(mp__mgr_store *s, uint64_t id, uint64_t index, mp__mgr_value **val) {
  int rc = MP_OK;
  *val = NULL;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, 1);
  if (!o) {
    rc = bad_id(id);
  } else if (index >= o->l.len) {
    rc = mp__set_error(MP_ENOTFOUND, "no item %llu: the list has %llu", (unsigned long long)index,
                       (unsigned long long)o->l.len);
  } else {
    *val = o->l.items[index];
    (*val)->refs++;
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_len(mp__mgr_store *s, uint64_t id, int is_list, uint64_t *n) {
  int rc = MP_OK;
  mp__mutex_lock(s->lock);
  object *o = find(s, id, is_list);
  if (!o)
    rc = bad_id(id);
  else
    *n = is_list ? o->l.len : o->d.count;
  mp__mutex_unlock(s->lock);
  return rc;
}

/* ------------------------------------------------------------ requests */
int mp__mgr_execute(mp__mgr_store *s, const mp__mgr_request *rq, mp__mgr_answer *a) {
  int64_t now = 0;
  int rc;
  memset(a, 0, sizeof *a);
  switch (rq->op) {
  case MP__MGR_OPEN_DICT:
  case MP__MGR_OPEN_LIST:
    rc = mp__mgr_store_open(s, rq->op == MP__MGR_OPEN_LIST, rq->key, rq->keylen, &a->u64);
    a->has_u64 = 1;
    break;
  case MP__MGR_DICT_SET: rc = mp__mgr_dict_set(s, rq->obj, rq->key, rq->keylen, rq->value, rq->vlen); break;
  case MP__MGR_DICT_GET: rc = mp__mgr_dict_get(s, rq->obj, rq->key, rq->keylen, &a->value); break;
  case MP__MGR_DICT_DEL: rc = mp__mgr_dict_del(s, rq->obj, rq->key, rq->keylen); break;
  case MP__MGR_DICT_ADD:
    rc = mp__mgr_dict_add(s, rq->obj, rq->key, rq->keylen, mp__mgr_to_i64(rq->num), &now);
    a->u64 = mp__mgr_from_i64(now);
    a->has_u64 = 1;
    break;
  case MP__MGR_DICT_LEN:
  case MP__MGR_LIST_LEN:
    rc = mp__mgr_len(s, rq->obj, rq->op == MP__MGR_LIST_LEN, &a->u64);
    a->has_u64 = 1;
    break;
  case MP__MGR_LIST_APPEND: rc = mp__mgr_list_append(s, rq->obj, rq->value, rq->vlen); break;
  case MP__MGR_LIST_GET: rc = mp__mgr_list_get(s, rq->obj, rq->num, &a->value); break;
  case MP__MGR_SHUTDOWN:
    rc = MP_OK;
    a->stop = 1;
    break;
  case MP__MGR_LANE: rc = mp__set_error(MP_EPROTO, "malformed manager request: a lane request here"); break;
  default: rc = mp__set_error(MP_EPROTO, "malformed manager request: a second HELLO"); break;
  }
  if (rc != MP_OK) {
    a->value = NULL; /* a failed get hands out nothing */
    a->has_u64 = 0;
  }
  return rc;
}
