/* The server's data: objects are found by the id OPEN handed out (their
 * index + 1); values are counted; a request is dispatched here to the
 * dict (manager_store_dict.c) or list (manager_store_list.c) code. */
#include <stdlib.h>
#include <string.h>

#include "manager_store_impl.h"

/* ------------------------------------------------------------ values */
mp__mgr_value *mp__mgr_value_new(const void *data, size_t len) {
  if (len > SIZE_MAX - sizeof(mp__mgr_value) - 1) return NULL;
  mp__mgr_value *v = malloc(sizeof *v + (len ? len : 1));
  if (!v) return NULL;
  v->refs = 1;
  v->len = len;
  v->data = (uint8_t *)(v + 1);
  if (len && data) memcpy(v->data, data, len);
  return v;
}

void mp__mgr_value_unref(mp__mgr_value *v) {
  if (v && --v->refs == 0) free(v);
}

void mp__mgr_value_release(mp__mgr_store *s, mp__mgr_value *v) {
  if (!v) return;
  mp__mutex_lock(s->lock);
  mp__mgr_value_unref(v);
  mp__mutex_unlock(s->lock);
}

void mp__mgr_values_release(mp__mgr_store *s, mp__mgr_value **v, size_t n) {
  if (n == 0) return;
  mp__mutex_lock(s->lock);
  for (size_t i = 0; i < n; i++) mp__mgr_value_unref(v[i]);
  mp__mutex_unlock(s->lock);
}

int mp__mgr_nomem(void) { return mp__set_error(MP_ENOMEM, "manager: out of memory"); }

/* ------------------------------------------------------------ store */
int mp__mgr_store_new(mp__mgr_store **out) {
  mp__mgr_store *s = calloc(1, sizeof *s);
  if (!s) return mp__mgr_nomem();
  int rc = mp__mutex_new(&s->lock);
  if (rc != MP_OK) {
    free(s);
    return rc;
  }
  *out = s;
  return MP_OK;
}

void mp__mgr_store_free(mp__mgr_store *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nobjs; i++) {
    mp__mgr_dict_free_all(&s->objs[i].d);
    mp__mgr_list_free_all(&s->objs[i].l);
    free(s->objs[i].name);
  }
  free(s->objs);
  mp__mutex_free(s->lock);
  free(s);
}

int mp__mgr_store_open(mp__mgr_store *s, int is_list, const char *name, size_t namelen, uint64_t *id) {
  int rc = MP_OK;
  mp__mutex_lock(s->lock);
  for (size_t i = 0; i < s->nobjs; i++) {
    mp__mgr_object *o = &s->objs[i];
    if (o->is_list == is_list && o->namelen == namelen && memcmp(o->name, name, namelen) == 0) {
      *id = (uint64_t)i + 1;
      goto done;
    }
  }
  if (s->nobjs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    mp__mgr_object *objs = realloc(s->objs, cap * sizeof *objs);
    if (!objs) goto nomem;
    s->objs = objs;
    s->cap = cap;
  }
  mp__mgr_object *o = &s->objs[s->nobjs];
  memset(o, 0, sizeof *o);
  if (!(o->name = malloc(namelen + 1))) goto nomem;
  if (namelen) memcpy(o->name, name, namelen);
  o->name[namelen] = '\0';
  o->namelen = namelen;
  o->is_list = is_list;
  *id = (uint64_t)++s->nobjs;
  goto done;
nomem:
  rc = mp__mgr_nomem();
done:
  mp__mutex_unlock(s->lock);
  return rc;
}

mp__mgr_object *mp__mgr_find(mp__mgr_store *s, uint64_t id, int is_list) {
  if (id == 0 || id > s->nobjs) return NULL;
  mp__mgr_object *o = &s->objs[id - 1];
  return o->is_list == is_list ? o : NULL;
}

int mp__mgr_bad_id(uint64_t id) {
  return mp__set_error(MP_EPROTO, "malformed manager request: no object %llu of that kind", (unsigned long long)id);
}

int mp__mgr_len(mp__mgr_store *s, uint64_t id, int is_list, uint64_t *n) {
  int rc = MP_OK;
  mp__mutex_lock(s->lock);
  mp__mgr_object *o = mp__mgr_find(s, id, is_list);
  if (!o)
    rc = mp__mgr_bad_id(id);
  else
    *n = is_list ? o->l.len : o->d.count;
  mp__mutex_unlock(s->lock);
  return rc;
}

/* ------------------------------------------------------------ requests */
/* What execute_dict and execute_list answer for an op of the other kind:
 * no status (those are MP_OK or negative). */
#define NOT_MINE 1

