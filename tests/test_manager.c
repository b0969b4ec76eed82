/* Manager: shared dicts and lists in a server process, through proxies in
 * any process given the manager; a server that goes reads MP_ECLOSED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_wire.h"
#include "platform.h"
#include "testutil.h"

#define COUNTER_ADDS 2000
#define WORKERS 4

static int before_main_rc, register_builtin_rc;

static mp_manager *start(void) {
  mp_manager *m = NULL;
  TU_CHECK(mp_manager_start(&m), MP_OK);
  assert_non_null(m);
  return m;
}

static mp_process *start_with(const char *task, mp_manager *m, const void *arg, size_t len) {
  mp_object *objs[1] = {mp_manager_obj(m)};
  return tu_start(task, objs, 1, arg, len);
}

/* ------------------------------------------------------------ tasks */
/* Adds 1 to "count" COUNTER_ADDS times, records itself, appends to "log". */
static int add_many(mp_call *call) {
  int id;
  if (mp_call_arg_read(call, &id, sizeof id) != MP_OK) return 1;
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  mp_list *l = NULL;
  if (!m || mp_manager_dict(m, "results", &d) != MP_OK || mp_manager_list(m, "log", &l) != MP_OK)
    return mp_call_fail(call, "open: %s", mp_last_error());
  for (int i = 0; i < COUNTER_ADDS; i++)
    if (mp_dict_add_i64(d, "count", 1, NULL) != MP_OK) return mp_call_fail(call, "add: %s", mp_last_error());
  char key[32];
  snprintf(key, sizeof key, "worker-%d", id);
  int64_t square = (int64_t)id * id;
  if (mp_dict_set(d, key, &square, sizeof square) != MP_OK || mp_list_append(l, &id, sizeof id) != MP_OK)
    return mp_call_fail(call, "set: %s", mp_last_error());
  /* The manager belongs to the call: these do not end the server. */
  if (mp_manager_shutdown(m) != MP_ESTATE) return mp_call_fail(call, "shutdown from a task was not refused");
  if (mp_manager_free(m) != NULL) return mp_call_fail(call, "free returned non-NULL");
  mp_dict_free(d);
  mp_list_free(l);
  int ok = 0;
  return mp_call_return(call, &ok, sizeof ok);
}

/* Reads "big" (10 MiB written by the parent) and checks its bytes. */
static int read_big(mp_call *call) {
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  void *v = NULL;
  size_t n = 0;
  if (mp_manager_dict(m, "values", &d) != MP_OK || mp_dict_get(d, "big", &v, &n) != MP_OK)
    return mp_call_fail(call, "%s", mp_last_error());
  void *want = tu_pattern((size_t)10 << 20, 7);
  int same = n == ((size_t)10 << 20) && memcmp(v, want, n) == 0;
  free(want);
  mp_free(v);
  mp_dict_free(d);
  return mp_call_return(call, &same, sizeof same);
}

/* Calls with 256 KiB values until one fails; returns that status. */
static int hammer(mp_call *call) {
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  int rc = mp_manager_dict(m, "hammer", &d);
  size_t n = 256 * 1024;
  void *buf = tu_pattern(n, 3);
  if (rc == MP_OK) rc = mp_dict_add_i64(d, "started", 1, NULL);
  while (rc == MP_OK) {
    void *back;
    size_t len;
    rc = mp_dict_set(d, "k", buf, n);
    if (rc == MP_OK) rc = mp_dict_get(d, "k", &back, &len);
    if (rc == MP_OK) mp_free(back);
  }
  free(buf);
  mp_dict_free(d);
  return mp_call_return(call, &rc, sizeof rc);
}

/* The status of a first call on a manager that is already gone. */
static int open_late(mp_call *call) {
  mp_dict *d = NULL;
  int rc = mp_manager_dict(mp_call_manager(call, 0), "late", &d);
  mp_dict_free(d);
  return mp_call_return(call, &rc, sizeof rc);
}

