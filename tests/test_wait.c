/* mp_wait: jobs, processes, connections and queues, alone and mixed;
 * timeouts; objects ready before the call; many objects; deaths; the
 * pollable handles in a poll / WaitForMultipleObjects loop. The hostile
 * programs are in test_wait_hostile.c. */
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#  include <windows.h>
#else
#  include <fcntl.h>
#  include <poll.h>
#endif

#include "platform.h"
#include "testutil.h"

/* Sleeps its argument's milliseconds, then returns them. */
static int sleep_ms(mp_call *call) {
  uint32_t ms = 0;
  if (mp_call_arg_read(call, &ms, sizeof ms) != MP_OK) return mp_call_fail(call, "bad arg");
  mp__sleep(ms / 1000.0);
  return mp_call_return(call, &ms, sizeof ms);
}

static int crash(mp_call *call) {
  (void)call;
  tu_segfault();
  return 0;
}

/* Sleeps its argument's milliseconds, then sends one message on conn 0. */
static int send_after(mp_call *call) {
  uint32_t ms = 0;
  if (mp_call_arg_read(call, &ms, sizeof ms) != MP_OK) return 1;
  mp__sleep(ms / 1000.0);
  return mp_conn_send(mp_call_conn(call, 0), "hi", 2) == MP_OK ? 0 : 2;
}

/* Holds conn 0 and sleeps (to be killed). */
static int hold_forever(mp_call *call) {
  (void)mp_call_conn(call, 0);
  mp__sleep(60);
  return 0;
}

/* Sleeps its argument's milliseconds, then puts one message on queue 0. */
static int put_after(mp_call *call) {
  uint32_t ms = 0;
  if (mp_call_arg_read(call, &ms, sizeof ms) != MP_OK) return 1;
  mp__sleep(ms / 1000.0);
  return mp_queue_put(mp_call_queue(call, 0), "x", 1, 10) == MP_OK ? 0 : 2;
}

/* 0 if the handle in its argument is not open in this child. */
static int handle_not_open(mp_call *call) {
  int64_t h = 0;
  if (mp_call_arg_read(call, &h, sizeof h) != MP_OK) return 1;
  return mp__handle_valid((mp__handle)h) ? mp_call_fail(call, "handle %lld is open here", (long long)h) : 0;
}

static mp_async *submit_sleep(mp_pool *p, uint32_t ms) {
  mp_async *a = NULL;
  TU_CHECK(mp_pool_apply_async(p, "sleep_ms", &ms, sizeof ms, NULL, NULL, &a), MP_OK);
  return a;
}

static mp_process *start_ms(const char *task, mp_object *obj, uint32_t ms) {
  return tu_start(task, obj ? &obj : NULL, obj ? 1 : 0, &ms, sizeof ms);
}

static mp_pool *small_pool(int workers) {
  mp_pool_options o = {0};
  o.workers = workers;
  mp_pool *p = NULL;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  return p;
}

static void bad_arguments(void **state) {
  (void)state;
  mp_queue *q;
  mp_conn *rx, *tx;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  mp_waitable set[3] = {mp_waitable_queue(q), mp_waitable_conn(rx), mp_waitable_queue(NULL)};
  set[0].ready = 7;
  assert_int_equal(mp_wait(NULL, 1, 0), MP_EINVAL);
  assert_int_equal(mp_wait(set, 0, 0), MP_EINVAL);
  assert_int_equal(mp_wait(set, 3, 0), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "entry 2"));
  assert_int_equal(set[0].ready, 0);
  set[2] = mp_waitable_queue(q);
  assert_int_equal(mp_wait(set, 3, 0), MP_EINVAL); /* q twice */
  assert_non_null(strstr(mp_last_error(), "twice"));
  set[2].kind = 99;
  assert_int_equal(mp_wait(set, 3, 0), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "unknown kind"));
  set[2] = mp_waitable_conn(tx);
  assert_int_equal(mp_wait(set, 3, 0), MP_ESTATE);
  assert_int_equal(mp_wait(set, 2, -2.0), MP_EINVAL);
  assert_int_equal(mp_wait(set, (size_t)MP_WAIT_MAX + 1, 0), MP_ETOOBIG);
  mp_os_handle h = (mp_os_handle)5;
  assert_int_equal(mp_conn_fileno(NULL, &h), MP_EINVAL);
  assert_int_equal(mp_conn_fileno(rx, NULL), MP_EINVAL);
  assert_int_equal(mp_conn_fileno(tx, &h), MP_ESTATE);
  assert_int_equal(mp_pool_fileno(NULL, &h), MP_EINVAL);
  assert_int_equal(mp_pool_fileno_clear(NULL), MP_EINVAL);
  mp_conn_free(rx);
  mp_conn_free(tx);
  mp_queue_free(q);
}