static int execute_dict(mp__mgr_store *s, const mp__mgr_request *rq, mp__mgr_answer *a) {
  int64_t now = 0;
  int rc;
  switch (rq->op) {
  case MP__MGR_DICT_SET: return mp__mgr_dict_set(s, rq->obj, rq->key, rq->keylen, rq->value, rq->vlen);
  case MP__MGR_DICT_GET: return mp__mgr_dict_get(s, rq->obj, rq->key, rq->keylen, &a->value);
  case MP__MGR_DICT_DEL: return mp__mgr_dict_del(s, rq->obj, rq->key, rq->keylen);
  case MP__MGR_DICT_ADD:
    rc = mp__mgr_dict_add(s, rq->obj, rq->key, rq->keylen, mp__mgr_to_i64(rq->num), &now);
    a->u64 = mp__mgr_from_i64(now);
    a->has_u64 = 1;
    return rc;
  case MP__MGR_DICT_CONTAINS:
    a->has_u64 = 1;
    return mp__mgr_dict_contains(s, rq->obj, rq->key, rq->keylen, &a->u64);
  case MP__MGR_DICT_KEYS:
  case MP__MGR_DICT_ITEMS: return mp__mgr_dict_snapshot(s, rq->obj, rq->op == MP__MGR_DICT_ITEMS, &a->value);
  case MP__MGR_DICT_POP: return mp__mgr_dict_pop(s, rq->obj, rq->key, rq->keylen, &a->value);
  case MP__MGR_DICT_SETDEFAULT:
    return mp__mgr_dict_setdefault(s, rq->obj, rq->key, rq->keylen, rq->value, rq->vlen, rq->num ? &a->value : NULL);
  case MP__MGR_DICT_CLEAR: return mp__mgr_dict_clear(s, rq->obj);
  case MP__MGR_DICT_UPDATE: return mp__mgr_dict_update(s, rq->obj, rq->num);
  default: return NOT_MINE;
  }
}

static int execute_list(mp__mgr_store *s, const mp__mgr_request *rq, mp__mgr_answer *a) {
  switch (rq->op) {
  case MP__MGR_LIST_APPEND: return mp__mgr_list_append(s, rq->obj, rq->value, rq->vlen);
  case MP__MGR_LIST_GET: return mp__mgr_list_get(s, rq->obj, rq->num, &a->value);
  case MP__MGR_LIST_SET: return mp__mgr_list_set(s, rq->obj, rq->num, rq->value, rq->vlen);
  case MP__MGR_LIST_INSERT: return mp__mgr_list_insert(s, rq->obj, rq->num, rq->value, rq->vlen);
  case MP__MGR_LIST_POP: return mp__mgr_list_pop(s, rq->obj, rq->num, &a->value);
  case MP__MGR_LIST_DELETE: return mp__mgr_list_delete(s, rq->obj, rq->num);
  case MP__MGR_LIST_EXTEND: return mp__mgr_list_extend(s, rq->obj, rq->num);
  default: return NOT_MINE;
  }
}

int mp__mgr_execute(mp__mgr_store *s, const mp__mgr_request *rq, mp__mgr_answer *a) {
  int rc;
  memset(a, 0, sizeof *a);
  switch (rq->op) {
  case MP__MGR_OPEN_DICT:
  case MP__MGR_OPEN_LIST:
    rc = mp__mgr_store_open(s, rq->op == MP__MGR_OPEN_LIST, rq->key, rq->keylen, &a->u64);
    a->has_u64 = 1;
    break;
  case MP__MGR_DICT_LEN:
  case MP__MGR_LIST_LEN:
    rc = mp__mgr_len(s, rq->obj, rq->op == MP__MGR_LIST_LEN, &a->u64);
    a->has_u64 = 1;
    break;
  case MP__MGR_SHUTDOWN:
    rc = MP_OK;
    a->stop = 1;
    break;
  case MP__MGR_LANE: rc = mp__set_error(MP_EPROTO, "malformed manager request: a lane request here"); break;
  case MP__MGR_HELLO: rc = mp__set_error(MP_EPROTO, "malformed manager request: a second HELLO"); break;
  default:
    if ((rc = execute_dict(s, rq, a)) == NOT_MINE && (rc = execute_list(s, rq, a)) == NOT_MINE)
      rc = mp__set_error(MP_EPROTO, "malformed manager request: operation %d", rq->op);
    break;
  }
  if (rc != MP_OK) {
    mp__mgr_value_release(s, a->value); /* a failed call hands out nothing */
    a->value = NULL;
    a->has_u64 = 0;
  }
  return rc;
}