/* ------------------------------------------------------------ tests */
static void dicts_and_lists(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d, *same;
  mp_list *l;
  size_t n;
  void *v;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_dict_len(d, &n), MP_OK);
  assert_int_equal(n, 0);
  TU_CHECK(mp_dict_set(d, "a", "alpha", 5), MP_OK);
  TU_CHECK(mp_dict_set(d, "b", "beta", 4), MP_OK);
  TU_CHECK(mp_dict_set(d, "a", "ALPHA!", 6), MP_OK); /* replaces */
  TU_CHECK(mp_manager_dict(m, "d", &same), MP_OK);   /* the same dict by name */
  TU_CHECK(mp_dict_get(same, "a", &v, &n), MP_OK);
  assert_int_equal(n, 6);
  assert_memory_equal(v, "ALPHA!", 6);
  mp_free(v);
  TU_CHECK(mp_dict_len(same, &n), MP_OK);
  assert_int_equal(n, 2);
  TU_CHECK(mp_dict_del(d, "b"), MP_OK);
  TU_CHECK(mp_dict_len(d, &n), MP_OK);
  assert_int_equal(n, 1);
  /* Many keys: the table grows and keeps every one. */
  for (int i = 0; i < 500; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    TU_CHECK(mp_dict_set(d, key, &i, sizeof i), MP_OK);
  }
  TU_CHECK(mp_dict_get(d, "k321", &v, &n), MP_OK);
  assert_int_equal(*(int *)v, 321);
  mp_free(v);
  TU_CHECK(mp_dict_len(d, &n), MP_OK);
  assert_int_equal(n, 501);
  /* A list of the same name is another object. */
  TU_CHECK(mp_manager_list(m, "d", &l), MP_OK);
  TU_CHECK(mp_list_len(l, &n), MP_OK);
  assert_int_equal(n, 0);
  for (int i = 0; i < 100; i++) TU_CHECK(mp_list_append(l, &i, sizeof i), MP_OK);
  TU_CHECK(mp_list_len(l, &n), MP_OK);
  assert_int_equal(n, 100);
  TU_CHECK(mp_list_get(l, 42, &v, &n), MP_OK);
  assert_int_equal(n, sizeof(int));
  assert_int_equal(*(int *)v, 42);
  mp_free(v);
  TU_CHECK(mp_list_get(l, 100, &v, &n), MP_ENOTFOUND);
  assert_null(v);
  /* Counters. */
  int64_t now = 0;
  TU_CHECK(mp_dict_add_i64(d, "c", 5, &now), MP_OK);
  assert_int_equal(now, 5);
  TU_CHECK(mp_dict_add_i64(d, "c", -7, &now), MP_OK);
  assert_int_equal(now, -2);
  TU_CHECK(mp_dict_get(d, "c", &v, &n), MP_OK);
  assert_int_equal(n, 8);
  memcpy(&now, v, sizeof now);
  assert_int_equal(now, -2);
  mp_free(v);
  TU_CHECK(mp_dict_add_i64(d, "a", 1, NULL), MP_EINVAL); /* not 8 bytes */
  int64_t big = INT64_MAX;
  TU_CHECK(mp_dict_set(d, "max", &big, sizeof big), MP_OK);
  TU_CHECK(mp_dict_add_i64(d, "max", 1, &now), MP_EINVAL); /* would overflow */
  mp_dict_free(d);
  mp_dict_free(same);
  mp_list_free(l);
  assert_null(mp_manager_free(m));
}

