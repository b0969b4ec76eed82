/* The store's insides, shared by its three files only: manager_store.c
 * (values, objects, the request dispatch), manager_store_dict.c and
 * manager_store_list.c. Everything here is touched with the store's lock
 * held, unless a comment says otherwise. */
#ifndef MPROC_MANAGER_STORE_IMPL_H
#define MPROC_MANAGER_STORE_IMPL_H

#include "manager_store.h"

/* A dict entry: in its hash bucket's chain, and in the dict's insertion
 * order (Python's dicts keep it; keys and items answer in it). */
typedef struct mp__mgr_entry {
  struct mp__mgr_entry *next;             /* the bucket's chain */
  struct mp__mgr_entry *older, *newer;    /* insertion order */
  uint64_t hash;
  size_t keylen;
  char *key;              /* keylen bytes, right after this struct */
  mp__mgr_value *val;
} mp__mgr_entry;

typedef struct mp__mgr_dict {
  mp__mgr_entry **buckets;
  size_t nbuckets, count;
  mp__mgr_entry *oldest, *newest;
} mp__mgr_dict;

typedef struct mp__mgr_list {
  mp__mgr_value **items;
  size_t len, cap;
} mp__mgr_list;

typedef struct mp__mgr_object {
  int is_list;
  char *name;
  size_t namelen;
  mp__mgr_dict d;
  mp__mgr_list l;
} mp__mgr_object;

struct mp__mgr_store {
  mp__mutex *lock;
  mp__mgr_object *objs;
  size_t nobjs, cap;
};

/* A new value of len bytes, a copy of data (or uninitialised if data is
 * NULL), with one reference. No lock needed: nobody else sees it yet. */
mp__mgr_value *mp__mgr_value_new(const void *data, size_t len);
void mp__mgr_value_unref(mp__mgr_value *v);
/* Gives back n references with one taking of the lock (not held). */
void mp__mgr_values_release(mp__mgr_store *s, mp__mgr_value **v, size_t n);
/* The object id names, if it is of that kind; else NULL. */
mp__mgr_object *mp__mgr_find(mp__mgr_store *s, uint64_t id, int is_list);
/* MP_EPROTO for an id this server never gave out (or of the other kind). */
int mp__mgr_bad_id(uint64_t id);
int mp__mgr_nomem(void);

/* Frees a dict's or a list's contents (the lock is held or not needed). */
void mp__mgr_dict_free_all(mp__mgr_dict *d);
void mp__mgr_list_free_all(mp__mgr_list *l);

#endif
