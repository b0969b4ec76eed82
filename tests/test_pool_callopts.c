/* Per-call options (mp_call_options): a call's own time limit, shorter or
 * longer than the pool's, held per item from its own start; calls with
 * different limits at once on the same workers; every call shape (apply,
 * apply_async, map, map_slices, map_async, imap); and bad options. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

static int sleep_arg(mp_call *call) {
  double s;
  if (mp_call_arg_read(call, &s, sizeof s) != MP_OK) return 1;
  mp__sleep(s);
  return mp_call_return(call, &s, sizeof s);
}

static mp_pool *make_pool(int workers, double task_timeout) {
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = workers;
  o.task_timeout = task_timeout;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  return p;
}

static void expect_timed_out_by_call(const mp_result *r) {
  assert_int_equal(r->status, MP_ETIMEDOUT);
  assert_non_null(r->message);
  assert_non_null(strstr(r->message, "its call's timeout"));
}

/* A call's limit shorter than the pool's (or where the pool has none). */
static void a_shorter_call_limit_kills(void **state) {
  (void)state;
  for (int k = 0; k < 2; k++) {
    mp_pool *p = make_pool(1, k ? 60 : 0);
    mp_call_options c = {0};
    c.timeout = 0.3;
    double slow = 30, fast = 0.01;
    mp_result r;
    double t0 = mp__now();
    TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &slow, sizeof slow, &c, &r), MP_OK);
    assert_true(mp__now() - t0 < 15);
    expect_timed_out_by_call(&r);
    mp_result_clear(&r);
    /* The worker was replaced: the pool goes on. */
    TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &fast, sizeof fast, &c, &r), MP_OK);
    assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
    mp_pool_free(p);
  }
}

/* A call's limit longer than the pool's, and INFINITY: none at all. */
static void a_longer_call_limit_lets_it_run(void **state) {
  (void)state;
  mp_pool *p = make_pool(1, 0.2);
  double medium = 0.6;
  mp_result r;
  /* The pool's limit kills it... */
  TU_CHECK(mp_pool_apply(p, "sleep_arg", &medium, sizeof medium, &r), MP_OK);
  assert_int_equal(r.status, MP_ETIMEDOUT);
  assert_non_null(strstr(r.message, "task_timeout"));
  mp_result_clear(&r);
  /* ...the call's longer one, or none, does not. */
  mp_call_options longer = {0}, none = {0}, pools = {0};
  longer.timeout = 30;
  none.timeout = INFINITY;
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &medium, sizeof medium, &longer, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &medium, sizeof medium, &none, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  /* 0 is the pool's. */
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &medium, sizeof medium, &pools, &r), MP_OK);
  assert_int_equal(r.status, MP_ETIMEDOUT);
  mp_result_clear(&r);
  mp_pool_free(p);
}

/* Calls with different limits in flight at once on the same two workers:
 * each item is held to its own call's. */
static void mixed_limits_at_once(void **state) {
  (void)state;
  mp_pool *p = make_pool(2, 0);
  mp_call_options tight = {0}, loose = {0};
  tight.timeout = 0.25;
  loose.timeout = 60;
  enum { N = 6 };
  mp_async *a[N];
  double slow = 1.0;
  for (int i = 0; i < N; i++)
    TU_CHECK(mp_pool_apply_async_opts(p, "sleep_arg", &slow, sizeof slow, i % 2 ? &tight : &loose, NULL, NULL,
                                      &a[i]),
             MP_OK);
  for (int i = 0; i < N; i++) {
    TU_CHECK(mp_async_wait(a[i], 60), MP_OK);
    if (i % 2)
      expect_timed_out_by_call(mp_async_result(a[i]));
    else
      assert_int_equal(mp_async_result(a[i])->status, MP_OK);
    mp_async_free(a[i]);
  }
  mp_pool_free(p);
}

/* Each item counts from its own start: a map whose items each take less
 * than the limit succeeds though the whole map takes longer. */
static void map_items_count_from_their_own_start(void **state) {
  (void)state;
  mp_pool *p = make_pool(1, 0);
  mp_call_options c = {0};
  c.timeout = 0.5;
  mp_map_options mo = {0};
  mo.chunksize = 8;
  mo.call = &c;
  enum { N = 8 };
  double in[N], out[N];
  mp_result res[N];
  mo.results = res;
  for (int i = 0; i < N; i++) in[i] = 0.1;
  in[5] = 30; /* this one alone runs over */
  double t0 = mp__now();
  int rc = mp_pool_map(p, "sleep_arg", in, sizeof in[0], N, out, sizeof out[0], &mo);
  assert_int_equal(rc, MP_ETIMEDOUT);
  assert_true(mp__now() - t0 < 20);
  assert_non_null(strstr(mp_last_error(), "item 5"));
  for (int i = 0; i < N; i++) {
    if (i == 5)
      expect_timed_out_by_call(&res[i]);
    else
      assert_int_equal(res[i].status, MP_OK);
    mp_result_clear(&res[i]);
  }
  mp_pool_free(p);
}

static void map_slices_and_map_async_with_a_limit(void **state) {
  (void)state;
  mp_pool *p = make_pool(2, 0);
  mp_call_options c = {0};
  c.timeout = 0.3;
  mp_map_options mo = {0};
  mo.chunksize = 1;
  mo.call = &c;
  double v[3] = {0.01, 30, 0.01};
  mp_slice in[3] = {{&v[0], sizeof v[0]}, {&v[1], sizeof v[1]}, {&v[2], sizeof v[2]}};
  mp_result out[3];
  assert_int_equal(mp_pool_map_slices(p, "sleep_arg", in, 3, out, &mo), MP_ETIMEDOUT);
  assert_int_equal(out[0].status, MP_OK);
  expect_timed_out_by_call(&out[1]);
  assert_int_equal(out[2].status, MP_OK);
  for (int i = 0; i < 3; i++) mp_result_clear(&out[i]);
  mp_async *a;
  TU_CHECK(mp_pool_map_async(p, "sleep_arg", in, 3, &mo, NULL, NULL, &a), MP_OK);
  TU_CHECK(mp_async_wait(a, 60), MP_OK);
  size_t n;
  const mp_result *rs = mp_async_results(a, &n);
  assert_int_equal(n, 3);
  assert_int_equal(rs[0].status, MP_OK);
  expect_timed_out_by_call(&rs[1]);
  assert_int_equal(rs[2].status, MP_OK);
  mp_async_free(a);
  mp_pool_free(p);
}