static void a_missing_key_reads_not_found(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  void *v = (void *)1;
  size_t n = 99;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_dict_get(d, "nope", &v, &n), MP_ENOTFOUND);
  assert_null(v);
  assert_int_equal(n, 0);
  assert_non_null(strstr(mp_last_error(), "nope"));
  TU_CHECK(mp_dict_del(d, "nope"), MP_ENOTFOUND);
  TU_CHECK(mp_dict_set(d, "there", "x", 1), MP_OK);
  TU_CHECK(mp_dict_del(d, "there"), MP_OK);
  TU_CHECK(mp_dict_get(d, "there", &v, &n), MP_ENOTFOUND);
  /* The empty key is a key like any other. */
  TU_CHECK(mp_dict_get(d, "", &v, &n), MP_ENOTFOUND);
  TU_CHECK(mp_dict_set(d, "", "e", 1), MP_OK);
  TU_CHECK(mp_dict_get(d, "", &v, &n), MP_OK);
  mp_free(v);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void values_of_zero_bytes_and_ten_mib(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  mp_list *l;
  void *v;
  size_t n, big = (size_t)10 << 20;
  TU_CHECK(mp_manager_dict(m, "values", &d), MP_OK);
  TU_CHECK(mp_manager_list(m, "values", &l), MP_OK);
  TU_CHECK(mp_dict_set(d, "empty", NULL, 0), MP_OK);
  TU_CHECK(mp_dict_get(d, "empty", &v, &n), MP_OK);
  assert_non_null(v);
  assert_int_equal(n, 0);
  mp_free(v);
  TU_CHECK(mp_list_append(l, "", 0), MP_OK);
  TU_CHECK(mp_list_get(l, 0, &v, &n), MP_OK);
  assert_non_null(v);
  assert_int_equal(n, 0);
  mp_free(v);
  void *p = tu_pattern(big, 7);
  TU_CHECK(mp_dict_set(d, "big", p, big), MP_OK);
  TU_CHECK(mp_list_append(l, p, big), MP_OK);
  TU_CHECK(mp_dict_get(d, "big", &v, &n), MP_OK);
  assert_int_equal(n, big);
  assert_true(memcmp(v, p, big) == 0);
  mp_free(v);
  TU_CHECK(mp_list_get(l, 1, &v, &n), MP_OK);
  assert_int_equal(n, big);
  assert_true(memcmp(v, p, big) == 0);
  mp_free(v);
  free(p);
  /* Another process reads the same 10 MiB. */
  assert_int_equal(tu_finish_int(start_with("read_big", m, NULL, 0), 120), 1);
  mp_dict_free(d);
  mp_list_free(l);
  mp_manager_free(m);
}

static void concurrent_updates_from_four_processes(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_process *ps[WORKERS];
  for (int i = 0; i < WORKERS; i++) ps[i] = start_with("add_many", m, &i, sizeof i);
  for (int i = 0; i < WORKERS; i++) assert_int_equal(tu_finish_int(ps[i], 120), 0);
  mp_dict *d;
  mp_list *l;
  void *v;
  size_t n;
  int64_t count = 0;
  TU_CHECK(mp_manager_dict(m, "results", &d), MP_OK);
  TU_CHECK(mp_dict_get(d, "count", &v, &n), MP_OK);
  assert_int_equal(n, sizeof count);
  memcpy(&count, v, sizeof count);
  mp_free(v);
  assert_int_equal(count, (int64_t)WORKERS * COUNTER_ADDS); /* not one update lost */
  TU_CHECK(mp_dict_len(d, &n), MP_OK);
  assert_int_equal(n, 1 + WORKERS);
  for (int i = 0; i < WORKERS; i++) {
    char key[32];
    int64_t sq;
    snprintf(key, sizeof key, "worker-%d", i);
    TU_CHECK(mp_dict_get(d, key, &v, &n), MP_OK);
    memcpy(&sq, v, sizeof sq);
    mp_free(v);
    assert_int_equal(sq, (int64_t)i * i);
  }
  TU_CHECK(mp_manager_list(m, "log", &l), MP_OK);
  TU_CHECK(mp_list_len(l, &n), MP_OK);
  assert_int_equal(n, WORKERS);
  mp_list_free(l);
  mp_dict_free(d);
  mp_manager_free(m);
}

typedef struct adder {
  mp_dict *d;
  int failures;
} adder;

static void add_from_thread(void *arg) {
  adder *a = arg;
  for (int i = 0; i < COUNTER_ADDS; i++)
    if (mp_dict_add_i64(a->d, "count", 1, NULL) != MP_OK) a->failures++;
}

