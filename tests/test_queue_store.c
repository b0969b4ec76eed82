/* Queue store: a backlog up to the documented store, whatever the order of
 * puts and gets that built it; a put fails only when the store is really
 * full; a bounded queue is bounded by count, not by its ring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "queue.h"
#include "queue_ring.h"
#include "testutil.h"

#define MIB ((size_t)1 << 20)

/* Message i's bytes: a slice of one random buffer, so a torn, misplaced
 * or swapped message shows, and checking costs one memcmp. */
enum { SLICES = 4096 };
static unsigned char *source;
static size_t source_len;

static void need_source(size_t longest) {
  if (source_len >= longest + SLICES) return;
  free(source);
  source_len = longest + SLICES;
  source = malloc(source_len);
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < source_len; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    source[i] = (unsigned char)x;
  }
}

static const unsigned char *message(uint32_t i) { return source + (i * 2654435761u) % SLICES; }

static void put_ok(mp_queue *q, uint32_t i, size_t len) {
  int rc = mp_queue_put(q, message(i), len, 0);
  if (rc != MP_OK) print_error("put of message %u (%llu bytes): %s\n", i, (unsigned long long)len, mp_last_error());
  assert_int_equal(rc, MP_OK);
}

static void get_check(mp_queue *q, uint32_t i, size_t len) {
  void *m;
  size_t n;
  TU_CHECK(mp_queue_get(q, &m, &n, 10), MP_OK);
  assert_int_equal(n, len);
  if (len && memcmp(m, message(i), len) != 0) fail_msg("message %u came out changed", i);
  mp_free(m);
}

static void expect_empty(mp_queue *q) {
  void *m;
  size_t n;
  TU_CHECK(mp_queue_get(q, &m, &n, 0), MP_EEMPTY);
}

/* 64 messages of 1 MiB, 2 gets, then a backlog that grows on: the old ring
 * wrapped at its 64 MiB warm window and failed the next put. */
static void backlog_after_two_gets(void **state) {
  (void)state;
  uint32_t more = (uint32_t)tu_scale(200, 100);
  need_source(MIB);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  for (uint32_t i = 0; i < 64; i++) put_ok(q, i, MIB);
  get_check(q, 0, MIB);
  get_check(q, 1, MIB);
  for (uint32_t i = 64; i < 64 + more; i++) put_ok(q, i, MIB);
  size_t n = 0;
  TU_CHECK(mp_queue_qsize(q, &n), MP_OK);
  assert_int_equal(n, 62 + more);
  for (uint32_t i = 2; i < 64 + more; i++) get_check(q, i, MIB);
  expect_empty(q);
  mp_queue_free(q);
}

/* 2 × 32 MiB queued after gets moved the consumers past the start, then
 * more of the same. */
static void big_messages_after_gets(void **state) {
  (void)state;
  size_t big = 32 * MIB;
  need_source(big);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  put_ok(q, 0, big);
  put_ok(q, 1, big);
  get_check(q, 0, big);
  put_ok(q, 2, big);
  get_check(q, 1, big);
  put_ok(q, 3, big); /* 2 and 3 queued */
  put_ok(q, 4, big);
  put_ok(q, 5, big);
  for (uint32_t i = 2; i < 6; i++) get_check(q, i, big);
  expect_empty(q);
  mp_queue_free(q);
}

/* A consumer slower than its producer: two puts for every get. */
static void slower_consumer(void **state) {
  (void)state;
  uint32_t rounds = (uint32_t)tu_scale(300, 100), put = 0, got = 0;
  need_source(MIB);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  for (uint32_t r = 0; r < rounds; r++) {
    put_ok(q, put, MIB);
    put++;
    put_ok(q, put, MIB);
    put++;
    get_check(q, got, MIB);
    got++;
  }
  while (got < put) get_check(q, got++, MIB);
  expect_empty(q);
  mp_queue_free(q);
}

/* 1 GiB queued before anyone reads, in mixed sizes; then read back. */
static void gigabyte_backlog_of_mixed_sizes(void **state) {
  (void)state;
  static const size_t sizes[] = {MIB, 0, 7, 300 * 1024, 64 * 1024 + 1, 3 * MIB, 100, 17 * MIB + 5};
  enum { KINDS = sizeof sizes / sizeof sizes[0] };
  uint64_t target = tu_scale((size_t)1 << 30, (size_t)128 << 20), total = 0;
  need_source(17 * MIB + 5);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  uint32_t n = 0;
  for (; total < target; n++) {
    put_ok(q, n, sizes[n % KINDS]);
    total += sizes[n % KINDS];
  }
  for (uint32_t i = 0; i < n; i++) get_check(q, i, sizes[i % KINDS]);
  expect_empty(q);
  mp_queue_free(q);
}

