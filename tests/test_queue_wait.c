/* Queue waits: every call keeps its timeout, and calls that never block do
 * not, while another process is slow or stopped in the middle of a put;
 * and a wake-up reaches whoever can use it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "queue.h"
#include "testutil.h"

#define MIB ((size_t)1 << 20)

/* ------------------------------------------------------------- tasks */
/* A producer that stops where it is told to, says so, and sleeps until it
 * is killed: a process stopped (or just slow) at that point of its put. */
static mp_event *stopped;
static int stop_where;

static mp_event *resume; /* set: stop_here lets the put go on */

static void stop_here(int where) {
  if (where != stop_where) return;
  mp_event_set(stopped);
  if (resume) {
    mp_event_wait(resume, 120);
    return;
  }
  for (;;) mp__sleep(1);
}

typedef struct stall_arg {
  uint64_t len;
  int64_t where; /* as wide as len: no padding */
} stall_arg;

static int stall_in_put(mp_call *call) {
  stall_arg a;
  if (mp_call_arg_read(call, &a, sizeof a) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  stopped = mp_call_event(call, 1);
  resume = mp_call_event(call, 2);
  unsigned char *buf = calloc(1, (size_t)a.len);
  if (!q || !stopped || !buf) return mp_call_fail(call, "bad setup");
  stop_where = (int)a.where;
  mp__queue_put_pause = stop_here;
  int rc = mp_queue_put(q, buf, (size_t)a.len, MP_FOREVER);
  free(buf);
  if (resume) return rc == MP_OK ? 0 : mp_call_fail(call, "put: %s", mp_last_error());
  return mp_call_fail(call, "the put came back");
}

/* Takes one message with get_into into a buffer of its argument's size
 * (0: mp_queue_get), waiting up to CHILD_WAIT; returns the code and the
 * length. The parent waits for it much less long: a child that only got
 * its message when its own time ran out fails the test. */
#define CHILD_WAIT 200.0
#define PARENT_WAIT 30.0
typedef struct got {
  int64_t rc; /* as wide as len: no padding goes out uninitialised */
  uint64_t len;
} got;

static int getter(mp_call *call) {
  uint64_t cap;
  if (mp_call_arg_read(call, &cap, sizeof cap) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  got g = {0, 0};
  size_t len = 0;
  if (cap) {
    void *buf = malloc((size_t)cap);
    g.rc = mp_queue_get_into(q, buf, (size_t)cap, &len, CHILD_WAIT);
    free(buf);
  } else {
    void *m = NULL;
    g.rc = mp_queue_get(q, &m, &len, CHILD_WAIT);
    mp_free(m);
  }
  g.len = len;
  return mp_call_return(call, &g, sizeof g);
}

/* Puts one message of its argument's size, waiting up to CHILD_WAIT for
 * room; returns the code. */
static int putter(mp_call *call) {
  uint64_t len;
  if (mp_call_arg_read(call, &len, sizeof len) != MP_OK) return 1;
  mp_queue *q = mp_call_queue(call, 0);
  void *buf = calloc(1, (size_t)len);
  got g = {mp_queue_put(q, buf, (size_t)len, CHILD_WAIT), len};
  free(buf);
  return mp_call_return(call, &g, sizeof g);
}

/* ------------------------------------------------------------- helpers */
static mp_process *start_stalled(mp_queue *q, mp_event *e, uint64_t len, int where) {
  mp_object *objs[2] = {mp_queue_obj(q), mp_event_obj(e)};
  stall_arg a = {len, where};
  mp_process *p = tu_start("stall_in_put", objs, 2, &a, sizeof a);
  TU_CHECK(mp_event_wait(e, 60), MP_OK);
  return p;
}

static void kill_and_reap(mp_process *p) {
  TU_CHECK(mp_process_kill(p), MP_OK);
  TU_CHECK(mp_process_join(p, 30), MP_OK);
  mp_process_free(p);
}

static got finish_got(mp_process *p) {
  mp_result r = tu_finish(p, PARENT_WAIT);
  got g;
  assert_int_equal(r.len, sizeof g);
  memcpy(&g, r.data, sizeof g);
  mp_result_clear(&r);
  return g;
}

static void wait_sleepers(mp_queue *q, int putters, uint32_t n) {
  double until = mp__now() + 60;
  while (mp__queue_sleepers(q, putters) < n && mp__now() < until) mp__sleep(0.001);
  assert_true(mp__queue_sleepers(q, putters) >= n);
  /* Announced comes just before asleep: give the last one the time to get
   * there, or the wake would find it still looking. (Too short a time
   * under a slow runner only lets the test pass on a queue that would
   * fail it.) */
  mp__sleep(0.2);
}

static void get_expect(mp_queue *q, const char *text, double timeout) {
  char buf[16];
  size_t len = 0;
  TU_CHECK(mp_queue_get_into(q, buf, sizeof buf, &len, timeout), MP_OK);
  assert_int_equal(len, strlen(text));
  assert_memory_equal(buf, text, len);
}

/* ------------------------------------------------------------- tests */
/* Another process stopped in the middle of copying a large message holds
 * no lock: an unbounded put and close return at once, a get keeps its
 * timeout (the message at the head is not whole yet), and once that
 * process is killed its message is skipped and the rest come out. */
static void a_stalled_copy_blocks_no_one(void **state) {
  (void)state;
  mp_queue *q;
  mp_event *e;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_event_create(&e), MP_OK);
  mp_process *p = start_stalled(q, e, tu_scale(64 * MIB, 4 * MIB), MP__QUEUE_PAUSE_COPYING);
  TU_CHECK(mp_queue_put(q, "x", 1, 0), MP_OK);
  TU_CHECK(mp_queue_put(q, "y", 1, 0.05), MP_OK);
  size_t n = 0;
  TU_CHECK(mp_queue_qsize(q, &n), MP_OK);
  assert_int_equal(n, 3);
  char c;
  size_t len;
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0), MP_EEMPTY);
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0.05), MP_ETIMEDOUT);
  TU_CHECK(mp_queue_close(q), MP_OK);
  TU_CHECK(mp_queue_put(q, "z", 1, 0), MP_ECLOSED);
  kill_and_reap(p);
  get_expect(q, "x", 30);
  get_expect(q, "y", 0);
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0), MP_ECLOSED);
  mp_event_free(e);
  mp_queue_free(q);
}