/* Nothing ready: timeout 0 and a short timeout both say MP_ETIMEDOUT and
 * mark nothing; then each kind becomes ready alone. */
static void each_kind_alone_and_timeouts(void **state) {
  (void)state;
  mp_pool *p = small_pool(1);
  mp_queue *q;
  mp_conn *rx, *tx;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  mp_async *job = submit_sleep(p, 400);
  mp_process *proc = start_ms("sleep_ms", NULL, 600);
  mp_waitable set[4] = {mp_waitable_async(job), mp_waitable_process(proc), mp_waitable_conn(rx),
                        mp_waitable_queue(q)};
  assert_int_equal(mp_wait(set, 4, 0), MP_ETIMEDOUT);
  double t0 = mp__now();
  assert_int_equal(mp_wait(set, 4, 0.1), MP_ETIMEDOUT);
  assert_true(mp__now() - t0 >= 0.09);
  for (int i = 0; i < 4; i++) assert_int_equal(set[i].ready, 0);
  /* the job alone */
  assert_int_equal(mp_wait(set, 1, 30), 1);
  assert_int_equal(set[0].ready, 1);
  assert_int_equal(mp_async_result(job)->status, MP_OK);
  /* the process alone */
  assert_int_equal(mp_wait(&set[1], 1, 30), 1);
  assert_int_equal(mp_process_is_alive(proc), 0);
  /* the connection alone: a message from another thread's send */
  TU_CHECK(mp_conn_send(tx, "m", 1), MP_OK);
  assert_int_equal(mp_wait(&set[2], 1, 30), 1);
  char b[4];
  size_t len;
  TU_CHECK(mp_conn_recv_into(rx, b, sizeof b, &len, 0), MP_OK);
  assert_int_equal(mp_wait(&set[2], 1, 0), MP_ETIMEDOUT); /* nothing left */
  /* the queue alone, put by a child */
  mp_process *putter = start_ms("put_after", mp_queue_obj(q), 100);
  assert_int_equal(mp_wait(&set[3], 1, 30), 1);
  void *m;
  TU_CHECK(mp_queue_get(q, &m, &len, 0), MP_OK);
  mp_free(m);
  assert_int_equal(mp_wait(&set[3], 1, 0), MP_ETIMEDOUT);
  tu_finish(putter, 30);
  TU_CHECK(mp_process_join(proc, 30), MP_OK);
  mp_process_free(proc);
  mp_async_free(job);
  mp_conn_free(rx);
  mp_conn_free(tx);
  mp_queue_free(q);
  mp_pool_free(p);
}

/* Everything ready before the call: timeout 0 finds all four. */
static void ready_before_the_call(void **state) {
  (void)state;
  mp_pool *p = small_pool(1);
  mp_queue *q;
  mp_conn *rx, *tx;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_pipe(&rx, &tx, 1), MP_OK);
  mp_async *job = submit_sleep(p, 0);
  TU_CHECK(mp_async_wait(job, 30), MP_OK);
  mp_process *proc = start_ms("sleep_ms", NULL, 0);
  TU_CHECK(mp_process_join(proc, 30), MP_OK);
  TU_CHECK(mp_conn_send(tx, "m", 1), MP_OK);
  TU_CHECK(mp_queue_put(q, "m", 1, 0), MP_OK);
  mp_waitable set[4] = {mp_waitable_async(job), mp_waitable_process(proc), mp_waitable_conn(rx),
                        mp_waitable_queue(q)};
  assert_int_equal(mp_wait(set, 4, 0), 4);
  assert_int_equal(mp_wait(set, 4, MP_FOREVER), 4);
  for (int i = 0; i < 4; i++) assert_int_equal(set[i].ready, 1);
  mp_process_free(proc);
  mp_async_free(job);
  mp_conn_free(rx);
  mp_conn_free(tx);
  mp_queue_free(q);
  mp_pool_free(p);
}

