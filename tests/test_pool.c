/* Pool: results in order, chunking, crashes at any position, timeouts,
 * cancel, initializer and worker replacement, lifecycle in every order,
 * callbacks, imap, and 100 workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

/* ----------------------------------------------------------------- tasks */
static int square(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return mp_call_fail(call, "want 8 bytes");
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

static int noop(mp_call *call) {
  (void)call;
  return 0;
}

/* Crashes on the item whose value is negative; squares the rest. */
static int square_or_crash(mp_call *call) {
  int64_t x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return 1;
  if (x < 0) {
    tu_segfault();
  }
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

static int fail_odd(mp_call *call) {
  int64_t x;
  mp_call_arg_read(call, &x, sizeof x);
  if (x % 2) return mp_call_fail(call, "odd: %lld", (long long)x);
  return mp_call_return(call, &x, sizeof x);
}

static int sleep_arg(mp_call *call) {
  double s;
  if (mp_call_arg_read(call, &s, sizeof s) != MP_OK) return 1;
  mp__sleep(s);
  return mp_call_return(call, &s, sizeof s);
}

/* Reports (worker id, pid, initializer's mark). */
static int64_t init_mark;
static int set_mark(mp_call *call) {
  return mp_call_arg_read(call, &init_mark, sizeof init_mark);
}

static int who(mp_call *call) {
  int64_t out[3] = {mp_call_worker_id(call), mp_getpid(), init_mark};
  return mp_call_return(call, out, sizeof out);
}

static int bad_init(mp_call *call) { return mp_call_fail(call, "no database"); }

static int echo(mp_call *call) {
  size_t n;
  const void *p = mp_call_arg(call, &n);
  return mp_call_return(call, p, n);
}

static int index_of(mp_call *call) {
  uint64_t i = mp_call_index(call);
  return mp_call_return(call, &i, sizeof i);
}

/* --------------------------------------------------------------- helpers */
static mp_pool *make_pool(int workers) {
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = workers;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  return p;
}

/* ----------------------------------------------------------------- tests */
static void apply_and_map_in_order(void **state) {
  (void)state;
  mp_pool *p = make_pool(3);
  int64_t x = 7;
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "square", &x, sizeof x, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  assert_true(*(int64_t *)r.data == 49);
  mp_result_clear(&r);
  enum { N = 10007 };
  int64_t *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
  for (int64_t i = 0; i < N; i++) in[i] = i - 5000;
  size_t chunks[] = {0, 1, 7, N, N + 100};
  for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
    mp_map_options mo = {0};
    mo.chunksize = chunks[c];
    memset(out, 0, N * sizeof *out);
    TU_CHECK(mp_pool_map(p, "square", in, sizeof *in, N, out, sizeof *out, &mo), MP_OK);
    for (int64_t i = 0; i < N; i++) assert_true(out[i] == in[i] * in[i]);
  }
  /* The index each item sees is its place in the input. */
  uint64_t idx[100];
  TU_CHECK(mp_pool_map(p, "index_of", in, sizeof *in, 100, idx, sizeof *idx, NULL), MP_OK);
  for (uint64_t i = 0; i < 100; i++) assert_true(idx[i] == i);
  free(in);
  free(out);
  mp_pool_free(p);
}

static void chunking_edge_cases(void **state) {
  (void)state;
  mp_pool *p = make_pool(2);
  int64_t x = 3, y = 0;
  TU_CHECK(mp_pool_map(p, "square", NULL, sizeof x, 0, NULL, sizeof y, NULL), MP_OK); /* n = 0 */
  TU_CHECK(mp_pool_map(p, "square", &x, sizeof x, 1, &y, sizeof y, NULL), MP_OK);    /* n = 1 */
  assert_true(y == 9);
  mp_map_options mo = {0};
  mo.chunksize = 1000; /* chunksize > n */
  TU_CHECK(mp_pool_map(p, "square", &x, sizeof x, 1, &y, sizeof y, &mo), MP_OK);
  /* Variable-size items, with one of 0 bytes. */
  mp_slice in[3] = {{"abc", 3}, {"", 0}, {"hello world", 11}};
  mp_result out[3];
  TU_CHECK(mp_pool_map_slices(p, "echo", in, 3, out, NULL), MP_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(out[i].status, MP_OK);
    assert_int_equal(out[i].len, in[i].len);
    if (in[i].len) assert_memory_equal(out[i].data, in[i].data, in[i].len);
    mp_result_clear(&out[i]);
  }
  /* A result of the wrong size for a fixed map is that item's failure. */
  int32_t small = 5;
  int64_t big;
  mp_result res;
  mp_map_options with_results = {0};
  with_results.results = &res;
  TU_CHECK(mp_pool_map(p, "echo", &small, sizeof small, 1, &big, sizeof big, &with_results), MP_EINVAL);
  assert_int_equal(res.status, MP_EINVAL);
  mp_result_clear(&res);
  mp_pool_free(p);
}

static void failures_are_per_item_and_everything_runs(void **state) {
  (void)state;
  mp_pool *p = make_pool(2);
  enum { N = 20 };
  int64_t in[N], out[N];
  mp_result res[N];
  for (int i = 0; i < N; i++) in[i] = i;
  mp_map_options mo = {0};
  mo.results = res;
  mo.chunksize = 3;
  TU_CHECK(mp_pool_map(p, "fail_odd", in, sizeof *in, N, out, sizeof *out, &mo), MP_ETASK);
  for (int i = 0; i < N; i++) {
    if (i % 2) {
      assert_int_equal(res[i].status, MP_ETASK);
      char want[32];
      snprintf(want, sizeof want, "odd: %d", i);
      assert_string_equal(res[i].message, want);
    } else {
      assert_int_equal(res[i].status, MP_OK);
      assert_true(out[i] == i);
      /* The bytes are in out only (the header says so). */
      assert_null(res[i].data);
      assert_int_equal(res[i].len, 0);
    }
    mp_result_clear(&res[i]);
  }
  mp_pool_free(p);
}

/* A worker that dies fails its own items only; the map completes. */
static void crashes_at_any_position(void **state) {
  (void)state;
  mp_pool *p = make_pool(2);
  enum { N = 12 };
  size_t positions[] = {0, 5, N - 1};
  for (size_t k = 0; k < 3; k++) {
    int64_t in[N], out[N];
    mp_result res[N];
    for (int i = 0; i < N; i++) in[i] = i == (int)positions[k] ? -1 : i;
    mp_map_options mo = {0};
    mo.results = res;
    mo.chunksize = 1;
    TU_CHECK(mp_pool_map(p, "square_or_crash", in, sizeof *in, N, out, sizeof *out, &mo), MP_ECRASHED);
    for (int i = 0; i < N; i++) {
      if (i == (int)positions[k]) {
        assert_int_equal(res[i].status, MP_ECRASHED);
        assert_non_null(strstr(res[i].message, "signal 11"));
      } else {
        assert_int_equal(res[i].status, MP_OK);
        assert_true(out[i] == (int64_t)i * i);
      }
      mp_result_clear(&res[i]);
    }
  }
  /* The pool goes on with replaced workers. */
  int64_t x = 4;
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "square", &x, sizeof x, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  mp_pool_free(p);
}

static void task_timeout_kills_and_replaces(void **state) {
  (void)state;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  o.task_timeout = 0.3;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  double slow = 30, fast = 0.01;
  mp_async *a, *b;
  double t0 = mp__now();
  TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &slow, sizeof slow, NULL, NULL, &a), MP_OK);
  TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &fast, sizeof fast, NULL, NULL, &b), MP_OK);
  TU_CHECK(mp_async_wait(a, 20), MP_OK);
  assert_true(mp__now() - t0 < 10);
  assert_int_equal(mp_async_result(a)->status, MP_ETIMEDOUT);
  TU_CHECK(mp_async_wait(b, 20), MP_OK);
  assert_int_equal(mp_async_result(b)->status, MP_OK);
  mp_async_free(a);
  mp_async_free(b);
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "sleep_arg", &fast, sizeof fast, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  mp_pool_free(p);
}