/* A child puts its count of 1 MiB messages as fast as it can, each with
 * timeout 0 (an unbounded put never waits), while the parent reads. */
static int flood(mp_call *call) {
  uint32_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  need_source(MIB);
  for (uint32_t i = 0; i < n; i++) {
    int rc = mp_queue_put(q, message(i), MIB, 0);
    if (rc != MP_OK) return mp_call_fail(call, "put %u: %s: %s", i, mp_err_name(rc), mp_last_error());
  }
  return 0;
}

static void producer_process_floods_while_parent_reads(void **state) {
  (void)state;
  uint32_t n = (uint32_t)tu_scale(2000, 150);
  need_source(MIB);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  mp_object *objs[1] = {mp_queue_obj(q)};
  mp_process *p = tu_start("flood", objs, 1, &n, sizeof n);
  unsigned char *buf = malloc(MIB);
  for (uint32_t i = 0; i < n; i++) {
    size_t len = 0;
    TU_CHECK(mp_queue_get_into(q, buf, MIB, &len, 60), MP_OK);
    assert_int_equal(len, MIB);
    if (memcmp(buf, message(i), MIB) != 0) fail_msg("message %u came out changed", i);
  }
  free(buf);
  mp_result r = tu_finish(p, 60);
  mp_result_clear(&r);
  expect_empty(q);
  mp_queue_free(q);
}

/* Bounded means by count: a maxsize-100 queue takes 100 messages of 1 MiB,
 * whatever gets came in between, and the 101st finds it full. */
static void bounded_by_count_not_by_ring(void **state) {
  (void)state;
  need_source(MIB);
  mp_queue *q;
  mp_queue_options o = {100, 0};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  for (uint32_t i = 0; i < 64; i++) put_ok(q, i, MIB);
  get_check(q, 0, MIB);
  get_check(q, 1, MIB);
  for (uint32_t i = 64; i < 102; i++) put_ok(q, i, MIB);
  TU_CHECK(mp_queue_put(q, message(102), MIB, 0), MP_EFULL);
  get_check(q, 2, MIB);
  put_ok(q, 102, MIB);
  for (uint32_t i = 3; i < 103; i++) get_check(q, i, MIB);
  expect_empty(q);
  mp_queue_free(q);
}

/* What the header promises: a put fails for want of room only when the
 * messages queued and this one, each counted as its length rounded up to
 * 16 plus 32 bytes, come to more than the store; and a message that could
 * never fit is MP_ETOOBIG. */
static void store_full_means_really_full(void **state) {
  (void)state;
  const uint64_t store = 1 << 20, warm = 64 * 1024;
  need_source(300 * 1024);
  for (int bounded = 0; bounded < 2; bounded++) {
    mp_queue *q;
    mp_queue_options o = {bounded ? 100000 : 0, 0};
    TU_CHECK(mp__queue_create_sized(&q, &o, store, warm), MP_OK);
    TU_CHECK(mp_queue_put(q, message(0), (size_t)store, 0), MP_ETOOBIG);
    uint64_t cost = 0;
    uint32_t n = 0;
    size_t len;
    int rc;
    for (;; n++) {
      len = (size_t)(n * 7919u) % (40 * 1024);
      rc = mp_queue_put(q, message(n), len, 0);
      if (rc != MP_OK) break;
      cost += mp__ring_message_cost(len);
    }
    TU_CHECK(rc, bounded ? MP_EFULL : MP_ENOMEM);
    assert_true(cost + mp__ring_message_cost(len) > store);
    /* Taking one out makes room for one of its size again. */
    size_t first = 0;
    get_check(q, 0, first);
    len = (size_t)(1 * 7919u) % (40 * 1024);
    get_check(q, 1, len);
    put_ok(q, n, len);
    for (uint32_t i = 2; i < n; i++) get_check(q, i, (size_t)(i * 7919u) % (40 * 1024));
    get_check(q, n, len);
    expect_empty(q);
    mp_queue_free(q);
  }
}

int main(int argc, char **argv) {
  MP_REGISTER(flood);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(backlog_after_two_gets),
      TU_TEST(big_messages_after_gets),
      TU_TEST(slower_consumer),
      TU_TEST(gigabyte_backlog_of_mixed_sizes),
      TU_TEST(producer_process_floods_while_parent_reads),
      TU_TEST(bounded_by_count_not_by_ring),
      TU_TEST(store_full_means_really_full),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  free(source);
  return failed;
}
