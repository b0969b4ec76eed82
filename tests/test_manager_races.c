/* Manager methods under concurrency and failure: several processes doing
 * setdefault, pop and insert on the same objects lose no update and take
 * nothing twice; items never see half of a clear+update; a server killed
 * (also in the middle of a reply over the socket) makes every call read
 * MP_ECLOSED, never hang. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_methods_util.h"
#include "platform.h"

/* ------------------------------------------------------------ tasks */
/* setdefault on 200 shared keys with its own id: returns how many it won
 * (the value it read back was its own); fails if a key read back changed. */
#define SD_KEYS 200
static int setdefault_race(mp_call *call) {
  int id;
  if (mp_call_arg_read(call, &id, sizeof id) != MP_OK) return 1;
  mp_dict *d = NULL;
  if (mp_manager_dict(mp_call_manager(call, 0), "race", &d) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  int won = 0;
  for (int i = 0; i < SD_KEYS; i++) {
    char key[32];
    void *v;
    size_t n;
    snprintf(key, sizeof key, "k%d", i);
    if (mp_dict_setdefault(d, key, &id, sizeof id, &v, &n) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
    int got = -1;
    if (n == sizeof got) memcpy(&got, v, sizeof got);
    mp_free(v);
    if (got < 0 || got >= WORKERS) return mp_call_fail(call, "read back %d", got);
    won += got == id;
  }
  mp_dict_free(d);
  return mp_call_return(call, &won, sizeof won);
}

/* Pops "todo" from its end until it is empty, counting each item popped
 * in "seen"; dict-pops the keys of "keys"; returns the number of pops. */
static int pop_race(mp_call *call) {
  mp_manager *m = mp_call_manager(call, 0);
  mp_list *l = NULL;
  mp_dict *seen = NULL, *keys = NULL;
  if (mp_manager_list(m, "todo", &l) != MP_OK || mp_manager_dict(m, "seen", &seen) != MP_OK ||
      mp_manager_dict(m, "keys", &keys) != MP_OK)
    return mp_call_fail(call, "%s", mp_last_error());
  int pops = 0, rc;
  for (;;) {
    void *v;
    size_t n;
    if ((rc = mp_list_pop(l, MP_LIST_LAST, &v, &n)) == MP_ENOTFOUND) break;
    if (rc != MP_OK || n != sizeof(int)) return mp_call_fail(call, "pop: %s", mp_last_error());
    char key[32];
    int x;
    memcpy(&x, v, sizeof x);
    mp_free(v);
    snprintf(key, sizeof key, "%d", x);
    if (mp_dict_add_i64(seen, key, 1, NULL) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
    pops++;
  }
  for (int i = 0; i < 300; i++) {
    char key[32];
    void *v;
    size_t n;
    snprintf(key, sizeof key, "p%d", i);
    rc = mp_dict_pop(keys, key, &v, &n);
    if (rc == MP_OK) {
      mp_free(v);
      pops++;
    } else if (rc != MP_ENOTFOUND) {
      return mp_call_fail(call, "dict pop: %s", mp_last_error());
    }
  }
  mp_list_free(l);
  mp_dict_free(seen);
  mp_dict_free(keys);
  return mp_call_return(call, &pops, sizeof pops);
}

/* Inserts id * 1000 + i at the front of "front", 150 times. */
#define INSERTS 150
static int insert_race(mp_call *call) {
  int id;
  if (mp_call_arg_read(call, &id, sizeof id) != MP_OK) return 1;
  mp_list *l = NULL;
  if (mp_manager_list(mp_call_manager(call, 0), "front", &l) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  for (int i = 0; i < INSERTS; i++) {
    int v = id * 1000 + i;
    if (mp_list_insert(l, 0, &v, sizeof v) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  }
  mp_list_free(l);
  int ok = 0;
  return mp_call_return(call, &ok, sizeof ok);
}

/* Clears "dst" and updates it from "src", rounds times. */
static int clear_and_update(mp_call *call) {
  int rounds;
  if (mp_call_arg_read(call, &rounds, sizeof rounds) != MP_OK) return 1;
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *dst = NULL, *src = NULL;
  if (mp_manager_dict(m, "dst", &dst) != MP_OK || mp_manager_dict(m, "src", &src) != MP_OK)
    return mp_call_fail(call, "%s", mp_last_error());
  for (int i = 0; i < rounds; i++)
    if (mp_dict_clear(dst) != MP_OK || mp_dict_update(dst, src) != MP_OK)
      return mp_call_fail(call, "%s", mp_last_error());
  mp_dict_free(dst);
  mp_dict_free(src);
  int ok = 0;
  return mp_call_return(call, &ok, sizeof ok);
}

/* ------------------------------------------------------------ atomicity */
static void concurrent_setdefault_has_one_winner_per_key(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_process *ps[WORKERS];
  for (int i = 0; i < WORKERS; i++) ps[i] = start_with("setdefault_race", m, &i, sizeof i);
  int won = 0;
  for (int i = 0; i < WORKERS; i++) won += tu_finish_int(ps[i], 120);
  assert_int_equal(won, SD_KEYS); /* each key won exactly once */
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "race", &d), MP_OK);
  assert_int_equal(dict_len(d), SD_KEYS);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void concurrent_pops_take_each_item_once(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_list *l;
  mp_dict *keys, *seen;
  int items = (int)tu_scale(600, 120);
  TU_CHECK(mp_manager_list(m, "todo", &l), MP_OK);
  TU_CHECK(mp_manager_dict(m, "keys", &keys), MP_OK);
  TU_CHECK(mp_manager_dict(m, "seen", &seen), MP_OK);
  for (int i = 0; i < items; i++) append_int(l, i);
  for (int i = 0; i < 300; i++) {
    char key[32];
    snprintf(key, sizeof key, "p%d", i);
    set_int(keys, key, i);
  }
  mp_process *ps[WORKERS];
  for (int i = 0; i < WORKERS; i++) ps[i] = start_with("pop_race", m, NULL, 0);
  int pops = 0;
  for (int i = 0; i < WORKERS; i++) pops += tu_finish_int(ps[i], 120);
  assert_int_equal(pops, items + 300);
  assert_int_equal(list_len(l), 0);
  assert_int_equal(dict_len(keys), 0);
  /* Every item was seen exactly once. */
  mp_dict_item *it;
  size_t n;
  TU_CHECK(mp_dict_items(seen, &it, &n), MP_OK);
  assert_int_equal(n, (size_t)items);
  for (size_t i = 0; i < n; i++) {
    int64_t c;
    assert_int_equal(it[i].len, sizeof c);
    memcpy(&c, it[i].val, sizeof c);
    assert_int_equal(c, 1);
  }
  mp_free(it);
  mp_list_free(l);
  mp_dict_free(keys);
  mp_dict_free(seen);
  mp_manager_free(m);
}

static void concurrent_inserts_lose_nothing(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_process *ps[WORKERS];
  for (int i = 0; i < WORKERS; i++) ps[i] = start_with("insert_race", m, &i, sizeof i);
  for (int i = 0; i < WORKERS; i++) assert_int_equal(tu_finish_int(ps[i], 120), 0);
  mp_list *l;
  TU_CHECK(mp_manager_list(m, "front", &l), MP_OK);
  size_t n = list_len(l);
  assert_int_equal(n, (size_t)WORKERS * INSERTS);
  /* Each worker's items are all there, newest first. */
  int next[WORKERS];
  for (int w = 0; w < WORKERS; w++) next[w] = INSERTS - 1;
  for (size_t i = 0; i < n; i++) {
    int v = list_int(l, i), w = v / 1000;
    assert_true(w >= 0 && w < WORKERS);
    assert_int_equal(v % 1000, next[w]);
    next[w]--;
  }
  for (int w = 0; w < WORKERS; w++) assert_int_equal(next[w], -1);
  mp_list_free(l);
  mp_manager_free(m);
}

static void items_never_see_half_an_update(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *src, *dst;
  TU_CHECK(mp_manager_dict(m, "src", &src), MP_OK);
  TU_CHECK(mp_manager_dict(m, "dst", &dst), MP_OK);
  for (int i = 0; i < 100; i++) {
    char key[32];
    snprintf(key, sizeof key, "s%d", i);
    set_int(src, key, i);
  }
  int rounds = (int)tu_scale(300, 40);
  mp_process *p = start_with("clear_and_update", m, &rounds, sizeof rounds);
  int full = 0, empty = 0;
  while (mp_process_is_alive(p)) {
    mp_dict_item *it;
    size_t n;
    TU_CHECK(mp_dict_items(dst, &it, &n), MP_OK);
    assert_true(n == 0 || n == 100); /* all or nothing, never a part */
    for (size_t i = 0; i < n; i++) assert_int_equal(read_int(it[i].val, it[i].len), (int)i);
    mp_free(it);
    if (n) full++; else empty++;
  }
  assert_int_equal(tu_finish_int(p, 120), 0);
  print_message("items snapshots: %d full, %d empty\n", full, empty);
  mp_dict_free(src);
  mp_dict_free(dst);
  mp_manager_free(m);
}

/* Every new call on a server that is gone reads MP_ECLOSED, at once. */
static void every_call_closed(mp_dict *d, mp_dict *d2, mp_list *l, mp_list *l2) {
  void *v;
  size_t n;
  int found;
  char **keys;
  mp_dict_item *items;
  double t0 = mp__now();
  TU_CHECK(mp_dict_contains(d, "k", &found), MP_ECLOSED);
  TU_CHECK(mp_dict_keys(d, &keys, &n), MP_ECLOSED);
  assert_null(keys);
  TU_CHECK(mp_dict_items(d, &items, &n), MP_ECLOSED);
  assert_null(items);
  TU_CHECK(mp_dict_pop(d, "k", &v, &n), MP_ECLOSED);
  assert_null(v);
  TU_CHECK(mp_dict_setdefault(d, "k", "x", 1, &v, &n), MP_ECLOSED);
  TU_CHECK(mp_dict_setdefault(d, "k", "x", 1, NULL, NULL), MP_ECLOSED);
  TU_CHECK(mp_dict_clear(d), MP_ECLOSED);
  TU_CHECK(mp_dict_update(d, d2), MP_ECLOSED);
  TU_CHECK(mp_list_set(l, 0, "x", 1), MP_ECLOSED);
  TU_CHECK(mp_list_insert(l, 0, "x", 1), MP_ECLOSED);
  TU_CHECK(mp_list_pop(l, MP_LIST_LAST, &v, &n), MP_ECLOSED);
  TU_CHECK(mp_list_delete(l, 0), MP_ECLOSED);
  TU_CHECK(mp_list_extend(l, l2), MP_ECLOSED);
  assert_true(mp__now() - t0 < 60); /* no call waited for anything */
}

static void a_killed_server_reads_closed(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d, *d2;
  mp_list *l, *l2;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_manager_dict(m, "d2", &d2), MP_OK);
  TU_CHECK(mp_manager_list(m, "l", &l), MP_OK);
  TU_CHECK(mp_manager_list(m, "l2", &l2), MP_OK);
  set_int(d, "k", 1);
  append_int(l, 1);
  int64_t pid = mp__manager_server_pid(m);
  assert_true(pid > 0);
  TU_CHECK(mp__pid_kill(pid), MP_OK);
  /* The kill lands in a moment: until then a call may still be served. */
  size_t n;
  int rc;
  double until = mp__now() + 30;
  while ((rc = mp_dict_len(d, &n)) == MP_OK && mp__now() < until) mp__sleep(0.01);
  assert_int_equal(rc, MP_ECLOSED);
  every_call_closed(d, d2, l, l2);
  assert_non_null(strstr(mp_last_error(), "mp_list_extend"));
  TU_CHECK(mp_manager_shutdown(m), MP_OK); /* reaps the dead server */
  every_call_closed(d, d2, l, l2);
  mp_dict_free(d);
  mp_dict_free(d2);
  mp_list_free(l);
  mp_list_free(l2);
  mp_manager_free(m);
}

static void a_killed_server_mid_big_reply_reads_closed(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  void *big = tu_pattern(BIG, 1);
  for (int i = 0; i < 8; i++) {
    char key[16];
    snprintf(key, sizeof key, "b%d", i);
    TU_CHECK(mp_dict_set(d, key, big, BIG), MP_OK);
  }
  free(big);
  int64_t pid = mp__manager_server_pid(m);
  /* Items (2.4 MB, on the socket) in a loop; the kill lands somewhere. */
  int rc = MP_OK, calls = 0;
  double kill_at = mp__now() + 0.2, until = mp__now() + 60;
  while (rc == MP_OK && mp__now() < until) {
    mp_dict_item *it;
    size_t n;
    if (mp__now() >= kill_at && kill_at > 0) {
      TU_CHECK(mp__pid_kill(pid), MP_OK);
      kill_at = 0;
    }
    rc = mp_dict_items(d, &it, &n);
    if (rc == MP_OK) {
      assert_int_equal(n, 8);
      mp_free(it);
      calls++;
    }
  }
  assert_int_equal(rc, MP_ECLOSED);
  assert_true(calls > 0);
  mp_dict_free(d);
  mp_manager_shutdown(m);
  mp_manager_free(m);
}

int main(int argc, char **argv) {
  MP_REGISTER(setdefault_race);
  MP_REGISTER(pop_race);
  MP_REGISTER(insert_race);
  MP_REGISTER(clear_and_update);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(concurrent_setdefault_has_one_winner_per_key),
      TU_TEST(concurrent_pops_take_each_item_once),
      TU_TEST(concurrent_inserts_lose_nothing),
      TU_TEST(items_never_see_half_an_update),
      TU_TEST(a_killed_server_reads_closed),
      TU_TEST(a_killed_server_mid_big_reply_reads_closed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