static void cancel_queued_and_running(void **state) {
  (void)state;
  mp_pool *p = make_pool(1);
  double slow = 30;
  mp_async *running, *queued;
  TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &slow, sizeof slow, NULL, NULL, &running), MP_OK);
  /* Give the worker time to take it, then queue more than it prefetches. */
  mp__sleep(0.2);
  mp_async *filler[6];
  for (int i = 0; i < 6; i++) TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &slow, sizeof slow, NULL, NULL, &filler[i]), MP_OK);
  TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &slow, sizeof slow, NULL, NULL, &queued), MP_OK);
  TU_CHECK(mp_async_cancel(queued), MP_OK);
  TU_CHECK(mp_async_wait(queued, 5), MP_OK);
  assert_int_equal(mp_async_result(queued)->status, MP_ECANCELLED);
  double t0 = mp__now();
  TU_CHECK(mp_async_cancel(running), MP_OK);
  TU_CHECK(mp_async_wait(running, 10), MP_OK);
  assert_true(mp__now() - t0 < 5);
  assert_int_equal(mp_async_result(running)->status, MP_ECANCELLED);
  TU_CHECK(mp_async_cancel(running), MP_ESTATE);
  for (int i = 0; i < 6; i++) TU_CHECK(mp_async_cancel(filler[i]), MP_OK);
  for (int i = 0; i < 6; i++) {
    TU_CHECK(mp_async_wait(filler[i], 60), MP_OK);
    assert_int_equal(mp_async_result(filler[i])->status, MP_ECANCELLED);
    mp_async_free(filler[i]);
  }
  mp_async_free(running);
  mp_async_free(queued);
  mp_pool_free(p);
}

