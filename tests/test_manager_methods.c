/* Manager dict and list methods beyond set/get: contains, keys, items, pop,
 * setdefault, clear, update; list set, insert, pop, delete, extend: what
 * each does, its errors, values and replies over 64 KiB (the socket, not
 * the lane), and a connection without a lane. Races between processes and
 * a killed server are test_manager_races.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_lane.h"
#include "manager_methods_util.h"
#include "manager_wire.h"
#include "platform.h"

/* ------------------------------------------------------------ dicts */
static void contains_pop_setdefault_clear(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  void *v;
  size_t n;
  int found = 7;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_dict_contains(d, "a", &found), MP_OK);
  assert_int_equal(found, 0);
  set_int(d, "a", 1);
  TU_CHECK(mp_dict_contains(d, "a", &found), MP_OK);
  assert_int_equal(found, 1);
  TU_CHECK(mp_dict_contains(d, "", &found), MP_OK); /* the empty key is a key */
  assert_int_equal(found, 0);
  /* pop hands the value out and removes it; a second pop finds nothing. */
  TU_CHECK(mp_dict_pop(d, "a", &v, &n), MP_OK);
  assert_int_equal(read_int(v, n), 1);
  mp_free(v);
  TU_CHECK(mp_dict_contains(d, "a", &found), MP_OK);
  assert_int_equal(found, 0);
  v = (void *)1;
  n = 9;
  TU_CHECK(mp_dict_pop(d, "a", &v, &n), MP_ENOTFOUND);
  assert_null(v);
  assert_int_equal(n, 0);
  assert_non_null(strstr(mp_last_error(), "mp_dict_pop"));
  assert_non_null(strstr(mp_last_error(), "\"a\""));
  /* setdefault: the default goes in if the key is missing... */
  int two = 2, three = 3;
  TU_CHECK(mp_dict_setdefault(d, "s", &two, sizeof two, &v, &n), MP_OK);
  assert_int_equal(read_int(v, n), 2);
  mp_free(v);
  /* ...and stays: a second default is ignored, the value read back. */
  TU_CHECK(mp_dict_setdefault(d, "s", &three, sizeof three, &v, &n), MP_OK);
  assert_int_equal(read_int(v, n), 2);
  mp_free(v);
  /* Without val, nothing comes back. */
  TU_CHECK(mp_dict_setdefault(d, "t", &three, sizeof three, NULL, NULL), MP_OK);
  TU_CHECK(mp_dict_setdefault(d, "t", &two, sizeof two, NULL, NULL), MP_OK);
  assert_int_equal(dict_int(d, "t"), 3);
  /* A default of 0 bytes. */
  TU_CHECK(mp_dict_setdefault(d, "z", NULL, 0, &v, &n), MP_OK);
  assert_non_null(v);
  assert_int_equal(n, 0);
  mp_free(v);
  /* A value popped of 0 bytes is non-NULL too. */
  TU_CHECK(mp_dict_pop(d, "z", &v, &n), MP_OK);
  assert_non_null(v);
  assert_int_equal(n, 0);
  mp_free(v);
  /* A setdefault'ed counter still counts (the value is not shared). */
  int64_t c0 = 40, now = 0;
  TU_CHECK(mp_dict_setdefault(d, "c", &c0, sizeof c0, NULL, NULL), MP_OK);
  TU_CHECK(mp_dict_add_i64(d, "c", 2, &now), MP_OK);
  assert_int_equal(now, 42);
  assert_int_equal(dict_len(d), 3);
  TU_CHECK(mp_dict_clear(d), MP_OK);
  assert_int_equal(dict_len(d), 0);
  TU_CHECK(mp_dict_clear(d), MP_OK); /* an empty dict: fine */
  TU_CHECK(mp_dict_get(d, "s", &v, &n), MP_ENOTFOUND);
  set_int(d, "after", 5); /* still usable after a clear */
  assert_int_equal(dict_int(d, "after"), 5);
  assert_true(mp__manager_lane(m) >= 0); /* all of it went over the lane */
  mp_dict_free(d);
  mp_manager_free(m);
}

