/* Helpers of the manager method suites (test_manager_methods.c,
 * test_manager_races.c): a manager started, a child given it, and ints
 * in and out of dicts and lists, each call checked. */
#ifndef MPROC_TEST_MANAGER_UTIL_H
#define MPROC_TEST_MANAGER_UTIL_H

#include <string.h>

#include "testutil.h"

#define WORKERS 4
#define BIG ((size_t)300 * 1024) /* over a lane's 64 KiB */

static inline mp_manager *start(void) {
  mp_manager *m = NULL;
  TU_CHECK(mp_manager_start(&m), MP_OK);
  assert_non_null(m);
  return m;
}

static inline mp_process *start_with(const char *task, mp_manager *m, const void *arg, size_t len) {
  mp_object *objs[1] = {mp_manager_obj(m)};
  return tu_start(task, objs, 1, arg, len);
}

static inline void set_int(mp_dict *d, const char *key, int v) { TU_CHECK(mp_dict_set(d, key, &v, sizeof v), MP_OK); }

static inline int read_int(const void *v, size_t n) {
  int x = -1;
  assert_int_equal(n, sizeof x);
  memcpy(&x, v, sizeof x);
  return x;
}

static inline int dict_int(mp_dict *d, const char *key) {
  void *v;
  size_t n;
  TU_CHECK(mp_dict_get(d, key, &v, &n), MP_OK);
  int x = read_int(v, n);
  mp_free(v);
  return x;
}

static inline int list_int(mp_list *l, size_t i) {
  void *v;
  size_t n;
  TU_CHECK(mp_list_get(l, i, &v, &n), MP_OK);
  int x = read_int(v, n);
  mp_free(v);
  return x;
}

static inline void append_int(mp_list *l, int v) { TU_CHECK(mp_list_append(l, &v, sizeof v), MP_OK); }

static inline size_t list_len(mp_list *l) {
  size_t n = 0;
  TU_CHECK(mp_list_len(l, &n), MP_OK);
  return n;
}

static inline size_t dict_len(mp_dict *d) {
  size_t n = 0;
  TU_CHECK(mp_dict_len(d, &n), MP_OK);
  return n;
}


#endif