static void initializer_runs_in_every_worker_with_replacement(void **state) {
  (void)state;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  int64_t mark = 4242;
  o.workers = 2;
  o.initializer = "set_mark";
  o.initarg = &mark;
  o.initarg_len = sizeof mark;
  o.max_tasks_per_child = 2;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  enum { N = 20 };
  int64_t in[N], out[N][3];
  mp_map_options mo = {0};
  mo.chunksize = 1;
  for (int i = 0; i < N; i++) in[i] = i;
  TU_CHECK(mp_pool_map(p, "who", in, sizeof *in, N, out, sizeof out[0], &mo), MP_OK);
  int distinct = 0;
  for (int i = 0; i < N; i++) {
    assert_true(out[i][0] >= 0 && out[i][0] < 2);
    assert_true(out[i][2] == 4242); /* replacements ran it too */
    int seen = 0;
    for (int k = 0; k < i; k++) seen |= out[k][1] == out[i][1];
    distinct += !seen;
  }
  /* Two tasks per worker: 20 tasks need at least 10 processes. */
  assert_true(distinct >= 10);
  mp_pool_free(p);
}

static void a_failing_initializer_fails_the_work(void **state) {
  (void)state;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  o.initializer = "bad_init";
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  int64_t x = 2;
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "square", &x, sizeof x, &r), MP_OK);
  assert_int_equal(r.status, MP_ETASK);
  assert_non_null(strstr(r.message, "no database"));
  assert_non_null(strstr(r.message, "initializer \"bad_init\"")); /* named, whatever it said */
  mp_result_clear(&r);
  mp_pool_free(p);
  o.initializer = "no_such_task";
  TU_CHECK(mp_pool_create(&p, &o), MP_ENOTASK);
}

static int callbacks_seen;
static int callback_saw_no_result;
static void on_done(mp_async *a, void *ud) {
  int *count = ud;
  /* The callback sees its own job's result (Python's callback gets it). */
  const mp_result *r = mp_async_result(a);
  if (!r) callback_saw_no_result++;
  (*count)++;
  callbacks_seen++;
}

static size_t progress_last;
static void on_progress(size_t done, size_t total, void *ud) {
  (void)ud;
  (void)total;
  progress_last = done;
}

static void callbacks_and_progress(void **state) {
  (void)state;
  mp_pool *p = make_pool(2);
  int count = 0;
  mp_async *as[10];
  for (int64_t i = 0; i < 10; i++) TU_CHECK(mp_pool_apply_async(p, "square", &i, sizeof i, on_done, &count, &as[i]), MP_OK);
  for (int i = 0; i < 10; i++) {
    TU_CHECK(mp_async_wait(as[i], 30), MP_OK);
    assert_true(mp_async_ready(as[i]));
    assert_true(*(int64_t *)mp_async_result(as[i])->data == (int64_t)i * i);
    mp_async_free(as[i]);
  }
  assert_int_equal(count, 10); /* a callback runs before its result is ready */
  assert_int_equal(callback_saw_no_result, 0);
  /* map_async: all results, and the callback. */
  mp_slice in[5];
  int64_t v[5] = {1, 2, 3, 4, 5};
  for (int i = 0; i < 5; i++) in[i] = (mp_slice){&v[i], sizeof v[i]};
  mp_async *m;
  count = 0;
  TU_CHECK(mp_pool_map_async(p, "square", in, 5, NULL, on_done, &count, &m), MP_OK);
  TU_CHECK(mp_async_wait(m, 30), MP_OK);
  size_t n = 0;
  const mp_result *rs = mp_async_results(m, &n);
  assert_int_equal(n, 5);
  for (int i = 0; i < 5; i++) assert_true(*(int64_t *)rs[i].data == v[i] * v[i]);
  assert_int_equal(count, 1);
  assert_int_equal(callback_saw_no_result, 0);
  mp_async_free(m);
  /* Progress reaches the total. */
  int64_t big[1000], out[1000];
  for (int i = 0; i < 1000; i++) big[i] = i;
  mp_map_options mo = {0};
  mo.progress = on_progress;
  mo.chunksize = 10;
  progress_last = 0;
  TU_CHECK(mp_pool_map(p, "square", big, sizeof *big, 1000, out, sizeof *out, &mo), MP_OK);
  assert_int_equal(progress_last, 1000);
  mp_pool_free(p);
}

