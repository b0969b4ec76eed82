/* The server's lists: growable arrays of value references. Every function
 * takes the store's lock for the whole of its change, so an insert or a
 * pop is one atomic step; a value's bytes are copied before the lock. */
#include <stdlib.h>
#include <string.h>

#include "manager_store_impl.h"

typedef mp__mgr_list list;

void mp__mgr_list_free_all(list *l) {
  for (size_t i = 0; i < l->len; i++) mp__mgr_value_unref(l->items[i]);
  free(l->items);
  memset(l, 0, sizeof *l);
}

/* Room for extra more items. */
static int reserve(list *l, size_t extra) {
  size_t most = SIZE_MAX / sizeof *l->items;
  if (extra > most - l->len) return mp__mgr_nomem();
  size_t need = l->len + extra;
  if (need <= l->cap) return MP_OK;
  size_t cap = l->cap ? l->cap : 16;
  while (cap < need) cap = cap > most / 2 ? most : cap * 2;
  mp__mgr_value **items = realloc(l->items, cap * sizeof *items);
  if (!items) return mp__mgr_nomem();
  l->items = items;
  l->cap = cap;
  return MP_OK;
}

static int no_item(uint64_t index, size_t len) {
  return mp__set_error(MP_ENOTFOUND, "no item %llu: the list has %llu", (unsigned long long)index,
                       (unsigned long long)len);
}

/* The list id names, with the lock held; NULL (and the error set) if none. */
static list *locked_list(mp__mgr_store *s, uint64_t id, int *rc) {
  mp__mgr_object *o = mp__mgr_find(s, id, 1);
  *rc = o ? MP_OK : mp__mgr_bad_id(id);
  return o ? &o->l : NULL;
}

static mp__mgr_value *copy_value(const void *val, size_t len) {
  mp__mgr_value *v = mp__mgr_value_new(val, len);
  if (!v) mp__set_error(MP_ENOMEM, "manager: out of memory for a %llu-byte value", (unsigned long long)len);
  return v;
}

/* Puts v (the caller's reference) before item index, or at the end if
 * index is past it. */
static int put_at(mp__mgr_store *s, uint64_t id, uint64_t index, mp__mgr_value *v) {
  int rc;
  mp__mutex_lock(s->lock);
  list *l = locked_list(s, id, &rc);
  if (l && (rc = reserve(l, 1)) == MP_OK) {
    size_t at = index < l->len ? (size_t)index : l->len;
    memmove(l->items + at + 1, l->items + at, (l->len - at) * sizeof *l->items);
    l->items[at] = v;
    l->len++;
    v = NULL;
  }
  mp__mgr_value_unref(v);
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_list_append(mp__mgr_store *s, uint64_t id, const void *val, size_t len) {
  mp__mgr_value *v = copy_value(val, len);
  return v ? put_at(s, id, UINT64_MAX, v) : MP_ENOMEM;
}

int mp__mgr_list_insert(mp__mgr_store *s, uint64_t id, uint64_t index, const void *val, size_t len) {
  mp__mgr_value *v = copy_value(val, len);
  return v ? put_at(s, id, index, v) : MP_ENOMEM;
}

int mp__mgr_list_get(mp__mgr_store *s, uint64_t id, uint64_t index, mp__mgr_value **val) {
  int rc;
  *val = NULL;
  mp__mutex_lock(s->lock);
  list *l = locked_list(s, id, &rc);
  if (l && index >= l->len) {
    rc = no_item(index, l->len);
  } else if (l) {
    *val = l->items[index];
    (*val)->refs++;
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_list_set(mp__mgr_store *s, uint64_t id, uint64_t index, const void *val, size_t len) {
  mp__mgr_value *v = copy_value(val, len);
  if (!v) return MP_ENOMEM;
  int rc;
  mp__mutex_lock(s->lock);
  list *l = locked_list(s, id, &rc);
  if (l && index >= l->len) {
    rc = no_item(index, l->len);
  } else if (l) {
    mp__mgr_value *old = l->items[index];
    l->items[index] = v;
    v = old;
  }
  mp__mgr_value_unref(v); /* the old item, or the new one if it went nowhere */
  mp__mutex_unlock(s->lock);
  return rc;
}

/* Takes item index out (the last one for MP__MGR_LIST_LAST if last_too):
 * its reference goes to *val, or is dropped. */
static int take(mp__mgr_store *s, uint64_t id, uint64_t index, int last_too, mp__mgr_value **val) {
  int rc;
  int last = last_too && index == MP__MGR_LIST_LAST;
  mp__mutex_lock(s->lock);
  list *l = locked_list(s, id, &rc);
  if (l && last && l->len == 0) {
    rc = mp__set_error(MP_ENOTFOUND, "pop from an empty list");
  } else if (l && !last && index >= l->len) {
    rc = no_item(index, l->len);
  } else if (l) {
    size_t at = last ? l->len - 1 : (size_t)index;
    mp__mgr_value *v = l->items[at];
    memmove(l->items + at, l->items + at + 1, (l->len - at - 1) * sizeof *l->items);
    l->len--;
    if (val)
      *val = v;
    else
      mp__mgr_value_unref(v);
  }
  mp__mutex_unlock(s->lock);
  return rc;
}

int mp__mgr_list_pop(mp__mgr_store *s, uint64_t id, uint64_t index, mp__mgr_value **val) {
  *val = NULL;
  return take(s, id, index, 1, val);
}

int mp__mgr_list_delete(mp__mgr_store *s, uint64_t id, uint64_t index) {
  /* Only pop takes "the last": an index that large is out of range here. */
  return take(s, id, index, 0, NULL);
}

int mp__mgr_list_extend(mp__mgr_store *s, uint64_t dst, uint64_t src) {
  int rc;
  mp__mutex_lock(s->lock);
  list *to = locked_list(s, dst, &rc);
  list *from = to ? locked_list(s, src, &rc) : NULL;
  size_t n = from ? from->len : 0; /* as it is now: src may be dst */
  if (from && (rc = reserve(to, n)) == MP_OK) {
    for (size_t i = 0; i < n; i++) {
      mp__mgr_value *v = from->items[i];
      v->refs++;
      to->items[to->len++] = v;
    }
  }
  mp__mutex_unlock(s->lock);
  return rc;
}
