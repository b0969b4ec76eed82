/* Queue: order, sizes, bounds, close, join-before-drain, joinable, dying
 * producers, and many processes at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

static mp_process *start_with(const char *task, mp_queue *q, const void *arg, size_t len) {
  mp_object *objs[1] = {mp_queue_obj(q)};
  mp_process_options o = {0};
  o.objects = objs;
  o.nobjects = 1;
  mp_process *p = NULL;
  TU_CHECK(mp_process_start(&p, task, arg, len, &o), MP_OK);
  return p;
}

static mp_result finish(mp_process *p) {
  mp_result r;
  TU_CHECK(mp_process_join(p, 120), MP_OK);
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  if (r.status != MP_OK) print_error("child: %s\n", r.message ? r.message : "?");
  assert_int_equal(r.status, MP_OK);
  mp_process_free(p);
  return r;
}

/* ------------------------------------------------------------- tasks */
typedef struct producer_arg {
  uint32_t id, count;
} producer_arg;

typedef struct item {
  uint32_t producer, seq;
} item;

static int producer(mp_call *call) {
  producer_arg a;
  if (mp_call_arg_read(call, &a, sizeof a) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  for (uint32_t i = 0; i < a.count; i++) {
    item it = {a.id, i};
    if (mp_queue_put(q, &it, sizeof it, 60) != MP_OK) return mp_call_fail(call, "put: %s", mp_last_error());
  }
  return 0;
}

/* Reads until the queue is closed and drained; reports per producer how
 * many it saw and the sum of their sequence numbers, and checks order. */
enum { MAX_PRODUCERS = 8 };
typedef struct consumer_report {
  uint64_t count[MAX_PRODUCERS], sum[MAX_PRODUCERS];
  uint32_t out_of_order;
} consumer_report;

static int consumer(mp_call *call) {
  mp_queue *q = mp_call_queue(call, 0);
  consumer_report rep;
  int64_t last[MAX_PRODUCERS];
  memset(&rep, 0, sizeof rep);
  for (int i = 0; i < MAX_PRODUCERS; i++) last[i] = -1;
  for (;;) {
    item it;
    size_t len;
    int rc = mp_queue_get_into(q, &it, sizeof it, &len, 60);
    if (rc == MP_ECLOSED) break;
    if (rc != MP_OK) return mp_call_fail(call, "get: %s", mp_last_error());
    if (len != sizeof it || it.producer >= MAX_PRODUCERS) return mp_call_fail(call, "bad item");
    if ((int64_t)it.seq <= last[it.producer]) rep.out_of_order++;
    last[it.producer] = it.seq;
    rep.count[it.producer]++;
    rep.sum[it.producer] += it.seq;
  }
  return mp_call_return(call, &rep, sizeof rep);
}

/* Puts its argument's count of 1 MiB messages, then returns at once. */
static int put_megabytes(mp_call *call) {
  uint32_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  size_t size = (size_t)1 << 20;
  unsigned char *buf = malloc(size);
  for (uint32_t i = 0; i < n; i++) {
    memset(buf, (int)(i + 1), size);
    if (mp_queue_put(q, buf, size, 0) != MP_OK) return mp_call_fail(call, "put: %s", mp_last_error());
  }
  free(buf);
  return 0;
}

/* A message whose every byte derives from its first 8: a torn one shows. */
static void fill_checked(unsigned char *p, size_t n, uint64_t seed) {
  memcpy(p, &seed, sizeof seed);
  for (size_t i = sizeof seed; i < n; i++) p[i] = (unsigned char)(seed * 31 + i * 7);
}

static int checked_ok(const unsigned char *p, size_t n) {
  uint64_t seed;
  if (n < sizeof seed) return 0;
  memcpy(&seed, p, sizeof seed);
  for (size_t i = sizeof seed; i < n; i++)
    if (p[i] != (unsigned char)(seed * 31 + i * 7)) return 0;
  return 1;
}

static int put_forever(mp_call *call) {
  mp_queue *q = mp_call_queue(call, 0);
  size_t size = 256 * 1024;
  unsigned char *buf = malloc(size);
  for (uint64_t i = 1;; i++) {
    fill_checked(buf, size, i);
    if (mp_queue_put(q, buf, size, MP_FOREVER) != MP_OK) break;
  }
  free(buf);
  return 0;
}

/* Counts messages until the queue is closed and drained; with a 1-byte
 * argument it also calls task_done after each. */
static int drain_count(mp_call *call) {
  mp_queue *q = mp_call_queue(call, 0);
  size_t arg_len;
  mp_call_arg(call, &arg_len);
  int done_each = arg_len == 1;
  uint32_t n = 0;
  for (;;) {
    void *m;
    size_t len;
    int rc = mp_queue_get(q, &m, &len, 30);
    if (rc == MP_ECLOSED) break;
    if (rc != MP_OK) return mp_call_fail(call, "get: %s", mp_last_error());
    mp_free(m);
    n++;
    if (done_each && mp_queue_task_done(q) != MP_OK)
      return mp_call_fail(call, "task_done: %s", mp_last_error());
  }
  return mp_call_return(call, &n, sizeof n);
}

/* ------------------------------------------------------------- tests */
static void fifo_and_sizes_in_one_process(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  size_t sizes[] = {0, 1, 64 * 1024 + 1, 7, tu_scale((size_t)100 << 20, (size_t)4 << 20), 3};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *m = malloc(sizes[i] + 8);
    fill_checked(m, sizes[i] + 8, i);
    TU_CHECK(mp_queue_put(q, m, sizes[i] + 8, 0), MP_OK);
    free(m);
  }
  size_t n = 0;
  TU_CHECK(mp_queue_qsize(q, &n), MP_OK);
  assert_int_equal(n, 6);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *m;
    size_t len;
    TU_CHECK(mp_queue_get(q, &m, &len, 0), MP_OK);
    assert_int_equal(len, sizes[i] + 8);
    assert_true(checked_ok(m, len));
    uint64_t seed;
    memcpy(&seed, m, sizeof seed);
    assert_true(seed == i);
    mp_free(m);
  }
  TU_CHECK(mp_queue_qsize(q, &n), MP_OK);
  assert_int_equal(n, 0);
  /* 0-byte messages are messages too. */
  TU_CHECK(mp_queue_put(q, NULL, 0, 0), MP_OK);
  size_t len = 99;
  TU_CHECK(mp_queue_get_into(q, NULL, 0, &len, 0), MP_OK);
  assert_int_equal(len, 0);
  mp_queue_free(q);
}