/* A mixed set: whichever comes first is the one marked. */
static void mixed_first_one_wins(void **state) {
  (void)state;
  mp_pool *p = small_pool(1);
  mp_queue *q;
  mp_conn *rx, *tx;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  mp_async *job = submit_sleep(p, 20000);
  mp_process *proc = start_ms("sleep_ms", NULL, 20000);
  mp_process *sender = start_ms("send_after", mp_conn_obj(tx), 200);
  mp_waitable set[4] = {mp_waitable_async(job), mp_waitable_process(proc), mp_waitable_conn(rx),
                        mp_waitable_queue(q)};
  assert_int_equal(mp_wait(set, 4, 30), 1);
  assert_int_equal(set[2].ready, 1);
  assert_int_equal(set[0].ready + set[1].ready + set[3].ready, 0);
  tu_finish(sender, 30);
  mp_process_kill(proc);
  mp_process_free(proc);
  mp_async_free(job);
  mp_conn_free(rx);
  mp_conn_free(tx);
  mp_queue_free(q);
  mp_pool_free(p);
}

/* as_completed over 200 jobs, as the header's example does it: each one
 * handled exactly once, with its own result. */
static void as_completed_over_200_jobs(void **state) {
  (void)state;
  enum { N = 200 };
  mp_pool *p = small_pool(2);
  mp_async *jobs[N];
  mp_waitable set[N];
  int seen[N] = {0};
  for (uint32_t i = 0; i < N; i++) {
    jobs[i] = submit_sleep(p, i % 7);
    set[i] = mp_waitable_async(jobs[i]);
  }
  size_t left = N, handled = 0;
  while (left) {
    int n = mp_wait(set, left, 60);
    assert_true(n >= 1);
    for (size_t i = 0; i < left;)
      if (set[i].ready) {
        const mp_result *r = mp_async_result(set[i].obj);
        assert_non_null(r);
        assert_int_equal(r->status, MP_OK);
        size_t k = 0;
        while (jobs[k] != set[i].obj) k++;
        assert_int_equal(*(uint32_t *)r->data, k % 7);
        seen[k]++;
        handled++;
        set[i] = set[--left];
      } else {
        i++;
      }
  }
  assert_int_equal(handled, N);
  for (int i = 0; i < N; i++) {
    assert_int_equal(seen[i], 1);
    mp_async_free(jobs[i]);
  }
  mp_pool_free(p);
}

/* 64 connections, one child writes on one of them: exactly that one. */
static void one_of_64_connections(void **state) {
  (void)state;
  enum { N = 64, WHO = 37 };
  mp_conn *rx[N], *tx[N];
  mp_waitable set[N];
  for (int i = 0; i < N; i++) {
    TU_CHECK(mp_pipe(&rx[i], &tx[i], 0), MP_OK);
    set[i] = mp_waitable_conn(rx[i]);
  }
  mp_process *sender = start_ms("send_after", mp_conn_obj(tx[WHO]), 100);
  assert_int_equal(mp_wait(set, N, 30), 1);
  for (int i = 0; i < N; i++) assert_int_equal(set[i].ready, i == WHO);
  tu_finish(sender, 30);
  for (int i = 0; i < N; i++) {
    mp_conn_free(rx[i]);
    mp_conn_free(tx[i]);
  }
}