/* A joinable queue does not wait for the message a dead producer never
 * finished. */
static void a_dead_producers_message_is_not_waited_for(void **state) {
  (void)state;
  mp_queue *q;
  mp_event *e;
  mp_queue_options o = {0, 1};
  TU_CHECK(mp_queue_create(&q, &o), MP_OK);
  TU_CHECK(mp_event_create(&e), MP_OK);
  TU_CHECK(mp_queue_put(q, "a", 1, 0), MP_OK);
  mp_process *p = start_stalled(q, e, 4096, MP__QUEUE_PAUSE_COPYING);
  TU_CHECK(mp_queue_put(q, "b", 1, 0), MP_OK);
  kill_and_reap(p);
  get_expect(q, "a", 0);
  TU_CHECK(mp_queue_task_done(q), MP_OK);
  get_expect(q, "b", 0);
  TU_CHECK(mp_queue_task_done(q), MP_OK);
  TU_CHECK(mp_queue_join(q, 10), MP_OK);
  mp_event_free(e);
  mp_queue_free(q);
}

/* The producer of the record a get found still being copied finishes it,
 * is told MP_OK, and ends, all before the get looks at whether it lives:
 * the get must take the message, not skip it as a dead producer's. */
static mp_process *finishing;
static mp_event *go_on;

static void finish_the_producer(void) {
  mp__queue_owner_check_pause = NULL;
  TU_CHECK(mp_event_set(go_on), MP_OK);
  mp_result r = tu_finish(finishing, 60);
  mp_result_clear(&r);
}

static void a_producer_that_finished_then_died_is_not_skipped(void **state) {
  (void)state;
  mp_queue *q;
  mp_event *e;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_event_create(&e), MP_OK);
  TU_CHECK(mp_event_create(&go_on), MP_OK);
  mp_object *objs[3] = {mp_queue_obj(q), mp_event_obj(e), mp_event_obj(go_on)};
  stall_arg a = {4096, MP__QUEUE_PAUSE_COPYING};
  finishing = tu_start("stall_in_put", objs, 3, &a, sizeof a);
  TU_CHECK(mp_event_wait(e, 60), MP_OK);
  mp__queue_owner_check_pause = finish_the_producer;
  unsigned char buf[4096];
  size_t len = 0;
  TU_CHECK(mp_queue_get_into(q, buf, sizeof buf, &len, 0), MP_OK);
  assert_int_equal(len, sizeof buf);
  assert_null(mp__queue_owner_check_pause); /* the race was run */
  mp_event_free(go_on);
  mp_event_free(e);
  mp_queue_free(q);
}

/* A process stopped while it holds the put lock (a few instructions
 * normally): a put waits no longer than its timeout; once that process is
 * gone, the lock and the queue work again. */