typedef struct counter {
  size_t n, limit;
  int64_t value;
} counter;

static int count_up(void *ud, size_t index, mp_slice *item) {
  counter *c = ud;
  if (c->n >= c->limit) return 0;
  c->value = (int64_t)index;
  item->data = &c->value;
  item->len = sizeof c->value;
  c->n++;
  return 1;
}

static void imap_ordered_and_unordered(void **state) {
  (void)state;
  mp_pool *p = make_pool(2);
  for (int unordered = 0; unordered < 2; unordered++) {
    counter c = {0, 500, 0};
    mp_imap_options io = {0};
    io.unordered = unordered;
    io.chunksize = unordered ? 3 : 1;
    mp_iter *it;
    TU_CHECK(mp_pool_imap(p, "square", count_up, &c, &io, &it), MP_OK);
    char *seen = calloc(500, 1);
    size_t count = 0, index;
    mp_result r;
    int rc;
    while ((rc = mp_iter_next(it, 30, &index, &r)) == MP_OK) {
      assert_true(index < 500);
      if (!unordered) assert_int_equal(index, count);
      assert_int_equal(r.status, MP_OK);
      if (*(int64_t *)r.data != (int64_t)index * (int64_t)index) print_error("unordered=%d index %llu count %llu got %lld\n", unordered, (unsigned long long)index,
                    (unsigned long long)count, (long long)*(int64_t *)r.data);
      assert_true(*(int64_t *)r.data == (int64_t)index * (int64_t)index);
      assert_false(seen[index]);
      seen[index] = 1;
      count++;
      mp_result_clear(&r);
    }
    assert_int_equal(rc, MP_ECLOSED);
    assert_int_equal(count, 500);
    free(seen);
    mp_iter_free(it);
  }
  /* An iterator dropped half way cleans up after itself. */
  counter c = {0, 1000, 0};
  mp_iter *it;
  TU_CHECK(mp_pool_imap(p, "square", count_up, &c, NULL, &it), MP_OK);
  size_t index;
  mp_result r;
  TU_CHECK(mp_iter_next(it, 30, &index, &r), MP_OK);
  mp_result_clear(&r);
  mp_iter_free(it);
  mp_pool_free(p);
}

static void lifecycle_in_every_order(void **state) {
  (void)state;
  int64_t x = 3;
  mp_result r;
  /* close, join */
  mp_pool *p = make_pool(2);
  TU_CHECK(mp_pool_join(p, 0), MP_ESTATE);
  mp_async *a;
  TU_CHECK(mp_pool_apply_async(p, "square", &x, sizeof x, NULL, NULL, &a), MP_OK);
  TU_CHECK(mp_pool_close(p), MP_OK);
  TU_CHECK(mp_pool_apply(p, "square", &x, sizeof x, &r), MP_ESTATE);
  TU_CHECK(mp_pool_join(p, 30), MP_OK);
  assert_int_equal(mp_async_result(a)->status, MP_OK); /* queued work still ran */
  mp_async_free(a);
  TU_CHECK(mp_pool_close(p), MP_OK);
  TU_CHECK(mp_pool_join(p, 0), MP_OK);
  mp_pool_free(p);
  /* terminate with work running: it reads MP_ECANCELLED */
  p = make_pool(1);
  double slow = 30;
  mp_async *s1, *s2;
  TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &slow, sizeof slow, NULL, NULL, &s1), MP_OK);
  TU_CHECK(mp_pool_apply_async(p, "sleep_arg", &slow, sizeof slow, NULL, NULL, &s2), MP_OK);
  mp__sleep(0.1);
  double t0 = mp__now();
  TU_CHECK(mp_pool_terminate(p), MP_OK);
  TU_CHECK(mp_pool_join(p, 30), MP_OK);
  assert_true(mp__now() - t0 < 10);
  assert_int_equal(mp_async_result(s1)->status, MP_ECANCELLED);
  assert_int_equal(mp_async_result(s2)->status, MP_ECANCELLED);
  mp_async_free(s1);
  mp_async_free(s2);
  mp_pool_free(p);
  /* close then terminate; terminate then close; free without either */
  p = make_pool(2);
  TU_CHECK(mp_pool_close(p), MP_OK);
  TU_CHECK(mp_pool_terminate(p), MP_OK);
  TU_CHECK(mp_pool_join(p, 30), MP_OK);
  mp_pool_free(p);
  p = make_pool(2);
  TU_CHECK(mp_pool_terminate(p), MP_OK);
  TU_CHECK(mp_pool_close(p), MP_OK);
  TU_CHECK(mp_pool_join(p, 30), MP_OK);
  mp_pool_free(p);
  p = make_pool(2);
  mp_pool_free(p);
}