static void get_into_keeps_a_message_too_big(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_queue_put(q, "0123456789", 10, 0), MP_OK);
  char small[4], big[16];
  size_t len = 0;
  TU_CHECK(mp_queue_get_into(q, small, sizeof small, &len, 0), MP_ETOOBIG);
  assert_int_equal(len, 10);
  TU_CHECK(mp_queue_get_into(q, big, sizeof big, &len, 0), MP_OK);
  assert_memory_equal(big, "0123456789", 10);
  mp_queue_free(q);
}

static void bounded_blocking_and_timeouts(void **state) {
  (void)state;
  mp_queue *q;
  mp_queue_options o = {2, 0};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  void *m;
  size_t len;
  TU_CHECK(mp_queue_get(q, &m, &len, 0), MP_EEMPTY);
  double t0 = mp__now();
  TU_CHECK(mp_queue_get(q, &m, &len, 0.1), MP_ETIMEDOUT);
  assert_true(mp__now() - t0 >= 0.09 && mp__now() - t0 < 5);
  TU_CHECK(mp_queue_put(q, "a", 1, 0), MP_OK);
  TU_CHECK(mp_queue_put(q, "b", 1, 0), MP_OK);
  TU_CHECK(mp_queue_put(q, "c", 1, 0), MP_EFULL);
  t0 = mp__now();
  TU_CHECK(mp_queue_put(q, "c", 1, 0.1), MP_ETIMEDOUT);
  assert_true(mp__now() - t0 >= 0.09 && mp__now() - t0 < 5);
  /* A consumer in another process makes room for a blocked put. */
  mp_process *p = start_with("drain_count", q, NULL, 0);
  TU_CHECK(mp_queue_put(q, "c", 1, 30), MP_OK);
  TU_CHECK(mp_queue_put(q, "d", 1, 30), MP_OK);
  TU_CHECK(mp_queue_close(q), MP_OK);
  mp_result r = finish(p);
  assert_int_equal(*(uint32_t *)r.data, 4);
  mp_result_clear(&r);
  mp_queue_free(q);
}