static void keys_and_items_keep_insertion_order(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  char **keys;
  mp_dict_item *items;
  size_t n = 99;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_dict_keys(d, &keys, &n), MP_OK); /* empty: a block all the same */
  assert_non_null(keys);
  assert_int_equal(n, 0);
  mp_free(keys);
  TU_CHECK(mp_dict_items(d, &items, &n), MP_OK);
  assert_non_null(items);
  assert_int_equal(n, 0);
  mp_free(items);
  set_int(d, "c", 3);
  set_int(d, "a", 1);
  set_int(d, "b", 2);
  set_int(d, "", 0);
  set_int(d, "c", 30);                       /* set again: keeps its place */
  TU_CHECK(mp_dict_del(d, "a"), MP_OK);
  set_int(d, "a", 10);                       /* deleted and set: at the end */
  TU_CHECK(mp_dict_keys(d, &keys, &n), MP_OK);
  assert_int_equal(n, 4);
  assert_string_equal(keys[0], "c");
  assert_string_equal(keys[1], "b");
  assert_string_equal(keys[2], "");
  assert_string_equal(keys[3], "a");
  mp_free(keys);
  int64_t i64 = 77;
  TU_CHECK(mp_dict_set(d, "i64", &i64, sizeof i64), MP_OK);
  TU_CHECK(mp_dict_set(d, "empty", NULL, 0), MP_OK);
  TU_CHECK(mp_dict_items(d, &items, &n), MP_OK);
  assert_int_equal(n, 6);
  const char *want[] = {"c", "b", "", "a"};
  int vals[] = {30, 2, 0, 10};
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(items[i].key, want[i]);
    assert_int_equal(read_int(items[i].val, items[i].len), vals[i]);
  }
  assert_string_equal(items[4].key, "i64");
  assert_int_equal(items[4].len, 8);
  assert_int_equal((uintptr_t)items[4].val % 8, 0); /* aligned: read in place */
  assert_int_equal(*(const int64_t *)items[4].val, 77);
  assert_string_equal(items[5].key, "empty");
  assert_non_null(items[5].val);
  assert_int_equal(items[5].len, 0);
  mp_free(items);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void thousands_of_keys_and_big_values(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  size_t count = tu_scale(3000, 600), n;
  TU_CHECK(mp_manager_dict(m, "many", &d), MP_OK);
  /* Keys of up to MP_MANAGER_KEY_MAX bytes: the reply is megabytes. */
  char *key = malloc(MP_MANAGER_KEY_MAX + 1);
  assert_non_null(key);
  for (size_t i = 0; i < count; i++) {
    size_t klen = i % 7 == 0 ? MP_MANAGER_KEY_MAX : 12 + i % 50;
    memset(key, 'a' + (int)(i % 26), klen);
    int w = snprintf(key, klen + 1, "%zu:", i);
    if ((size_t)w < klen) key[w] = 'x'; /* snprintf's NUL overwritten */
    key[klen] = '\0';
    int v = (int)i;
    TU_CHECK(mp_dict_set(d, key, &v, sizeof v), MP_OK);
  }
  char **keys;
  TU_CHECK(mp_dict_keys(d, &keys, &n), MP_OK);
  assert_int_equal(n, count);
  for (size_t i = 0; i < count; i++) {
    size_t klen = i % 7 == 0 ? MP_MANAGER_KEY_MAX : 12 + i % 50;
    assert_int_equal(strlen(keys[i]), klen);
    assert_int_equal((size_t)strtoul(keys[i], NULL, 10), i);
  }
  mp_dict_item *items;
  TU_CHECK(mp_dict_items(d, &items, &n), MP_OK);
  assert_int_equal(n, count);
  for (size_t i = 0; i < count; i++) {
    assert_string_equal(items[i].key, keys[i]);
    assert_int_equal(read_int(items[i].val, items[i].len), (int)i);
  }
  mp_free(items);
  mp_free(keys);
  /* Values over 64 KiB through setdefault, pop and items. */
  void *big = tu_pattern(BIG, 5), *v;
  TU_CHECK(mp_dict_clear(d), MP_OK);
  TU_CHECK(mp_dict_setdefault(d, "big", big, BIG, &v, &n), MP_OK);
  assert_int_equal(n, BIG);
  assert_memory_equal(v, big, BIG);
  mp_free(v);
  TU_CHECK(mp_dict_setdefault(d, "big2", big, BIG, NULL, NULL), MP_OK);
  TU_CHECK(mp_dict_items(d, &items, &n), MP_OK);
  assert_int_equal(n, 2);
  assert_int_equal(items[1].len, BIG);
  assert_memory_equal(items[0].val, big, BIG);
  assert_memory_equal(items[1].val, big, BIG);
  mp_free(items);
  TU_CHECK(mp_dict_pop(d, "big", &v, &n), MP_OK);
  assert_int_equal(n, BIG);
  assert_memory_equal(v, big, BIG);
  mp_free(v);
  free(big);
  free(key);
  assert_true(mp__manager_lane(m) >= 0); /* the lane is still in use */
  mp_dict_free(d);
  mp_manager_free(m);
}

