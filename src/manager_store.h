/* What a manager's server holds: named dicts and lists of byte values.
 *
 * One lock guards all of it: every operation is short (a hash lookup, a
 * pointer swap, a walk that copies keys), and one lock is what makes each
 * request atomic across every client: mp_dict_add_i64, setdefault, pop,
 * update, a list's insert and pop, a snapshot of keys or items. Values are
 * immutable and counted: a reader takes a reference under the lock and
 * sends the bytes after releasing it, so a slow client reading 10 MiB
 * never holds up the others; update and extend share values by reference.
 * The code is in three files: manager_store.c (objects, values, the
 * dispatch of a request), manager_store_dict.c, manager_store_list.c. */
#ifndef MPROC_MANAGER_STORE_H
#define MPROC_MANAGER_STORE_H

#include "core.h"
#include "manager_wire.h"

typedef struct mp__mgr_value {
  size_t refs;      /* guarded by the store's lock */
  size_t len;
  uint8_t *data;    /* len bytes, right after this struct */
} mp__mgr_value;

typedef struct mp__mgr_store mp__mgr_store;

int mp__mgr_store_new(mp__mgr_store **out);
void mp__mgr_store_free(mp__mgr_store *s);

/* Each returns MP_OK or a status for the client, with mp_last_error set:
 * MP_ENOTFOUND (no such key / index), MP_EINVAL (not a counter, overflow),
 * MP_ETOOBIG (a snapshot over MP_MAX_MESSAGE), MP_ENOMEM, MP_EPROTO (an
 * object id this server never gave out, or of the other kind: only a
 * broken or hostile client sends that). Keys are keylen bytes, not
 * NUL-terminated. A value handed out (*val, *out) holds a reference: give
 * it back with mp__mgr_value_release. */
int mp__mgr_store_open(mp__mgr_store *s, int is_list, const char *name, size_t namelen, uint64_t *id);
int mp__mgr_dict_set(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, const void *val, size_t len);
int mp__mgr_dict_get(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, mp__mgr_value **val);
int mp__mgr_dict_del(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen);
int mp__mgr_dict_add(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, int64_t delta, int64_t *now);
/* *found: 1 or 0. */
int mp__mgr_dict_contains(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, uint64_t *found);
/* The dict's keys (with_values 0) or items, in insertion order, encoded
 * as manager_wire.h's KEYS / ITEMS reply, taken in one step. */
int mp__mgr_dict_snapshot(mp__mgr_store *s, uint64_t id, int with_values, mp__mgr_value **out);
int mp__mgr_dict_pop(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, mp__mgr_value **val);
/* Puts val under key unless the key is there; *out (if out is not NULL)
 * gets what is there afterwards. */
int mp__mgr_dict_setdefault(mp__mgr_store *s, uint64_t id, const char *key, size_t keylen, const void *val,
                            size_t len, mp__mgr_value **out);
int mp__mgr_dict_clear(mp__mgr_store *s, uint64_t id);
/* dst[k] = src[k] for every key of src; all or nothing (MP_ENOMEM
 * changes nothing). */
int mp__mgr_dict_update(mp__mgr_store *s, uint64_t dst, uint64_t src);
int mp__mgr_list_append(mp__mgr_store *s, uint64_t id, const void *val, size_t len);
int mp__mgr_list_get(mp__mgr_store *s, uint64_t id, uint64_t index, mp__mgr_value **val);
int mp__mgr_list_set(mp__mgr_store *s, uint64_t id, uint64_t index, const void *val, size_t len);
/* Python's insert: an index past the end appends. */
int mp__mgr_list_insert(mp__mgr_store *s, uint64_t id, uint64_t index, const void *val, size_t len);
/* index MP__MGR_LIST_LAST: the last item. */
int mp__mgr_list_pop(mp__mgr_store *s, uint64_t id, uint64_t index, mp__mgr_value **val);
int mp__mgr_list_delete(mp__mgr_store *s, uint64_t id, uint64_t index);
/* Appends src's items as they are at that moment (src may be dst). */
int mp__mgr_list_extend(mp__mgr_store *s, uint64_t dst, uint64_t src);
/* Dict or list, by id. */
int mp__mgr_len(mp__mgr_store *s, uint64_t id, int is_list, uint64_t *n);
void mp__mgr_value_release(mp__mgr_store *s, mp__mgr_value *v);

/* What a request's reply carries: a value (a reference, given back with
 * mp__mgr_value_release), a u64, or nothing; stop says it was SHUTDOWN. */
typedef struct mp__mgr_answer {
  mp__mgr_value *value;
  uint64_t u64;
  int has_u64;
  int stop;
} mp__mgr_answer;
/* Carries out one decoded request from a client that has said HELLO: the
 * status for the client (MP_EPROTO for a second HELLO, and see above),
 * with *a filled on MP_OK. */
int mp__mgr_execute(mp__mgr_store *s, const mp__mgr_request *rq, mp__mgr_answer *a);

#endif
