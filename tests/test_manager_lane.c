/* Manager lanes (src/manager_lane.c): calls through shared memory, with
 * the socket as doorbell and liveness signal. Clients that die free their
 * lane, a server that dies is MP_ECLOSED, clients beyond the lane count
 * and values beyond a lane's size take the socket, and a client that
 * scribbles on its lane loses only its own session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager.h"
#include "manager_lane.h"
#include "manager_wire.h"
#include "platform.h"
#include "testutil.h"

#define WORKERS 4
#define DEATHS 40

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

static int64_t counter(mp_dict *d, const char *key) {
  int64_t v = -1;
  TU_CHECK(mp_dict_add_i64(d, key, 0, &v), MP_OK);
  return v;
}

/* ------------------------------------------------------------ tasks */
/* Adds 1 to "count" n times, through its lane; fails if it got none. */
static int lane_adder(mp_call *call) {
  int n;
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK || mp_manager_dict(m, "lane", &d) != MP_OK)
    return mp_call_fail(call, "open: %s", mp_last_error());
  if (mp__manager_lane(m) < 0) return mp_call_fail(call, "no lane");
  for (int i = 0; i < n; i++)
    if (mp_dict_add_i64(d, "count", 1, NULL) != MP_OK) return mp_call_fail(call, "add: %s", mp_last_error());
  mp_dict_free(d);
  int ok = 0;
  return mp_call_return(call, &ok, sizeof ok);
}

/* Reads "big" (10 MiB) with a lane, checks it, and writes it back as
 * "back". */
static int big_both_ways(mp_call *call) {
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  void *v = NULL;
  size_t n = 0, big = (size_t)10 << 20;
  if (mp_manager_dict(m, "lane", &d) != MP_OK || mp_dict_get(d, "big", &v, &n) != MP_OK)
    return mp_call_fail(call, "%s", mp_last_error());
  if (mp__manager_lane(m) < 0) return mp_call_fail(call, "no lane");
  void *want = tu_pattern(big, 7);
  int same = n == big && memcmp(v, want, n) == 0;
  free(want);
  if (mp_dict_set(d, "back", v, n) != MP_OK) return mp_call_fail(call, "set: %s", mp_last_error());
  mp_free(v);
  /* Small calls on the lane still work after the big ones. */
  int64_t now = 0;
  if (mp_dict_add_i64(d, "after", 1, &now) != MP_OK || now != 1) return mp_call_fail(call, "add: %s", mp_last_error());
  mp_dict_free(d);
  return mp_call_return(call, &same, sizeof same);
}