static void threads_share_one_connection(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "t", &d), MP_OK);
  adder a[WORKERS];
  mp__thread *t[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    a[i].d = d;
    a[i].failures = 0;
    TU_CHECK(mp__thread_start(&t[i], add_from_thread, &a[i]), MP_OK);
  }
  for (int i = 0; i < WORKERS; i++) {
    mp__thread_join(t[i]);
    assert_int_equal(a[i].failures, 0);
  }
  int64_t now = 0;
  TU_CHECK(mp_dict_add_i64(d, "count", 0, &now), MP_OK);
  assert_int_equal(now, (int64_t)WORKERS * COUNTER_ADDS);
  mp_dict_free(d);
  mp_manager_free(m);
}

static int pool_add(mp_call *call) {
  mp_dict *d = NULL;
  int x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return 1;
  if (mp_manager_dict(mp_call_manager(call, 0), "pool", &d) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  int rc = mp_dict_add_i64(d, "sum", x, NULL);
  mp_dict_free(d);
  if (rc != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  return mp_call_return(call, &x, sizeof x);
}

static void pool_workers_use_it_too(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_object *objs[1] = {mp_manager_obj(m)};
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 2;
  po.objects = objs;
  po.nobjects = 1;
  mp_pool *pool;
  TU_CHECK(mp_pool_create(&pool, &po), MP_OK);
  int in[100], out[100];
  for (int i = 0; i < 100; i++) in[i] = i + 1;
  TU_CHECK(mp_pool_map(pool, "pool_add", in, sizeof in[0], 100, out, sizeof out[0], NULL), MP_OK);
  mp_pool_free(pool);
  mp_dict *d;
  int64_t sum = 0;
  TU_CHECK(mp_manager_dict(m, "pool", &d), MP_OK);
  TU_CHECK(mp_dict_add_i64(d, "sum", 0, &sum), MP_OK);
  assert_int_equal(sum, 5050);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void a_manager_killed_mid_call_reads_closed(void **state) {
  (void)state;
  mp_manager *m = start();
  int64_t pid = mp__manager_server_pid(m);
  assert_true(pid > 0);
  mp_process *ps[2];
  for (int i = 0; i < 2; i++) ps[i] = start_with("hammer", m, NULL, 0);
  /* Both are in their loops once each has counted itself in. */
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "hammer", &d), MP_OK);
  int64_t started = 0;
  double until = mp__now() + 60;
  while (started < 2 && mp__now() < until) {
    TU_CHECK(mp_dict_add_i64(d, "started", 0, &started), MP_OK);
    mp__sleep(0.01);
  }
  assert_int_equal(started, 2);
  mp__sleep(0.05);
  TU_CHECK(mp__pid_kill(pid), MP_OK);
  for (int i = 0; i < 2; i++) assert_int_equal(tu_finish_int(ps[i], 120), MP_ECLOSED);
  /* And here: the old connection breaks, a new one finds nobody. */
  void *v;
  size_t n;
  TU_CHECK(mp_dict_get(d, "k", &v, &n), MP_ECLOSED);
  TU_CHECK(mp_dict_set(d, "k", "x", 1), MP_ECLOSED);
  mp_dict *d2;
  TU_CHECK(mp_manager_dict(m, "other", &d2), MP_ECLOSED);
  assert_null(d2);
  mp_dict_free(d);
  TU_CHECK(mp_manager_shutdown(m), MP_OK); /* reaps the dead server */
  mp_manager_free(m);
}

static void after_shutdown_every_call_reads_closed(void **state) {
  (void)state;
  mp_manager *m = start();
  int64_t pid = mp__manager_server_pid(m);
  mp_dict *d;
  mp_list *l;
  void *v;
  size_t n;
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_manager_list(m, "l", &l), MP_OK);
  TU_CHECK(mp_dict_set(d, "k", "v", 1), MP_OK);
  TU_CHECK(mp_manager_shutdown(m), MP_OK);
  assert_true(tu_wait_gone(pid, 10));
  TU_CHECK(mp_dict_set(d, "k", "v", 1), MP_ECLOSED);
  TU_CHECK(mp_dict_get(d, "k", &v, &n), MP_ECLOSED);
  TU_CHECK(mp_dict_del(d, "k"), MP_ECLOSED);
  TU_CHECK(mp_dict_len(d, &n), MP_ECLOSED);
  TU_CHECK(mp_dict_add_i64(d, "k", 1, NULL), MP_ECLOSED);
  TU_CHECK(mp_list_append(l, "v", 1), MP_ECLOSED);
  TU_CHECK(mp_list_get(l, 0, &v, &n), MP_ECLOSED);
  TU_CHECK(mp_list_len(l, &n), MP_ECLOSED);
  mp_dict *d2;
  TU_CHECK(mp_manager_dict(m, "d", &d2), MP_ECLOSED);
  TU_CHECK(mp_manager_shutdown(m), MP_OK); /* again: nothing to do */
  /* A process given the manager now finds nobody either. */
  assert_int_equal(tu_finish_int(start_with("open_late", m, NULL, 0), 120), MP_ECLOSED);
  mp_manager_free(m);
  /* Proxies may outlive their manager. */
  TU_CHECK(mp_dict_len(d, &n), MP_ECLOSED);
  mp_dict_free(d);
  mp_list_free(l);
}