static void close_then_drain(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_queue_put(q, "1", 1, 0), MP_OK);
  TU_CHECK(mp_queue_put(q, "2", 1, 0), MP_OK);
  TU_CHECK(mp_queue_close(q), MP_OK);
  TU_CHECK(mp_queue_close(q), MP_OK); /* twice is fine */
  TU_CHECK(mp_queue_put(q, "3", 1, 0), MP_ECLOSED);
  char c;
  size_t len;
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0), MP_OK);
  assert_int_equal(c, '1');
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0), MP_OK);
  assert_int_equal(c, '2');
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0), MP_ECLOSED);
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, MP_FOREVER), MP_ECLOSED); /* never blocks */
  mp_queue_free(q);
}

/* Python's trap: a child puts 10 MB and exits; the parent joins it before
 * reading. Here the data is in shared memory, so the join returns. */
static void join_before_drain(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  uint32_t n = 10;
  mp_process *p = start_with("put_megabytes", q, &n, sizeof n);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  mp_result r = finish(p);
  mp_result_clear(&r);
  size_t count = 0;
  TU_CHECK(mp_queue_qsize(q, &count), MP_OK);
  assert_int_equal(count, n);
  for (uint32_t i = 0; i < n; i++) {
    void *m;
    size_t len;
    TU_CHECK(mp_queue_get(q, &m, &len, 0), MP_OK);
    assert_int_equal(len, (size_t)1 << 20);
    assert_int_equal(((unsigned char *)m)[len - 1], (unsigned char)(i + 1));
    mp_free(m);
  }
  mp_queue_free(q);
}

static void four_by_four_processes(void **state) {
  (void)state;
  enum { P = 4, C = 4 };
  const uint32_t PER = (uint32_t)tu_scale(25000, 500);
  mp_queue *q;
  mp_queue_options o = {1000, 0};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  mp_process *cons[C], *prods[P];
  for (int i = 0; i < C; i++) cons[i] = start_with("consumer", q, NULL, 0);
  for (uint32_t i = 0; i < P; i++) {
    producer_arg a = {i, PER};
    prods[i] = start_with("producer", q, &a, sizeof a);
  }
  for (int i = 0; i < P; i++) {
    mp_result r = finish(prods[i]);
    mp_result_clear(&r);
  }
  TU_CHECK(mp_queue_close(q), MP_OK);
  uint64_t count[P] = {0}, sum[P] = {0};
  for (int i = 0; i < C; i++) {
    mp_result r = finish(cons[i]);
    consumer_report rep;
    assert_int_equal(r.len, sizeof rep);
    memcpy(&rep, r.data, sizeof rep);
    assert_int_equal(rep.out_of_order, 0);
    for (int k = 0; k < P; k++) {
      count[k] += rep.count[k];
      sum[k] += rep.sum[k];
    }
    mp_result_clear(&r);
  }
  /* Exactly once: the right count, and the sums of 0..PER-1. */
  for (int k = 0; k < P; k++) {
    assert_true(count[k] == PER);
    assert_true(sum[k] == (uint64_t)PER * (PER - 1) / 2);
  }
  mp_queue_free(q);
}

/* Kill a producer in the middle of 256 KiB puts, again and again: every
 * message that comes out is whole, and the queue keeps working. */
static void producers_killed_mid_put(void **state) {
  (void)state;
  mp_queue *q;
  mp_queue_options o = {8, 0};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  size_t got = 0;
  for (int round = 0; round < 20; round++) {
    mp_process *p = start_with("put_forever", q, NULL, 0);
    /* Let it fill the queue and block, or be mid-copy, then kill it. */
    for (int k = 0; k < round % 5; k++) {
      void *m;
      size_t len;
      if (mp_queue_get(q, &m, &len, 5) == MP_OK) {
        assert_true(checked_ok(m, len));
        mp_free(m);
        got++;
      }
    }
    mp__sleep(0.001 * (round % 7));
    TU_CHECK(mp_process_kill(p), MP_OK);
    TU_CHECK(mp_process_join(p, 30), MP_OK);
    mp_process_free(p);
  }
  for (;;) {
    void *m;
    size_t len;
    int rc = mp_queue_get(q, &m, &len, 0);
    if (rc == MP_EEMPTY) break;
    TU_CHECK(rc, MP_OK);
    assert_true(checked_ok(m, len));
    mp_free(m);
    got++;
  }
  assert_true(got > 0);
  TU_CHECK(mp_queue_put(q, "alive", 5, 0), MP_OK);
  char buf[8];
  size_t len;
  TU_CHECK(mp_queue_get_into(q, buf, sizeof buf, &len, 0), MP_OK);
  assert_memory_equal(buf, "alive", 5);
  mp_queue_free(q);
}