static void update_copies_in_order(void **state) {
  (void)state;
  mp_manager *m = start(), *other = start();
  mp_dict *dst, *src, *foreign;
  char **keys;
  size_t n;
  TU_CHECK(mp_manager_dict(m, "dst", &dst), MP_OK);
  TU_CHECK(mp_manager_dict(m, "src", &src), MP_OK);
  TU_CHECK(mp_manager_dict(other, "src", &foreign), MP_OK);
  set_int(dst, "x", 1);
  set_int(dst, "y", 2);
  set_int(src, "z", 26);
  set_int(src, "x", 100);
  set_int(src, "w", 23);
  TU_CHECK(mp_dict_update(dst, src), MP_OK);
  TU_CHECK(mp_dict_keys(dst, &keys, &n), MP_OK);
  assert_int_equal(n, 4);
  assert_string_equal(keys[0], "x"); /* old keys in place, new ones after */
  assert_string_equal(keys[1], "y");
  assert_string_equal(keys[2], "z");
  assert_string_equal(keys[3], "w");
  mp_free(keys);
  assert_int_equal(dict_int(dst, "x"), 100);
  assert_int_equal(dict_int(dst, "z"), 26);
  assert_int_equal(dict_len(src), 3); /* src is untouched */
  /* The values are shared in the server: changing one side leaves the
   * other alone (a counter too). */
  set_int(src, "z", -1);
  assert_int_equal(dict_int(dst, "z"), 26);
  int64_t c = 1, now = 0;
  TU_CHECK(mp_dict_set(src, "c", &c, sizeof c), MP_OK);
  TU_CHECK(mp_dict_update(dst, src), MP_OK);
  TU_CHECK(mp_dict_add_i64(dst, "c", 5, &now), MP_OK);
  assert_int_equal(now, 6);
  TU_CHECK(mp_dict_add_i64(src, "c", 0, &now), MP_OK);
  assert_int_equal(now, 1);
  TU_CHECK(mp_dict_update(dst, dst), MP_OK); /* itself: nothing changes */
  assert_int_equal(dict_len(dst), 5);
  /* An empty source changes nothing; into an empty dict copies all. */
  mp_dict *empty;
  TU_CHECK(mp_manager_dict(m, "empty", &empty), MP_OK);
  TU_CHECK(mp_dict_update(dst, empty), MP_OK);
  assert_int_equal(dict_len(dst), 5);
  TU_CHECK(mp_dict_update(empty, dst), MP_OK);
  assert_int_equal(dict_len(empty), 5);
  /* A dict of another manager: refused, before anything is sent. */
  TU_CHECK(mp_dict_update(dst, foreign), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_update"));
  TU_CHECK(mp_dict_update(foreign, src), MP_EINVAL);
  mp_dict_free(empty);
  mp_dict_free(dst);
  mp_dict_free(src);
  mp_dict_free(foreign);
  mp_manager_free(other);
  mp_manager_free(m);
}

/* ------------------------------------------------------------ lists */
static void list_set_insert_pop_delete(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_list *l;
  void *v;
  size_t n;
  TU_CHECK(mp_manager_list(m, "l", &l), MP_OK);
  /* On an empty list: pop and delete find nothing, set has no item. */
  TU_CHECK(mp_list_pop(l, MP_LIST_LAST, &v, &n), MP_ENOTFOUND);
  assert_null(v);
  assert_non_null(strstr(mp_last_error(), "mp_list_pop"));
  TU_CHECK(mp_list_pop(l, 0, &v, &n), MP_ENOTFOUND);
  TU_CHECK(mp_list_delete(l, 0), MP_ENOTFOUND);
  int x = 9;
  TU_CHECK(mp_list_set(l, 0, &x, sizeof x), MP_ENOTFOUND);
  assert_int_equal(list_len(l), 0);
  for (int i = 0; i < 5; i++) append_int(l, i); /* 0 1 2 3 4 */
  x = 20;
  TU_CHECK(mp_list_set(l, 2, &x, sizeof x), MP_OK); /* 0 1 20 3 4 */
  assert_int_equal(list_int(l, 2), 20);
  TU_CHECK(mp_list_set(l, 5, &x, sizeof x), MP_ENOTFOUND);
  assert_non_null(strstr(mp_last_error(), "no item 5"));
  TU_CHECK(mp_list_set(l, SIZE_MAX, &x, sizeof x), MP_ENOTFOUND);
  x = -1;
  TU_CHECK(mp_list_insert(l, 0, &x, sizeof x), MP_OK); /* -1 0 1 20 3 4 */
  x = 15;
  TU_CHECK(mp_list_insert(l, 3, &x, sizeof x), MP_OK); /* -1 0 1 15 20 3 4 */
  x = 99;
  TU_CHECK(mp_list_insert(l, 7, &x, sizeof x), MP_OK); /* at the length: appends */
  x = 100;
  TU_CHECK(mp_list_insert(l, 1000, &x, sizeof x), MP_OK); /* past it: appends, as Python */
  x = 101;
  TU_CHECK(mp_list_insert(l, SIZE_MAX, &x, sizeof x), MP_OK);
  int want[] = {-1, 0, 1, 15, 20, 3, 4, 99, 100, 101};
  assert_int_equal(list_len(l), 10);
  for (size_t i = 0; i < 10; i++) assert_int_equal(list_int(l, i), want[i]);
  TU_CHECK(mp_list_pop(l, MP_LIST_LAST, &v, &n), MP_OK); /* the last: 101 */
  assert_int_equal(read_int(v, n), 101);
  mp_free(v);
  TU_CHECK(mp_list_pop(l, 0, &v, &n), MP_OK); /* the first: -1 */
  assert_int_equal(read_int(v, n), -1);
  mp_free(v);
  TU_CHECK(mp_list_pop(l, 2, &v, &n), MP_OK); /* 0 1 [15] 20 3 4 99 100 */
  assert_int_equal(read_int(v, n), 15);
  mp_free(v);
  TU_CHECK(mp_list_pop(l, 7, &v, &n), MP_ENOTFOUND); /* 7 items now */
  TU_CHECK(mp_list_delete(l, 1), MP_OK);             /* 0 20 3 4 99 100 */
  TU_CHECK(mp_list_delete(l, 6), MP_ENOTFOUND);
  TU_CHECK(mp_list_delete(l, SIZE_MAX), MP_ENOTFOUND); /* only pop takes MP_LIST_LAST */
  /* A "negative" index is a huge size_t: out of range, not from the end. */
  TU_CHECK(mp_list_pop(l, (size_t)-2, &v, &n), MP_ENOTFOUND);
  TU_CHECK(mp_list_delete(l, (size_t)-2), MP_ENOTFOUND);
  TU_CHECK(mp_list_set(l, (size_t)-2, &x, sizeof x), MP_ENOTFOUND);
  int rest[] = {0, 20, 3, 4, 99, 100};
  assert_int_equal(list_len(l), 6);
  for (size_t i = 0; i < 6; i++) assert_int_equal(list_int(l, i), rest[i]);
  /* Items of 0 bytes and of more than 64 KiB (the socket). */
  void *big = tu_pattern(BIG, 9);
  TU_CHECK(mp_list_set(l, 0, big, BIG), MP_OK);
  TU_CHECK(mp_list_insert(l, 1, big, BIG), MP_OK);
  TU_CHECK(mp_list_insert(l, 2, NULL, 0), MP_OK);
  TU_CHECK(mp_list_get(l, 1, &v, &n), MP_OK);
  assert_int_equal(n, BIG);
  assert_memory_equal(v, big, BIG);
  mp_free(v);
  TU_CHECK(mp_list_pop(l, 0, &v, &n), MP_OK);
  assert_int_equal(n, BIG);
  assert_memory_equal(v, big, BIG);
  mp_free(v);
  TU_CHECK(mp_list_pop(l, 1, &v, &n), MP_OK);
  assert_non_null(v);
  assert_int_equal(n, 0);
  mp_free(v);
  free(big);
  /* Until empty, then pop says so. */
  while (list_len(l) > 0) {
    TU_CHECK(mp_list_pop(l, MP_LIST_LAST, &v, &n), MP_OK);
    mp_free(v);
  }
  TU_CHECK(mp_list_pop(l, MP_LIST_LAST, &v, &n), MP_ENOTFOUND);
  assert_non_null(strstr(mp_last_error(), "empty"));
  mp_list_free(l);
  mp_manager_free(m);
}

static void list_extend(void **state) {
  (void)state;
  mp_manager *m = start(), *other = start();
  mp_list *a, *b, *foreign;
  TU_CHECK(mp_manager_list(m, "a", &a), MP_OK);
  TU_CHECK(mp_manager_list(m, "b", &b), MP_OK);
  TU_CHECK(mp_manager_list(other, "b", &foreign), MP_OK);
  append_int(a, 1);
  append_int(b, 2);
  append_int(b, 3);
  TU_CHECK(mp_list_extend(a, b), MP_OK); /* 1 2 3 */
  assert_int_equal(list_len(a), 3);
  assert_int_equal(list_len(b), 2);
  TU_CHECK(mp_list_extend(a, a), MP_OK); /* itself: doubles */
  int want[] = {1, 2, 3, 1, 2, 3};
  assert_int_equal(list_len(a), 6);
  for (size_t i = 0; i < 6; i++) assert_int_equal(list_int(a, i), want[i]);
  /* Shared values, separate items. */
  int x = 50;
  TU_CHECK(mp_list_set(b, 0, &x, sizeof x), MP_OK);
  assert_int_equal(list_int(a, 1), 2);
  mp_list *empty;
  TU_CHECK(mp_manager_list(m, "empty", &empty), MP_OK);
  TU_CHECK(mp_list_extend(a, empty), MP_OK);
  assert_int_equal(list_len(a), 6);
  TU_CHECK(mp_list_extend(a, foreign), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_list_extend"));
  mp_list_free(empty);
  mp_list_free(a);
  mp_list_free(b);
  mp_list_free(foreign);
  mp_manager_free(other);
  mp_manager_free(m);
}

/* A connection that got no lane (all 32 taken) carries every method over
 * its socket alone; a second connection of this process (a twin) names
 * the same server, so update and extend across the two are fine. */
#define TWINS ((int)MP__LANE_COUNT)
static void without_a_lane_the_socket_carries_every_method(void **state) {
  (void)state;
  mp_manager *m = start(), *twins[TWINS];
  mp_dict *held[TWINS];
  mp_dict *d = NULL, *mine;
  mp_list *l, *mylist;
  void *v;
  size_t n;
  int found;
  TU_CHECK(mp_manager_dict(m, "mine", &mine), MP_OK); /* the owner takes a lane */
  TU_CHECK(mp_manager_list(m, "mine", &mylist), MP_OK);
  for (int i = 0; i < TWINS; i++) {
    TU_CHECK(mp__manager_twin(m, &twins[i]), MP_OK);
    TU_CHECK(mp_manager_dict(twins[i], "t", &held[i]), MP_OK);
  }
  mp_manager *last = twins[TWINS - 1];
  assert_int_equal(mp__manager_lane(last), -1);
  TU_CHECK(mp_manager_dict(last, "d", &d), MP_OK);
  TU_CHECK(mp_manager_list(last, "l", &l), MP_OK);
  set_int(d, "a", 1);
  TU_CHECK(mp_dict_contains(d, "a", &found), MP_OK);
  assert_int_equal(found, 1);
  TU_CHECK(mp_dict_setdefault(d, "b", "x", 1, &v, &n), MP_OK);
  assert_int_equal(n, 1);
  mp_free(v);
  char **keys;
  TU_CHECK(mp_dict_keys(d, &keys, &n), MP_OK);
  assert_int_equal(n, 2);
  assert_string_equal(keys[1], "b");
  mp_free(keys);
  mp_dict_item *items;
  TU_CHECK(mp_dict_items(d, &items, &n), MP_OK);
  assert_int_equal(n, 2);
  mp_free(items);
  TU_CHECK(mp_dict_update(mine, d), MP_OK); /* across the two connections */
  assert_int_equal(dict_len(mine), 2);
  TU_CHECK(mp_dict_pop(d, "a", &v, &n), MP_OK);
  assert_int_equal(read_int(v, n), 1);
  mp_free(v);
  TU_CHECK(mp_dict_clear(d), MP_OK);
  assert_int_equal(dict_len(d), 0);
  append_int(l, 1);
  append_int(l, 3);
  int two = 2;
  TU_CHECK(mp_list_insert(l, 1, &two, sizeof two), MP_OK);
  TU_CHECK(mp_list_set(l, 0, &two, sizeof two), MP_OK);
  TU_CHECK(mp_list_extend(mylist, l), MP_OK);
  TU_CHECK(mp_list_extend(l, mylist), MP_OK);
  assert_int_equal(list_len(l), 6);
  TU_CHECK(mp_list_pop(l, MP_LIST_LAST, &v, &n), MP_OK);
  assert_int_equal(read_int(v, n), 3);
  mp_free(v);
  TU_CHECK(mp_list_delete(l, 0), MP_OK);
  assert_int_equal(list_len(l), 4);
  assert_int_equal(mp__manager_lane(last), -1); /* still on the socket */
  mp_dict_free(d);
  mp_list_free(l);
  for (int i = 0; i < TWINS; i++) {
    mp_dict_free(held[i]);
    mp__manager_release(twins[i]);
  }
  mp_dict_free(mine);
  mp_list_free(mylist);
  mp_manager_free(m);
}

/* ------------------------------------------------------------ errors */
static void bad_arguments(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  mp_list *l;
  void *v;
  size_t n;
  int found;
  char **keys;
  mp_dict_item *items;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_manager_list(m, "l", &l), MP_OK);
  char *longkey = malloc(MP_MANAGER_KEY_MAX + 2);
  memset(longkey, 'k', MP_MANAGER_KEY_MAX + 1);
  longkey[MP_MANAGER_KEY_MAX + 1] = '\0';
  /* contains */
  TU_CHECK(mp_dict_contains(NULL, "k", &found), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_contains"));
  TU_CHECK(mp_dict_contains(d, NULL, &found), MP_EINVAL);
  TU_CHECK(mp_dict_contains(d, "k", NULL), MP_EINVAL);
  TU_CHECK(mp_dict_contains(d, longkey, &found), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_contains"));
  /* keys, items */
  TU_CHECK(mp_dict_keys(NULL, &keys, &n), MP_EINVAL);
  assert_null(keys);
  assert_non_null(strstr(mp_last_error(), "mp_dict_keys"));
  TU_CHECK(mp_dict_keys(d, NULL, &n), MP_EINVAL);
  TU_CHECK(mp_dict_keys(d, &keys, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_items(NULL, &items, &n), MP_EINVAL);
  assert_null(items);
  assert_non_null(strstr(mp_last_error(), "mp_dict_items"));
  TU_CHECK(mp_dict_items(d, NULL, &n), MP_EINVAL);
  TU_CHECK(mp_dict_items(d, &items, NULL), MP_EINVAL);
  /* pop */
  TU_CHECK(mp_dict_pop(NULL, "k", &v, &n), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_pop"));
  TU_CHECK(mp_dict_pop(d, NULL, &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_pop(d, "k", NULL, &n), MP_EINVAL);
  TU_CHECK(mp_dict_pop(d, "k", &v, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_pop(d, longkey, &v, &n), MP_EINVAL);
  /* setdefault */
  TU_CHECK(mp_dict_setdefault(NULL, "k", "x", 1, &v, &n), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_setdefault"));
  TU_CHECK(mp_dict_setdefault(d, NULL, "x", 1, &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_setdefault(d, "k", NULL, 1, &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_setdefault(d, "k", "x", 1, &v, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_setdefault(d, "k", "x", 1, NULL, &n), MP_EINVAL);
  TU_CHECK(mp_dict_setdefault(d, longkey, "x", 1, &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_setdefault(d, "k", "x", MP_MAX_MESSAGE + 1, &v, &n), MP_ETOOBIG);
  assert_non_null(strstr(mp_last_error(), "mp_dict_setdefault"));
  /* clear, update */
  TU_CHECK(mp_dict_clear(NULL), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_clear"));
  TU_CHECK(mp_dict_update(NULL, d), MP_EINVAL);
  TU_CHECK(mp_dict_update(d, NULL), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_dict_update"));
  /* list set, insert, pop, delete, extend */
  TU_CHECK(mp_list_set(NULL, 0, "x", 1), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_list_set"));
  TU_CHECK(mp_list_set(l, 0, NULL, 1), MP_EINVAL);
  TU_CHECK(mp_list_set(l, 0, "x", MP_MAX_MESSAGE + 1), MP_ETOOBIG);
  TU_CHECK(mp_list_insert(NULL, 0, "x", 1), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_list_insert"));
  TU_CHECK(mp_list_insert(l, 0, NULL, 1), MP_EINVAL);
  TU_CHECK(mp_list_insert(l, 0, "x", MP_MAX_MESSAGE + 1), MP_ETOOBIG);
  assert_non_null(strstr(mp_last_error(), "mp_list_insert"));
  TU_CHECK(mp_list_pop(NULL, 0, &v, &n), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_list_pop"));
  TU_CHECK(mp_list_pop(l, 0, NULL, &n), MP_EINVAL);
  TU_CHECK(mp_list_pop(l, 0, &v, NULL), MP_EINVAL);
  TU_CHECK(mp_list_delete(NULL, 0), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_list_delete"));
  TU_CHECK(mp_list_extend(NULL, l), MP_EINVAL);
  TU_CHECK(mp_list_extend(l, NULL), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_list_extend"));
  /* Nothing of that reached the server: the objects are as they were. */
  assert_int_equal(dict_len(d), 0);
  assert_int_equal(list_len(l), 0);
  free(longkey);
  mp_dict_free(d);
  mp_list_free(l);
  mp_manager_free(m);
}

static void new_requests_are_decoded_strictly(void **state) {
  (void)state;
  uint8_t p[64];
  mp__mgr_request rq;
  memset(p, 0, sizeof p);
  mp__store_u64(p, 1);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_KEYS, p, 20, &rq), MP_OK);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_ITEMS, p, 21, &rq), MP_EPROTO); /* a value */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_CLEAR, p, 20, &rq), MP_OK);
  mp__store_u64(p + 8, 1);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_CLEAR, p, 20, &rq), MP_EPROTO); /* a number */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_UPDATE, p, 20, &rq), MP_OK);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_LIST_EXTEND, p, 20, &rq), MP_OK);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_LIST_SET, p, 24, &rq), MP_OK);
  assert_int_equal(rq.vlen, 4);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_SETDEFAULT, p, 20, &rq), MP_OK);
  mp__store_u64(p + 8, 2);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_SETDEFAULT, p, 20, &rq), MP_EPROTO); /* flag neither 0 nor 1 */
  mp__store_u64(p + 8, 0);
  mp__store_u32(p + 16, 1);
  p[20] = 'k';
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_POP, p, 21, &rq), MP_OK);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_CONTAINS, p, 21, &rq), MP_OK);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_LIST_POP, p, 21, &rq), MP_EPROTO); /* a key */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_LIST_DELETE, p, 21, &rq), MP_EPROTO);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_OP_MAX + 1, p, 20, &rq), MP_EPROTO);
}

int main(int argc, char **argv) {
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(contains_pop_setdefault_clear),
      TU_TEST(keys_and_items_keep_insertion_order),
      TU_TEST(thousands_of_keys_and_big_values),
      TU_TEST(update_copies_in_order),
      TU_TEST(list_set_insert_pop_delete),
      TU_TEST(list_extend),
      TU_TEST(without_a_lane_the_socket_carries_every_method),
      TU_TEST(bad_arguments),
      TU_TEST(new_requests_are_decoded_strictly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