typedef struct {
  const double *v;
  size_t n;
} doubles;

static int give_doubles(void *ud, size_t index, mp_slice *item) {
  doubles *d = ud;
  if (index >= d->n) return 0;
  item->data = &d->v[index];
  item->len = sizeof d->v[index];
  return 1;
}

static void imap_with_a_limit(void **state) {
  (void)state;
  mp_pool *p = make_pool(2, 0);
  mp_call_options c = {0};
  c.timeout = 0.3;
  mp_imap_options io = {0};
  io.call = &c;
  double v[4] = {0.01, 30, 0.01, 0.01};
  doubles d = {v, 4};
  mp_iter *it;
  TU_CHECK(mp_pool_imap(p, "sleep_arg", give_doubles, &d, &io, &it), MP_OK);
  for (size_t i = 0; i < 4; i++) {
    size_t index;
    mp_result r;
    TU_CHECK(mp_iter_next(it, 60, &index, &r), MP_OK);
    assert_int_equal(index, i);
    if (i == 1)
      expect_timed_out_by_call(&r);
    else
      assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
  }
  mp_result r;
  TU_CHECK(mp_iter_next(it, 10, NULL, &r), MP_ECLOSED);
  mp_iter_free(it);
  mp_pool_free(p);
}

/* Workers replaced after every chunk (max_tasks_per_child 1): each new
 * worker's items are still held to their own call's limit. */
static void limits_hold_across_replaced_workers(void **state) {
  (void)state;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  o.max_tasks_per_child = 1;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  mp_call_options tight = {0}, loose = {0};
  tight.timeout = 0.25;
  loose.timeout = 60;
  double slow = 30, fast = 0.05;
  for (int i = 0; i < 4; i++) {
    mp_result r;
    TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &fast, sizeof fast, &loose, &r), MP_OK);
    assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
    TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &slow, sizeof slow, &tight, &r), MP_OK);
    expect_timed_out_by_call(&r);
    mp_result_clear(&r);
  }
  mp_pool_free(p);
}

static void bad_call_options(void **state) {
  (void)state;
  mp_pool *p = make_pool(1, 0);
  double x = 0;
  mp_result r;
  mp_call_options c = {0};
  c.timeout = -1;
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &x, sizeof x, &c, &r), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "mp_pool_apply_opts: call->timeout"));
  c.timeout = NAN;
  TU_CHECK(mp_pool_apply_async_opts(p, "sleep_arg", &x, sizeof x, &c, NULL, NULL, NULL), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "call->timeout"));
  mp_map_options mo = {0};
  mo.call = &c;
  double out;
  TU_CHECK(mp_pool_map(p, "sleep_arg", &x, sizeof x, 1, &out, sizeof out, &mo), MP_EINVAL);
  mp_slice s = {&x, sizeof x};
  mp_result rs;
  TU_CHECK(mp_pool_map_slices(p, "sleep_arg", &s, 1, &rs, &mo), MP_EINVAL);
  TU_CHECK(mp_pool_map_async(p, "sleep_arg", &s, 1, &mo, NULL, NULL, NULL), MP_EINVAL);
  mp_imap_options io = {0};
  io.call = &c;
  mp_iter *it;
  doubles d = {&x, 1};
  TU_CHECK(mp_pool_imap(p, "sleep_arg", give_doubles, &d, &io, &it), MP_EINVAL);
  /* Object lists: NULL, a NULL entry, too many, then (valid) not yet supported. */
  mp_call_options o = {0};
  o.nobjects = 1;
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &x, sizeof x, &o, &r), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "objects is NULL"));
  mp_object *none[1] = {NULL};
  o.objects = none;
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &x, sizeof x, &o, &r), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "objects[0] is NULL"));
  mp_event *e = NULL;
  TU_CHECK(mp_event_create(&e), MP_OK);
  mp_object *one[1] = {mp_event_obj(e)};
  o.objects = one;
  o.nobjects = 100000;
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &x, sizeof x, &o, &r), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "at most"));
  o.nobjects = 1;
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &x, sizeof x, &o, &r), MP_ENOTSUP);
  assert_non_null(strstr(mp_last_error(), "not supported yet"));
  mp_event_free(e);
  /* NULL options are the plain calls; the pool still works. */
  TU_CHECK(mp_pool_apply_opts(p, "sleep_arg", &x, sizeof x, NULL, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  TU_CHECK(mp_pool_apply_opts(NULL, "sleep_arg", &x, sizeof x, NULL, &r), MP_EINVAL);
  mp_pool_free(p);
}

int main(int argc, char **argv) {
  MP_REGISTER(sleep_arg);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(a_shorter_call_limit_kills),
      TU_TEST(a_longer_call_limit_lets_it_run),
      TU_TEST(mixed_limits_at_once),
      TU_TEST(map_items_count_from_their_own_start),
      TU_TEST(map_slices_and_map_async_with_a_limit),
      TU_TEST(imap_with_a_limit),
      TU_TEST(limits_hold_across_replaced_workers),
      TU_TEST(bad_call_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