static void joinable_semantics(void **state) {
  (void)state;
  mp_queue *plain, *q;
  TU_CHECK(mp_queue_create(&plain, NULL), MP_OK);
  TU_CHECK(mp_queue_task_done(plain), MP_ESTATE);
  TU_CHECK(mp_queue_join(plain, 0), MP_ESTATE);
  mp_queue_free(plain);
  mp_queue_options o = {0, 1};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  TU_CHECK(mp_queue_join(q, 0), MP_OK); /* nothing put yet */
  TU_CHECK(mp_queue_task_done(q), MP_ESTATE);
  for (int i = 0; i < 5; i++) TU_CHECK(mp_queue_put(q, "x", 1, 0), MP_OK);
  TU_CHECK(mp_queue_join(q, 0.05), MP_ETIMEDOUT);
  mp_process *p = start_with("drain_count", q, "d", 1);
  TU_CHECK(mp_queue_join(q, 60), MP_OK);
  TU_CHECK(mp_queue_close(q), MP_OK);
  mp_result r = finish(p);
  assert_int_equal(*(uint32_t *)r.data, 5);
  mp_result_clear(&r);
  mp_queue_free(q);
}

/* One process freeing its queue leaves it working for the others. */
static void free_by_one_process_keeps_it_for_others(void **state) {
  (void)state;
  mp_queue *q;
  mp_queue_options o = {0, 1};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  for (int i = 0; i < 3; i++) TU_CHECK(mp_queue_put(q, "m", 1, 0), MP_OK);
  TU_CHECK(mp_queue_close(q), MP_OK);
  mp_process *p = start_with("drain_count", q, "d", 1);
  q = mp_queue_free(q);
  mp_result r = finish(p);
  assert_int_equal(*(uint32_t *)r.data, 3);
  mp_result_clear(&r);
}

static void bad_arguments(void **state) {
  (void)state;
  mp_queue *q;
  void *m;
  size_t n;
  TU_CHECK(mp_queue_create(NULL, NULL), MP_EINVAL);
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_queue_put(NULL, "x", 1, 0), MP_EINVAL);
  TU_CHECK(mp_queue_put(q, NULL, 1, 0), MP_EINVAL);
  TU_CHECK(mp_queue_put(q, "x", MP_QUEUE_MAX_MESSAGE + 1, 0), MP_ETOOBIG);
  TU_CHECK(mp_queue_get(NULL, &m, &n, 0), MP_EINVAL);
  TU_CHECK(mp_queue_get(q, NULL, &n, 0), MP_EINVAL);
  TU_CHECK(mp_queue_get_into(q, NULL, 4, &n, 0), MP_EINVAL);
  TU_CHECK(mp_queue_qsize(q, NULL), MP_EINVAL);
  TU_CHECK(mp_queue_close(NULL), MP_EINVAL);
  TU_CHECK(mp_queue_task_done(NULL), MP_EINVAL);
  TU_CHECK(mp_queue_join(NULL, 0), MP_EINVAL);
  assert_null(mp_queue_obj(NULL));
  assert_null(mp_call_queue(NULL, 0));
  assert_null(mp_queue_free(NULL));
  assert_null(mp_queue_free(q));
}

int main(int argc, char **argv) {
  MP_REGISTER(producer);
  MP_REGISTER(consumer);
  MP_REGISTER(put_megabytes);
  MP_REGISTER(put_forever);
  MP_REGISTER(drain_count);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(fifo_and_sizes_in_one_process),
      TU_TEST(get_into_keeps_a_message_too_big),
      TU_TEST(bounded_blocking_and_timeouts),
      TU_TEST(close_then_drain),
      TU_TEST(join_before_drain),
      TU_TEST(four_by_four_processes),
      TU_TEST(producers_killed_mid_put),
      TU_TEST(joinable_semantics),
      TU_TEST(free_by_one_process_keeps_it_for_others),
      TU_TEST(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