/* Deaths count as ready: a crash, a peer killed, a queue closed. */
static void deaths_and_closes_are_ready(void **state) {
  (void)state;
  mp_process *crasher = tu_start("crash", NULL, 0, NULL, 0);
  mp_waitable one = mp_waitable_process(crasher);
  assert_int_equal(mp_wait(&one, 1, 30), 1);
  int code = 0;
  TU_CHECK(mp_process_join(crasher, 30), MP_OK);
  TU_CHECK(mp_process_exitcode(crasher, &code), MP_OK);
  assert_true(code < 0);
  mp_process_free(crasher);

  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  mp_process *holder = start_ms("hold_forever", mp_conn_obj(tx), 0);
  mp_conn_free(tx); /* only the child holds the sending end now */
  one = mp_waitable_conn(rx);
  assert_int_equal(mp_wait(&one, 1, 0.2), MP_ETIMEDOUT);
  TU_CHECK(mp_process_kill(holder), MP_OK);
  assert_int_equal(mp_wait(&one, 1, 30), 1);
  void *m;
  size_t len;
  assert_int_equal(mp_conn_recv(rx, &m, &len, 0), MP_ECLOSED);
  mp_process_free(holder);
  mp_conn_free(rx);

  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  one = mp_waitable_queue(q);
  assert_int_equal(mp_wait(&one, 1, 0), MP_ETIMEDOUT);
  TU_CHECK(mp_queue_close(q), MP_OK);
  assert_int_equal(mp_wait(&one, 1, 30), 1);
  assert_int_equal(mp_queue_get(q, &m, &len, 0), MP_ECLOSED);
  mp_queue_free(q);
}

/* The pool's and a connection's handles in the platform's own wait: every
 * job that completes is seen (a missed wake-up would leave the loop
 * waiting its 30 s out), and the handles are not inherited. */
static int os_wait_one(mp_os_handle h, double seconds) {
#ifdef _WIN32
  return WaitForSingleObject((HANDLE)h, (DWORD)(seconds * 1000)) == WAIT_OBJECT_0;
#else
  struct pollfd pfd = {(int)h, POLLIN, 0};
  return poll(&pfd, 1, (int)(seconds * 1000)) == 1;
#endif
}

static int inheritable(mp_os_handle h) {
#ifdef _WIN32
  DWORD flags = 0;
  assert_true(GetHandleInformation((HANDLE)h, &flags));
  return (flags & HANDLE_FLAG_INHERIT) != 0;
#else
  return (fcntl((int)h, F_GETFD) & FD_CLOEXEC) == 0;
#endif
}

static void handles_in_an_event_loop(void **state) {
  (void)state;
  enum { N = 50 };
  mp_pool *p = small_pool(2);
  mp_os_handle ph, again;
  TU_CHECK(mp_pool_fileno(p, &ph), MP_OK);
  TU_CHECK(mp_pool_fileno(p, &again), MP_OK);
  assert_true(ph == again);
  assert_false(inheritable(ph));
  assert_false(os_wait_one(ph, 0)); /* nothing completed yet */
  mp_async *jobs[N];
  int done[N] = {0};
  for (uint32_t i = 0; i < N; i++) jobs[i] = submit_sleep(p, i % 5);
  for (size_t left = N; left;) {
    assert_true(os_wait_one(ph, 30));
    TU_CHECK(mp_pool_fileno_clear(p), MP_OK); /* first clear, then look */
    for (int i = 0; i < N; i++)
      if (!done[i] && mp_async_ready(jobs[i])) {
        done[i] = 1;
        left--;
      }
  }
  assert_false(os_wait_one(ph, 0)); /* cleared after the last */
  /* A child never has it. */
  int64_t hv = (int64_t)ph;
  tu_finish(tu_start("handle_not_open", NULL, 0, &hv, sizeof hv), 30);
  for (int i = 0; i < N; i++) mp_async_free(jobs[i]);
  mp_pool_free(p);

  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  mp_os_handle ch;
  int rc = mp_conn_fileno(rx, &ch);
#ifdef _WIN32
  assert_int_equal(rc, MP_ENOTSUP);
#else
  TU_CHECK(rc, MP_OK);
  assert_false(inheritable(ch));
  assert_false(os_wait_one(ch, 0));
  mp_process *sender = start_ms("send_after", mp_conn_obj(tx), 50);
  assert_true(os_wait_one(ch, 30));
  assert_int_equal(mp_conn_poll(rx, 0), 1);
  tu_finish(sender, 30);
#endif
  mp_conn_free(rx);
  mp_conn_free(tx);
}