static void a_hundred_workers(void **state) {
  (void)state;
  mp_pool *p = make_pool(100);
  enum { N = 1000 };
  int64_t in[N], out[N][3];
  for (int i = 0; i < N; i++) in[i] = i;
  mp_map_options mo = {0};
  mo.chunksize = 1;
  TU_CHECK(mp_pool_map(p, "who", in, sizeof *in, N, out, sizeof out[0], &mo), MP_OK);
  for (int i = 0; i < N; i++) assert_true(out[i][0] >= 0 && out[i][0] < 100);
  mp_pool_free(p);
}

static void bad_arguments(void **state) {
  (void)state;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = -1;
  TU_CHECK(mp_pool_create(NULL, NULL), MP_EINVAL);
  TU_CHECK(mp_pool_create(&p, &o), MP_EINVAL);
  o.workers = 1;
  o.task_timeout = -1;
  TU_CHECK(mp_pool_create(&p, &o), MP_EINVAL);
  p = make_pool(1);
  mp_result r;
  int64_t x = 1, y;
  TU_CHECK(mp_pool_apply(p, "nope", &x, sizeof x, &r), MP_ENOTASK);
  TU_CHECK(mp_pool_apply(p, NULL, &x, sizeof x, &r), MP_EINVAL);
  TU_CHECK(mp_pool_apply(NULL, "square", &x, sizeof x, &r), MP_EINVAL);
  TU_CHECK(mp_pool_apply(p, "square", NULL, 8, &r), MP_EINVAL);
  TU_CHECK(mp_pool_map(p, "square", NULL, 8, 1, &y, 8, NULL), MP_EINVAL);
  TU_CHECK(mp_pool_map_slices(p, "square", NULL, 1, &r, NULL), MP_EINVAL);
  TU_CHECK(mp_async_wait(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_async_cancel(NULL), MP_EINVAL);
  assert_int_equal(mp_async_ready(NULL), 0);
  assert_null(mp_async_result(NULL));
  assert_null(mp_async_free(NULL));
  TU_CHECK(mp_pool_imap(p, "square", NULL, NULL, NULL, NULL), MP_EINVAL);
  assert_null(mp_iter_free(NULL));
  TU_CHECK(mp_pool_close(NULL), MP_EINVAL);
  TU_CHECK(mp_pool_join(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_pool_terminate(NULL), MP_EINVAL);
  assert_null(mp_pool_free(NULL));
  mp_pool_free(p);
}

int main(int argc, char **argv) {
  MP_REGISTER(square);
  MP_REGISTER(noop);
  MP_REGISTER(square_or_crash);
  MP_REGISTER(fail_odd);
  MP_REGISTER(sleep_arg);
  MP_REGISTER(set_mark);
  MP_REGISTER(who);
  MP_REGISTER(bad_init);
  MP_REGISTER(echo);
  MP_REGISTER(index_of);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(apply_and_map_in_order),
      TU_TEST(chunking_edge_cases),
      TU_TEST(failures_are_per_item_and_everything_runs),
      TU_TEST(crashes_at_any_position),
      TU_TEST(task_timeout_kills_and_replaces),
      TU_TEST(cancel_queued_and_running),
      TU_TEST(initializer_runs_in_every_worker_with_replacement),
      TU_TEST(a_failing_initializer_fails_the_work),
      TU_TEST(callbacks_and_progress),
      TU_TEST(imap_ordered_and_unordered),
      TU_TEST(lifecycle_in_every_order),
      TU_TEST(a_hundred_workers),
      TU_TEST(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