static void a_stalled_lock_holder_costs_only_the_timeout(void **state) {
  (void)state;
  mp_queue *q;
  mp_event *e;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_event_create(&e), MP_OK);
  mp_process *p = start_stalled(q, e, 100, MP__QUEUE_PAUSE_LOCKED);
  TU_CHECK(mp_queue_put(q, "x", 1, 0.1), MP_ETIMEDOUT);
  TU_CHECK(mp_queue_put(q, "x", 1, 0), MP_ETIMEDOUT);
  assert_non_null(strstr(mp_last_error(), "mp_queue_put: "));
  char c;
  size_t len;
  TU_CHECK(mp_queue_get_into(q, &c, 1, &len, 0.05), MP_ETIMEDOUT); /* its record is not whole */
  kill_and_reap(p);
  TU_CHECK(mp_queue_put(q, "x", 1, 10), MP_OK);
  get_expect(q, "x", 10);
  mp_event_free(e);
  mp_queue_free(q);
}

/* Getter A (a 16-byte buffer) sleeps, then getter B; a 1000-byte put wakes
 * one of them. If that is A, it cannot take it and must pass the wake on:
 * B gets the message, and A says MP_ETOOBIG (or, where the put woke both
 * and B was first, A never sees it, and the close ends its wait). */
static void a_getter_that_refuses_passes_the_wake_on(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  mp_object *objs[1] = {mp_queue_obj(q)};
  uint64_t small = 16, any = 0;
  mp_process *a = tu_start("getter", objs, 1, &small, sizeof small);
  wait_sleepers(q, 0, 1);
  mp_process *b = tu_start("getter", objs, 1, &any, sizeof any);
  wait_sleepers(q, 0, 2);
  char msg[1000];
  memset(msg, 'm', sizeof msg);
  TU_CHECK(mp_queue_put(q, msg, sizeof msg, 0), MP_OK);
  got gb = finish_got(b);
  TU_CHECK((int)gb.rc, MP_OK);
  assert_int_equal(gb.len, sizeof msg);
  TU_CHECK(mp_queue_close(q), MP_OK);
  got ga = finish_got(a);
  if (ga.rc != MP_ECLOSED) {
    TU_CHECK((int)ga.rc, MP_ETOOBIG);
    assert_int_equal(ga.len, sizeof msg);
  }
  mp_queue_free(q);
}

/* A queue full in bytes: a 10 MiB putter sleeps, then a 1 MiB putter; a get
 * frees room for 1 MiB only. The 1 MiB put must go through, whichever of
 * them the get woke. */
static void a_putter_that_cannot_fit_does_not_keep_the_room(void **state) {
  (void)state;
  const uint64_t store = 12 * MIB + 4096, warm = 64 * 1024;
  mp_queue *q;
  mp_queue_options o = {1000, 0};
  TU_CHECK(mp__queue_create_sized(&q, &o, store, warm), MP_OK);
  unsigned char *buf = calloc(1, MIB);
  int filled = 0;
  while (mp_queue_put(q, buf, MIB, 0) == MP_OK) filled++;
  TU_CHECK(mp_queue_put(q, buf, MIB, 0), MP_EFULL);
  assert_true(filled >= 11);
  mp_object *objs[1] = {mp_queue_obj(q)};
  uint64_t big = 10 * MIB, one = MIB;
  mp_process *p10 = tu_start("putter", objs, 1, &big, sizeof big);
  wait_sleepers(q, 1, 1);
  mp_process *p1 = tu_start("putter", objs, 1, &one, sizeof one);
  wait_sleepers(q, 1, 2);
  size_t len;
  TU_CHECK(mp_queue_get_into(q, buf, MIB, &len, 0), MP_OK);
  got g1 = finish_got(p1);
  TU_CHECK((int)g1.rc, MP_OK);
  /* Now make room for the big one too. */
  for (int i = 0; i < 10; i++) TU_CHECK(mp_queue_get_into(q, buf, MIB, &len, 10), MP_OK);
  got g10 = finish_got(p10);
  TU_CHECK((int)g10.rc, MP_OK);
  free(buf);
  mp_queue_free(q);
}

int main(int argc, char **argv) {
  MP_REGISTER(stall_in_put);
  MP_REGISTER(getter);
  MP_REGISTER(putter);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(a_stalled_copy_blocks_no_one),
      TU_TEST(a_dead_producers_message_is_not_waited_for),
      TU_TEST(a_producer_that_finished_then_died_is_not_skipped),
      TU_TEST(a_stalled_lock_holder_costs_only_the_timeout),
      TU_TEST(a_getter_that_refuses_passes_the_wake_on),
      TU_TEST(a_putter_that_cannot_fit_does_not_keep_the_room),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