/* Puts its argument's count of messages on queue 0, a few at a time. */
static int put_many(mp_call *call) {
  uint32_t n = 0;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return 1;
  for (uint32_t i = 0; i < n; i++) {
    if (mp_queue_put(mp_call_queue(call, 0), &i, sizeof i, 10) != MP_OK) return 2;
    if (i % 10 == 0) mp__sleep(0.001);
  }
  return 0;
}

/* The queue's handle in an event loop: every message a child puts is
 * seen (a missed wake-up would leave the loop waiting its 30 s out), the
 * handle clears once the queue is drained, and is not inherited. */
static void queue_handle_in_an_event_loop(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  mp_os_handle h, again;
  TU_CHECK(mp_queue_fileno(q, &h), MP_OK);
  TU_CHECK(mp_queue_fileno(q, &again), MP_OK);
  assert_true(h == again);
  mp_os_handle unset = (mp_os_handle)5;
  assert_int_equal(mp_queue_fileno(NULL, &unset), MP_EINVAL);
  assert_true(unset == (mp_os_handle)-1);
  assert_int_equal(mp_queue_fileno(q, NULL), MP_EINVAL);
  assert_false(inheritable(h));
  assert_false(os_wait_one(h, 0.05));
  uint32_t n = 300;
  mp_object *qo = mp_queue_obj(q);
  mp_process *putter = tu_start("put_many", &qo, 1, &n, sizeof n);
  uint32_t got = 0;
  while (got < n) {
    assert_true(os_wait_one(h, 30));
    uint32_t v;
    size_t len;
    int rc;
    while ((rc = mp_queue_get_into(q, &v, sizeof v, &len, 0)) == MP_OK) got++;
    assert_int_equal(rc, MP_EEMPTY);
  }
  tu_finish(putter, 30);
  double t0 = mp__now();
  while (os_wait_one(h, 0) && mp__now() - t0 < 10) mp__sleep(0.001);
  assert_false(os_wait_one(h, 0)); /* drained: cleared */
  int64_t hv = (int64_t)h;
  tu_finish(tu_start("handle_not_open", NULL, 0, &hv, sizeof hv), 30);
  TU_CHECK(mp_queue_close(q), MP_OK);
  assert_true(os_wait_one(h, 30)); /* closed: set */
  mp_queue_free(q);
}

/* A consumer asleep in mp_queue_get while the queue is watched gets the
 * one message put: the watcher, woken in its place, wakes it. */
typedef struct getter {
  mp_queue *q;
  int rc;
  double took;
} getter;

static void get_once(void *ud) {
  getter *g = ud;
  double t0 = mp__now();
  void *m = NULL;
  size_t len;
  g->rc = mp_queue_get(g->q, &m, &len, 30);
  g->took = mp__now() - t0;
  mp_free(m);
}

static void a_watched_queue_still_wakes_its_consumer(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  mp_os_handle h;
  TU_CHECK(mp_queue_fileno(q, &h), MP_OK);
  for (int round = 0; round < 20; round++) {
    getter g = {q, -99, 0};
    mp__thread *t;
    TU_CHECK(mp__thread_start(&t, get_once, &g), MP_OK);
    mp__sleep(0.02);
    TU_CHECK(mp_queue_put(q, "m", 1, 0), MP_OK);
    mp__thread_join(t);
    assert_int_equal(g.rc, MP_OK);
    assert_true(g.took < 10);
  }
  mp_queue_free(q);
}

int main(int argc, char **argv) {
  MP_REGISTER(sleep_ms);
  MP_REGISTER(crash);
  MP_REGISTER(send_after);
  MP_REGISTER(hold_forever);
  MP_REGISTER(put_after);
  MP_REGISTER(handle_not_open);
  MP_REGISTER(put_many);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(bad_arguments),
      TU_TEST(each_kind_alone_and_timeouts),
      TU_TEST(ready_before_the_call),
      TU_TEST(mixed_first_one_wins),
      TU_TEST(as_completed_over_200_jobs),
      TU_TEST(one_of_64_connections),
      TU_TEST(deaths_and_closes_are_ready),
      TU_TEST(handles_in_an_event_loop),
      TU_TEST(queue_handle_in_an_event_loop),
      TU_TEST(a_watched_queue_still_wakes_its_consumer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