/* Beats "beats" through its lane until it is killed. */
static int beat_forever(mp_call *call) {
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  if (mp_manager_dict(m, "lane", &d) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  if (mp__manager_lane(m) < 0 && mp_dict_add_i64(d, "laneless", 1, NULL) != MP_OK) return 1;
  for (;;)
    if (mp_dict_add_i64(d, "beats", 1, NULL) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
}

/* Calls until one fails; returns that status. */
static int lane_hammer(mp_call *call) {
  mp_manager *m = mp_call_manager(call, 0);
  mp_dict *d = NULL;
  int rc = mp_manager_dict(m, "lane", &d);
  if (rc == MP_OK && mp__manager_lane(m) < 0) return mp_call_fail(call, "no lane");
  if (rc == MP_OK) rc = mp_dict_add_i64(d, "started", 1, NULL);
  while (rc == MP_OK) rc = mp_dict_set(d, "k", "value", 5);
  mp_dict_free(d);
  return mp_call_return(call, &rc, sizeof rc);
}

/* ------------------------------------------------------------ tests */
static void a_call_goes_through_a_lane(void **state) {
  (void)state;
  mp_manager *m = start();
  assert_int_equal(mp__manager_lane(m), -1); /* not connected yet */
  mp_dict *d;
  void *v;
  size_t n;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  int lane = mp__manager_lane(m);
  assert_true(lane >= 0 && lane < (int)MP__LANE_COUNT);
  for (int i = 0; i < 1000; i++) {
    char key[32], val[32];
    snprintf(key, sizeof key, "k%d", i % 17);
    snprintf(val, sizeof val, "value %d", i);
    TU_CHECK(mp_dict_set(d, key, val, strlen(val)), MP_OK);
    TU_CHECK(mp_dict_get(d, key, &v, &n), MP_OK);
    assert_int_equal(n, strlen(val));
    assert_memory_equal(v, val, n);
    mp_free(v);
  }
  /* Failures travel on the lane too, with their text. */
  TU_CHECK(mp_dict_get(d, "missing", &v, &n), MP_ENOTFOUND);
  assert_non_null(strstr(mp_last_error(), "missing"));
  TU_CHECK(mp_dict_set(d, "text", "abc", 3), MP_OK);
  TU_CHECK(mp_dict_add_i64(d, "text", 1, NULL), MP_EINVAL);
  TU_CHECK(mp_dict_len(d, &n), MP_OK);
  assert_int_equal(n, 18);
  /* A value that just fits a lane, and one just over. */
  size_t fit = MP__LANE_AREA - MP__MGR_FIXED - 4;
  for (size_t len = fit - 1; len <= fit + 2; len++) {
    void *p = tu_pattern(len, (unsigned)len);
    TU_CHECK(mp_dict_set(d, "edge", p, len), MP_OK);
    TU_CHECK(mp_dict_get(d, "edge", &v, &n), MP_OK);
    assert_int_equal(n, len);
    assert_true(memcmp(v, p, len) == 0);
    mp_free(v);
    free(p);
  }
  assert_int_equal(mp__manager_lane(m), lane); /* the same lane throughout */
  mp_dict_free(d);
  mp_manager_free(m);
}

static void four_processes_count_exactly(void **state) {
  (void)state;
  mp_manager *m = start();
  int n = (int)tu_scale(20000, 2000);
  mp_process *ps[WORKERS];
  for (int i = 0; i < WORKERS; i++) ps[i] = start_with("lane_adder", m, &n, sizeof n);
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  /* The owner adds meanwhile, on its own lane. */
  for (int i = 0; i < n; i++) TU_CHECK(mp_dict_add_i64(d, "count", 1, NULL), MP_OK);
  for (int i = 0; i < WORKERS; i++) assert_int_equal(tu_finish_int(ps[i], 300), 0);
  assert_int_equal(counter(d, "count"), (int64_t)(WORKERS + 1) * n);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void ten_mib_both_ways(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  mp_list *l;
  void *v;
  size_t n, big = (size_t)10 << 20;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  TU_CHECK(mp_manager_list(m, "lane", &l), MP_OK);
  assert_true(mp__manager_lane(m) >= 0);
  void *p = tu_pattern(big, 7);
  TU_CHECK(mp_dict_set(d, "big", p, big), MP_OK); /* over the socket */
  TU_CHECK(mp_list_append(l, p, big), MP_OK);
  TU_CHECK(mp_dict_get(d, "big", &v, &n), MP_OK); /* asked on the lane, answered on the socket */
  assert_int_equal(n, big);
  assert_true(memcmp(v, p, big) == 0);
  mp_free(v);
  TU_CHECK(mp_list_get(l, 0, &v, &n), MP_OK);
  assert_int_equal(n, big);
  assert_true(memcmp(v, p, big) == 0);
  mp_free(v);
  assert_int_equal(tu_finish_int(start_with("big_both_ways", m, NULL, 0), 300), 1);
  TU_CHECK(mp_dict_get(d, "back", &v, &n), MP_OK);
  assert_int_equal(n, big);
  assert_true(memcmp(v, p, big) == 0);
  mp_free(v);
  free(p);
  assert_int_equal(counter(d, "after"), 1);
  assert_true(mp__manager_lane(m) >= 0); /* still on its lane */
  mp_list_free(l);
  mp_dict_free(d);
  mp_manager_free(m);
}

/* n twins of m, each connected; returns how many got a lane. */
static int connect_twins(mp_manager *m, mp_manager **twins, mp_dict **ds, int n) {
  int with_lane = 0;
  for (int i = 0; i < n; i++) {
    TU_CHECK(mp__manager_twin(m, &twins[i]), MP_OK);
    TU_CHECK(mp_manager_dict(twins[i], "lane", &ds[i]), MP_OK);
    with_lane += mp__manager_lane(twins[i]) >= 0;
  }
  return with_lane;
}

static void free_twins(mp_manager **twins, mp_dict **ds, int n) {
  for (int i = 0; i < n; i++) {
    mp_dict_free(ds[i]);
    mp__manager_release(twins[i]);
  }
}

/* Every lane but the owner's is free again: the server notices a closed
 * connection a moment after it closes, hence the retries. */
static void all_lanes_come_back(mp_manager *m) {
  enum { N = MP__LANE_COUNT - 1 };
  mp_manager *twins[N];
  mp_dict *ds[N];
  int got = 0;
  for (double until = mp__now() + 30; got < N && mp__now() < until;) {
    got = connect_twins(m, twins, ds, N);
    free_twins(twins, ds, N);
    if (got < N) mp__sleep(0.05);
  }
  assert_int_equal(got, N);
}

static void more_clients_than_lanes_use_the_socket(void **state) {
  (void)state;
  enum { N = MP__LANE_COUNT + 8 };
  mp_manager *m = start();
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  assert_true(mp__manager_lane(m) >= 0);
  mp_manager *twins[N];
  mp_dict *ds[N];
  /* The owner holds one lane; the twins get the other 31, then none. */
  assert_int_equal(connect_twins(m, twins, ds, N), MP__LANE_COUNT - 1);
  for (int i = 0; i < N; i++) assert_true((mp__manager_lane(twins[i]) >= 0) == (i < (int)MP__LANE_COUNT - 1));
  for (int round = 0; round < 50; round++)
    for (int i = 0; i < N; i++) TU_CHECK(mp_dict_add_i64(ds[i], "count", 1, NULL), MP_OK);
  assert_int_equal(counter(d, "count"), 50 * N);
  free_twins(twins, ds, N);
  all_lanes_come_back(m);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void clients_killed_mid_call_free_their_lanes(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  for (int i = 0; i < DEATHS; i++) {
    int64_t before = counter(d, "beats");
    mp_process *p = start_with("beat_forever", m, NULL, 0);
    /* Killed once it is well into its calls. */
    double until = mp__now() + 120;
    while (counter(d, "beats") < before + 100 && mp__now() < until) mp__sleep(0.001);
    assert_true(counter(d, "beats") >= before + 100);
    TU_CHECK(mp_process_kill(p), MP_OK);
    TU_CHECK(mp_process_join(p, 60), MP_OK);
    mp_process_free(p);
  }
  assert_int_equal(counter(d, "laneless"), 0);
  all_lanes_come_back(m);
  /* And a process started now gets one too. */
  int n = 100;
  assert_int_equal(tu_finish_int(start_with("lane_adder", m, &n, sizeof n), 300), 0);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void a_server_killed_under_lane_calls_reads_closed(void **state) {
  (void)state;
  mp_manager *m = start();
  int64_t pid = mp__manager_server_pid(m);
  mp_process *ps[2];
  for (int i = 0; i < 2; i++) ps[i] = start_with("lane_hammer", m, NULL, 0);
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  double until = mp__now() + 120;
  while (counter(d, "started") < 2 && mp__now() < until) mp__sleep(0.01);
  assert_int_equal(counter(d, "started"), 2);
  mp__sleep(0.05);
  TU_CHECK(mp__pid_kill(pid), MP_OK);
  double killed = mp__now();
  for (int i = 0; i < 2; i++) assert_int_equal(tu_finish_int(ps[i], 300), MP_ECLOSED);
  /* Within seconds (a hang would be the whole join timeout). */
  assert_true(mp__now() - killed < 60);
  int64_t v;
  TU_CHECK(mp_dict_add_i64(d, "started", 0, &v), MP_ECLOSED);
  mp_dict_free(d);
  TU_CHECK(mp_manager_shutdown(m), MP_OK);
  mp_manager_free(m);
}

/* Publishes a raw lane request (op, len, body) as call seq. */
static void scribble(mp__lane *l, uint32_t seq, uint32_t op, uint32_t len, const void *body, size_t n) {
  if (n) memcpy(mp__lane_req_area(l), body, n);
  l->req_op = op;
  l->req_len = len;
  mp__atomic_store32(&l->req_seq, seq);
  mp__atomic_store32(&l->server_sleeping, 0);
}

/* Connects by hand, says HELLO, asks for a lane: its index. */
static uint32_t raw_lane_client(mp_manager *m, const uint8_t *token, mp__handle *rd, mp__handle *wr) {
  mp__mgr_request rq;
  mp__frame_reader r;
  mp__frame_header h;
  uint8_t body[8];
  TU_CHECK(mp__endpoint_connect(mp__manager_endpoint(m), rd, wr, 30), MP_OK);
  mp__frame_reader_init(&r, *rd, 1 << 20);
  memset(&rq, 0, sizeof rq);
  rq.op = MP__MGR_HELLO;
  rq.num = MP__MGR_PROTOCOL;
  rq.value = token;
  rq.vlen = MP__MGR_TOKEN_LEN;
  TU_CHECK(mp__mgr_write_request(*wr, 1, &rq), MP_OK);
  TU_CHECK(mp__frame_read_header(&r, 30, &h), MP_OK);
  TU_CHECK(mp__frame_read_body(&r, body, 30, NULL), MP_OK);
  memset(&rq, 0, sizeof rq);
  rq.op = MP__MGR_LANE;
  TU_CHECK(mp__mgr_write_request(*wr, 2, &rq), MP_OK);
  TU_CHECK(mp__frame_read_header(&r, 30, &h), MP_OK);
  assert_int_equal(h.len, 8);
  TU_CHECK(mp__frame_read_body(&r, body, 30, NULL), MP_OK);
  mp__frame_reader_release(&r);
  uint64_t index = mp__load_u64(body);
  assert_true(index < MP__LANE_COUNT);
  return (uint32_t)index;
}

/* Reads until the server hangs up (doorbells and replies are skipped). */
static void expect_hang_up(mp__handle rd) {
  uint8_t buf[256];
  size_t got;
  int rc;
  double until = mp__now() + 30;
  while ((rc = mp__read(rd, buf, sizeof buf, &got, 1.0)) == MP_OK || rc == MP_ETIMEDOUT)
    if (mp__now() > until) break;
  assert_int_equal(rc, MP_ECLOSED);
}

static void garbage_on_a_lane_ends_that_session_only(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_dict *d;
  TU_CHECK(mp_manager_dict(m, "lane", &d), MP_OK);
  TU_CHECK(mp_dict_set(d, "k", "v", 1), MP_OK);
  /* The token, as the manager's description carries it. */
  mp_object *o = mp_manager_obj(m);
  mp__handle hs[MP__OBJECT_MAX_HANDLES];
  size_t nh = 0;
  mp__buf blob;
  mp__buf_init(&blob);
  TU_CHECK(o->ops->export_to(o, hs, &nh, &blob), MP_OK);
  mp__rd r;
  char name[MP__ENDPOINT_NAME_MAX];
  mp__rd_init(&r, blob.data, blob.len);
  assert_int_equal(mp__rd_u32(&r), 2);
  assert_int_equal(mp__rd_str(&r, name, sizeof name), 0);
  uint8_t token[MP__MGR_TOKEN_LEN];
  memcpy(token, mp__rd_take(&r, sizeof token), sizeof token);
  uint8_t meta[MP__MGR_FIXED];
  memset(meta, 0, sizeof meta);
  struct {
    uint32_t seq, op, len;
  } bad[] = {
      {1, MP__MGR_DICT_LEN, MP__LANE_AREA + 1},   /* longer than the area */
      {1, MP__MGR_DICT_LEN, 0xFFFFFFFFu},         /* far longer */
      {1, 999, MP__MGR_FIXED},                    /* no such op */
      {1, MP__MGR_HELLO, MP__MGR_FIXED},          /* socket-only ops */
      {1, MP__MGR_LANE, MP__MGR_FIXED},
      {7, MP__MGR_DICT_LEN, MP__MGR_FIXED},       /* a sequence number out of turn */
      {1, MP__MGR_DICT_LEN, 3},                   /* shorter than its fields */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mp__handle rd, wr;
    uint32_t index = raw_lane_client(m, token, &rd, &wr);
    mp__lane *l = mp__lane_at(mp__manager_lanes(m), index);
    scribble(l, bad[i].seq, bad[i].op, bad[i].len, meta, sizeof meta);
    /* The server may be asleep on the socket: ring. */
    uint8_t head[MP__FRAME_HEADER_SIZE];
    mp__frame_header bell = {MP__FRAME_MGR_DOORBELL, 0, 0, 0};
    mp__frame_header_encode(&bell, head);
    (void)mp__write_all(wr, head, sizeof head);
    expect_hang_up(rd);
    mp__handle_close(rd);
    mp__handle_close(wr);
    /* Everyone else carries on. */
    void *v;
    size_t n;
    TU_CHECK(mp_dict_get(d, "k", &v, &n), MP_OK);
    mp_free(v);
  }
  mp__buf_release(&blob);
  all_lanes_come_back(m);
  mp_dict_free(d);
  mp_manager_free(m);
}

static void hostile_descriptions_are_refused(void **state) {
  (void)state;
  mp_manager *m = start();
  mp_object *o = mp_manager_obj(m);
  mp__handle hs[MP__OBJECT_MAX_HANDLES];
  size_t nh = 0;
  mp__buf blob;
  mp__buf_init(&blob);
  TU_CHECK(o->ops->export_to(o, hs, &nh, &blob), MP_OK);
  assert_int_equal(nh, 1);
  mp_object *out = NULL;
  uint8_t *copy = malloc(blob.len + 8);
  /* Every truncation, a wrong version, no handle, and a wrong size. */
  for (size_t len = 0; len < blob.len; len++)
    TU_CHECK(mp__object_import(MP__KIND_MANAGER, hs, nh, blob.data, len, &out), MP_EPROTO);
  memcpy(copy, blob.data, blob.len);
  copy[0] ^= 1;
  TU_CHECK(mp__object_import(MP__KIND_MANAGER, hs, nh, copy, blob.len, &out), MP_EPROTO);
  TU_CHECK(mp__object_import(MP__KIND_MANAGER, hs, 0, blob.data, blob.len, &out), MP_EPROTO);
  memcpy(copy, blob.data, blob.len);
  copy[blob.len - 8] ^= 0x10; /* the region's size */
  TU_CHECK(mp__object_import(MP__KIND_MANAGER, hs, nh, copy, blob.len, &out), MP_EPROTO);
  memcpy(copy, blob.data, blob.len);
  memset(copy + blob.len, 0, 8);
  TU_CHECK(mp__object_import(MP__KIND_MANAGER, hs, nh, copy, blob.len + 8, &out), MP_EPROTO);
  assert_null(out);
  free(copy);
  mp__buf_release(&blob);
  mp_manager_free(m);
}

int main(int argc, char **argv) {
  MP_REGISTER(lane_adder);
  MP_REGISTER(big_both_ways);
  MP_REGISTER(beat_forever);
  MP_REGISTER(lane_hammer);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(a_call_goes_through_a_lane),
      TU_TEST(four_processes_count_exactly),
      TU_TEST(ten_mib_both_ways),
      TU_TEST(more_clients_than_lanes_use_the_socket),
      TU_TEST(clients_killed_mid_call_free_their_lanes),
      TU_TEST(a_server_killed_under_lane_calls_reads_closed),
      TU_TEST(garbage_on_a_lane_ends_that_session_only),
      TU_TEST(hostile_descriptions_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