static void free_ends_the_server(void **state) {
  (void)state;
  mp_manager *m = start();
  int64_t pid = mp__manager_server_pid(m);
  assert_true(mp__pid_alive(pid));
  mp_manager_free(m);
  assert_true(tu_wait_gone(pid, 10));
}

static void bad_arguments(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  mp_list *l;
  void *v;
  size_t n;
  TU_CHECK(mp_manager_start(NULL), MP_EINVAL);
  TU_CHECK(mp_manager_dict(NULL, "d", &d), MP_EINVAL);
  assert_null(d);
  TU_CHECK(mp_manager_dict(m, NULL, &d), MP_EINVAL);
  TU_CHECK(mp_manager_dict(m, "d", NULL), MP_EINVAL);
  TU_CHECK(mp_manager_list(NULL, "l", &l), MP_EINVAL);
  TU_CHECK(mp_manager_list(m, NULL, &l), MP_EINVAL);
  char *longkey = malloc(MP_MANAGER_KEY_MAX + 2);
  memset(longkey, 'k', MP_MANAGER_KEY_MAX + 1);
  longkey[MP_MANAGER_KEY_MAX + 1] = '\0';
  TU_CHECK(mp_manager_dict(m, longkey, &d), MP_EINVAL);
  TU_CHECK(mp_manager_dict(m, "d", &d), MP_OK);
  TU_CHECK(mp_manager_list(m, "l", &l), MP_OK);
  TU_CHECK(mp_dict_set(d, longkey, "x", 1), MP_EINVAL);
  TU_CHECK(mp_dict_get(d, longkey, &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_add_i64(d, longkey, 1, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_del(d, longkey), MP_EINVAL);
  longkey[MP_MANAGER_KEY_MAX] = '\0'; /* exactly the limit is fine */
  TU_CHECK(mp_dict_set(d, longkey, "x", 1), MP_OK);
  TU_CHECK(mp_dict_get(d, longkey, &v, &n), MP_OK);
  mp_free(v);
  free(longkey);
  TU_CHECK(mp_dict_set(NULL, "k", "x", 1), MP_EINVAL);
  TU_CHECK(mp_dict_set(d, NULL, "x", 1), MP_EINVAL);
  TU_CHECK(mp_dict_set(d, "k", NULL, 1), MP_EINVAL);
  TU_CHECK(mp_dict_set(d, "k", "x", MP_MAX_MESSAGE + 1), MP_ETOOBIG);
  TU_CHECK(mp_dict_get(NULL, "k", &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_get(d, NULL, &v, &n), MP_EINVAL);
  TU_CHECK(mp_dict_get(d, "k", NULL, &n), MP_EINVAL);
  TU_CHECK(mp_dict_get(d, "k", &v, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_del(NULL, "k"), MP_EINVAL);
  TU_CHECK(mp_dict_del(d, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_len(NULL, &n), MP_EINVAL);
  TU_CHECK(mp_dict_len(d, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_add_i64(NULL, "k", 1, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_add_i64(d, NULL, 1, NULL), MP_EINVAL);
  TU_CHECK(mp_list_append(NULL, "x", 1), MP_EINVAL);
  TU_CHECK(mp_list_append(l, NULL, 1), MP_EINVAL);
  TU_CHECK(mp_list_append(l, "x", MP_MAX_MESSAGE + 1), MP_ETOOBIG);
  TU_CHECK(mp_list_get(NULL, 0, &v, &n), MP_EINVAL);
  TU_CHECK(mp_list_get(l, 0, NULL, &n), MP_EINVAL);
  TU_CHECK(mp_list_get(l, 0, &v, NULL), MP_EINVAL);
  TU_CHECK(mp_list_len(NULL, &n), MP_EINVAL);
  TU_CHECK(mp_list_len(l, NULL), MP_EINVAL);
  TU_CHECK(mp_manager_shutdown(NULL), MP_EINVAL);
  assert_null(mp_manager_obj(NULL));
  assert_null(mp_call_manager(NULL, 0));
  assert_null(mp_manager_free(NULL));
  assert_null(mp_dict_free(NULL));
  assert_null(mp_list_free(NULL));
  assert_null(mp_dict_free(d));
  assert_null(mp_list_free(l));
  mp_manager_free(m);
}

static void before_mp_main_is_refused(void **state) {
  (void)state;
  assert_int_equal(before_main_rc, MP_EBOOTSTRAP);
  assert_int_equal(register_builtin_rc, MP_EINVAL); /* nobody may take the server's task name */
}

/* Reads one reply header on h, or returns the read's failure. */
static int read_reply(mp__handle h, mp__frame_header *fh) {
  mp__frame_reader r;
  mp__frame_reader_init(&r, h, 4096);
  int rc = mp__frame_read_header(&r, 30, fh);
  mp__frame_reader_release(&r);
  return rc;
}

static void hang_up(mp__handle rd, mp__handle wr) {
  mp__handle_close(rd);
  mp__handle_close(wr);
}

static void strangers_and_garbage_are_dropped(void **state) {
  (void)state;
  mp_manager *m = start();
  const char *name = mp__manager_endpoint(m);
  mp__handle rd, wr;
  mp__frame_header fh;
  /* Garbage: the server hangs up. */
  TU_CHECK(mp__endpoint_connect(name, &rd, &wr, 30), MP_OK);
  TU_CHECK(mp__write_all(wr, "GET / HTTP/1.0\r\n\r\nxxxxxxxxxxxxxxxxxxxx", 38), MP_OK);
  TU_CHECK(read_reply(rd, &fh), MP_ECLOSED);
  hang_up(rd, wr);
  /* The wrong token: refused, then dropped. */
  uint8_t token[MP__MGR_TOKEN_LEN];
  memset(token, 0x5a, sizeof token);
  mp__mgr_request rq;
  memset(&rq, 0, sizeof rq);
  rq.op = MP__MGR_HELLO;
  rq.num = MP__MGR_PROTOCOL;
  rq.value = token;
  rq.vlen = sizeof token;
  TU_CHECK(mp__endpoint_connect(name, &rd, &wr, 30), MP_OK);
  TU_CHECK(mp__mgr_write_request(wr, 1, &rq), MP_OK);
  TU_CHECK(read_reply(rd, &fh), MP_OK);
  assert_int_equal(mp__mgr_reply_status(fh.flags), MP_EPROTO);
  hang_up(rd, wr);
  /* A request before HELLO: refused too. */
  memset(&rq, 0, sizeof rq);
  rq.op = MP__MGR_DICT_LEN;
  rq.obj = 1;
  TU_CHECK(mp__endpoint_connect(name, &rd, &wr, 30), MP_OK);
  TU_CHECK(mp__mgr_write_request(wr, 1, &rq), MP_OK);
  TU_CHECK(read_reply(rd, &fh), MP_OK);
  assert_int_equal(mp__mgr_reply_status(fh.flags), MP_EPROTO);
  hang_up(rd, wr);
  /* A header that claims 1 GiB and sends 10 bytes: nothing is reserved
   * for it, and the server still serves everyone else meanwhile. */
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_header big = {MP__FRAME_MGR_REQUEST, MP__MGR_HELLO, 1, (uint64_t)1 << 30};
  mp__frame_header_encode(&big, head);
  TU_CHECK(mp__endpoint_connect(name, &rd, &wr, 30), MP_OK);
  TU_CHECK(mp__write_all(wr, head, sizeof head), MP_OK);
  TU_CHECK(mp__write_all(wr, "0123456789", 10), MP_OK);
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "still", &d), MP_OK);
  TU_CHECK(mp_dict_set(d, "k", "v", 1), MP_OK);
  hang_up(rd, wr);
  /* A name nobody listens on reads closed. */
  char gone[MP__ENDPOINT_NAME_MAX];
  snprintf(gone, sizeof gone, "%s", name);
  gone[strlen(gone) - 1] = gone[strlen(gone) - 1] == '0' ? '1' : '0';
  TU_CHECK(mp__endpoint_connect(gone, &rd, &wr, 30), MP_ECLOSED);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void requests_are_decoded_strictly(void **state) {
  (void)state;
  uint8_t p[64];
  mp__mgr_request rq;
  memset(p, 0, sizeof p);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_LEN, p, 20, &rq), MP_OK);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_LEN, p, 19, &rq), MP_EPROTO);  /* short */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_LEN, p, 21, &rq), MP_EPROTO);  /* a value it has no use for */
  TU_CHECK(mp__mgr_decode_request(0, p, 20, &rq), MP_EPROTO);                 /* unknown op */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_OP_MAX + 1, p, 20, &rq), MP_EPROTO);
  mp__store_u32(p + 16, 5); /* a 5-byte key in a 4-byte tail */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_GET, p, 24, &rq), MP_EPROTO);
  memcpy(p + 20, "ab\0de", 5); /* a NUL inside the key */
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_GET, p, 25, &rq), MP_EPROTO);
  memcpy(p + 20, "abcde", 5);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_GET, p, 25, &rq), MP_OK);
  assert_int_equal(rq.keylen, 5);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_LEN, p, 25, &rq), MP_EPROTO); /* a key it has no use for */
  mp__store_u32(p + 16, MP_MANAGER_KEY_MAX + 1);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_DICT_GET, p, sizeof p, &rq), MP_EPROTO);
  memset(p, 0, sizeof p);
  TU_CHECK(mp__mgr_decode_request(MP__MGR_HELLO, p, 20 + 31, &rq), MP_EPROTO); /* token length */
  assert_int_equal(mp__mgr_reply_status(0), MP_OK);
  assert_int_equal(mp__mgr_reply_status(15), MP_ENOTFOUND);
  assert_int_equal(mp__mgr_reply_status(999), MP_EPROTO);
}

int main(int argc, char **argv) {
  MP_REGISTER(add_many);
  MP_REGISTER(read_big);
  MP_REGISTER(hammer);
  MP_REGISTER(open_late);
  MP_REGISTER(pool_add);
  /* Before mp_main: refused, in every process (spawned children too). */
  mp_manager *early = NULL;
  before_main_rc = mp_manager_start(&early);
  register_builtin_rc = mp_register(MP__MGR_TASK, open_late);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(before_mp_main_is_refused),
      TU_TEST(dicts_and_lists),
      TU_TEST(a_missing_key_reads_not_found),
      TU_TEST(values_of_zero_bytes_and_ten_mib),
      TU_TEST(concurrent_updates_from_four_processes),
      TU_TEST(threads_share_one_connection),
      TU_TEST(pool_workers_use_it_too),
      TU_TEST(a_manager_killed_mid_call_reads_closed),
      TU_TEST(after_shutdown_every_call_reads_closed),
      TU_TEST(free_ends_the_server),
      TU_TEST(bad_arguments),
      TU_TEST(strangers_and_garbage_are_dropped),
      TU_TEST(requests_are_decoded_strictly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
