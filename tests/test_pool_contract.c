/* Pool: the promises of the header, each a test, as a user's hostile but
 * legitimate program would try them: sizes at every boundary, deaths and
 * timeouts item by item, initializers that die, cancels, imap after
 * close, an idle worker beside a busy one, a slow callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

/* ----------------------------------------------------------------- tasks */
/* What an item does, and which counter (in the shared block given as
 * object 0, if any) says it ran. */
enum { DO_SQUARE, DO_CRASH, DO_SLEEP, DO_EXIT };
typedef struct act {
  int64_t value;
  int32_t what;
  int32_t counter;
  double seconds;
} act;

static void count_run(mp_call *call, int32_t counter) {
  mp_shm *s = mp_call_shm(call, 0);
  if (s && counter >= 0) mp__atomic_add32((volatile uint32_t *)mp_shm_ptr(s) + counter, 1);
}

static int behave(mp_call *call) {
  act a;
  if (mp_call_arg_read(call, &a, sizeof a) != MP_OK) return mp_call_fail(call, "want an act");
  count_run(call, a.counter);
  if (a.what == DO_CRASH) tu_segfault();
  if (a.what == DO_EXIT) exit(3);
  if (a.what == DO_SLEEP) mp__sleep(a.seconds);
  int64_t y = a.value * a.value;
  return mp_call_return(call, &y, sizeof y);
}

/* Argument: u64 result length, u64 seed, then filler; returns that many
 * bytes of a pattern, after checking every byte of the filler. */
static uint8_t filler(uint64_t seed, size_t i) { return (uint8_t)(seed * 31 + i * 7 + (i >> 9)); }

static int sized(mp_call *call) {
  size_t n;
  const uint8_t *p = mp_call_arg(call, &n);
  uint64_t want, seed;
  if (n < 16) return mp_call_fail(call, "short argument");
  memcpy(&want, p, 8);
  memcpy(&seed, p + 8, 8);
  for (size_t i = 16; i < n; i++)
    if (p[i] != filler(seed, i)) return mp_call_fail(call, "argument byte %llu damaged", (unsigned long long)i);
  uint8_t *out = malloc(want ? want : 1);
  if (!out) return mp_call_fail(call, "no memory");
  for (size_t i = 0; i < want; i++) out[i] = filler(seed + 1, i);
  int rc = mp_call_return(call, out, want);
  free(out);
  return rc;
}

static int init_sleep(mp_call *call) {
  (void)call;
  mp__sleep(1.5);
  return 0;
}

static int init_crash(mp_call *call) {
  count_run(call, 0);
  tu_segfault();
  return 0;
}

static int init_exit(mp_call *call) {
  count_run(call, 0);
  exit(3);
}

static int who(mp_call *call) {
  int64_t pid = mp_getpid();
  return mp_call_return(call, &pid, sizeof pid);
}

/* --------------------------------------------------------------- helpers */
static mp_pool *pool_with(int workers, double timeout, const char *init, mp_object *obj) {
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = workers;
  o.task_timeout = timeout;
  o.initializer = init;
  o.objects = obj ? &obj : NULL;
  o.nobjects = obj ? 1 : 0;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  return p;
}

static act an(int64_t value, int what, int counter, double seconds) {
  act a;
  memset(&a, 0, sizeof a);
  a.value = value;
  a.what = what;
  a.counter = counter;
  a.seconds = seconds;
  return a;
}

static uint32_t *counters(mp_shm **s, size_t n) {
  TU_CHECK(mp_shm_create(s, n * sizeof(uint32_t)), MP_OK);
  return mp_shm_ptr(*s);
}

static uint8_t *sized_arg(size_t len, uint64_t result_len, uint64_t seed) {
  uint8_t *a = malloc(len < 16 ? 16 : len);
  memcpy(a, &result_len, 8);
  memcpy(a + 8, &seed, 8);
  for (size_t i = 16; i < len; i++) a[i] = filler(seed, i);
  return a;
}

static void check_sized(const mp_result *r, uint64_t result_len, uint64_t seed) {
  if (r->status != MP_OK) print_error("item: %s: %s\n", mp_err_name(r->status), r->message ? r->message : "");
  assert_int_equal(r->status, MP_OK);
  assert_int_equal(r->len, result_len);
  const uint8_t *d = r->data;
  for (size_t i = 0; i < result_len; i++)
    if (d[i] != filler(seed + 1, i)) fail_msg("result byte %zu of %zu is wrong", i, (size_t)result_len);
}

/* ----------------------------------------------------------------- tests */
/* The deadlock of the old pipes: one worker, forty 30 kB arguments, each
 * answered with 256 KiB; then every mix of sizes across the boundaries of
 * a ring (the result ring is 1 MiB: over half of it comes in pieces). */
static void no_size_mix_hangs(void **state) {
  (void)state;
  size_t big_result = tu_light() ? (size_t)4 << 20 : (size_t)64 << 20;
  size_t args[] = {16, 17, 30000, (size_t)1 << 20};
  size_t results[] = {0, 8, 256 * 1024, (512 * 1024) - 8, (size_t)2 << 20};
  int workers[] = {1, 2, 8};
  for (size_t w = 0; w < sizeof workers / sizeof workers[0]; w++) {
    mp_pool *p = pool_with(workers[w], 0, NULL, NULL);
    enum { N = 40 };
    mp_async *jobs[N];
    uint8_t *arg = sized_arg(30000, 256 * 1024, 5);
    for (int i = 0; i < N; i++) {
      memcpy(arg + 8, &(uint64_t){(uint64_t)i}, 8);
      for (size_t k = 16; k < 30000; k++) arg[k] = filler((uint64_t)i, k);
      TU_CHECK(mp_pool_apply_async(p, "sized", arg, 30000, NULL, NULL, &jobs[i]), MP_OK);
    }
    free(arg);
    for (int i = 0; i < N; i++) {
      TU_CHECK(mp_async_wait(jobs[i], 120), MP_OK);
      check_sized(mp_async_result(jobs[i]), 256 * 1024, (uint64_t)i);
      mp_async_free(jobs[i]);
    }
    /* Every argument size with every result size, in chunks of 1, 3 and
     * the pool's own choice. */
    size_t na = sizeof args / sizeof args[0], nr = sizeof results / sizeof results[0], n = na * nr;
    mp_slice *in = calloc(n, sizeof *in);
    mp_result *out = calloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
      in[i].data = sized_arg(args[i % na], results[i / na], i);
      in[i].len = args[i % na];
    }
    size_t chunks[] = {1, 3, 0};
    for (size_t c = 0; c < 3; c++) {
      mp_map_options mo = {0};
      mo.chunksize = chunks[c];
      TU_CHECK(mp_pool_map_slices(p, "sized", in, n, out, &mo), MP_OK);
      for (size_t i = 0; i < n; i++) {
        check_sized(&out[i], results[i / na], i);
        mp_result_clear(&out[i]);
      }
    }
    for (size_t i = 0; i < n; i++) free((void *)in[i].data);
    free(in);
    free(out);
    /* One result of tens of MiB, through a 1 MiB ring. */
    uint8_t *one = sized_arg(16, big_result, 99);
    mp_result r;
    TU_CHECK(mp_pool_apply(p, "sized", one, 16, &r), MP_OK);
    check_sized(&r, big_result, 99);
    mp_result_clear(&r);
    free(one);
    mp_pool_free(p);
  }
}

/* A crash fails the item that was running and nothing else: the items of
 * its chunk before it keep their results, those after it run elsewhere,
 * and every item runs exactly once. */
static void a_death_fails_exactly_its_item(void **state) {
  (void)state;
  mp_shm *s;
  uint32_t *ran = counters(&s, 64);
  mp_pool *p = pool_with(2, 0, NULL, mp_shm_obj(s));
  int crash_at[] = {5, 0, 3, 7};
  for (size_t t = 0; t < 4; t++) {
    memset(ran, 0, 64 * sizeof *ran);
    act items[8];
    mp_slice in[8];
    mp_result out[8];
    for (int i = 0; i < 8; i++) {
      items[i] = an(i, i == crash_at[t] ? DO_CRASH : DO_SQUARE, i, 0);
      in[i].data = &items[i];
      in[i].len = sizeof items[i];
    }
    mp_map_options mo = {0};
    mo.chunksize = 4;
    TU_CHECK(mp_pool_map_slices(p, "behave", in, 8, out, &mo), MP_ECRASHED);
    for (int i = 0; i < 8; i++) {
      if (i == crash_at[t]) {
        assert_int_equal(out[i].status, MP_ECRASHED);
        assert_non_null(strstr(out[i].message, "signal"));
        assert_non_null(strstr(out[i].message, "behave"));
      } else {
        assert_int_equal(out[i].status, MP_OK);
        assert_true(*(int64_t *)out[i].data == (int64_t)i * i);
      }
      assert_int_equal(ran[i], 1);
      mp_result_clear(&out[i]);
    }
  }
  mp_pool_free(p);
  mp_shm_free(s);
}

static void task_timeout_is_per_item_from_its_start(void **state) {
  (void)state;
  /* An initializer's time is not the task's. */
  mp_pool *p = pool_with(1, 1.0, "init_sleep", NULL);
  act quick = an(3, DO_SQUARE, -1, 0);
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "behave", &quick, sizeof quick, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  mp_pool_free(p);
  /* Four items of 0.3 s in one chunk, under a timeout of 0.8 s: each is
   * in time. One of 2.5 s among them is not, and only it. */
  mp_shm *s;
  uint32_t *ran = counters(&s, 8);
  p = pool_with(1, 0.8, NULL, mp_shm_obj(s));
  act items[4];
  mp_slice in[4];
  mp_result out[4];
  for (int round = 0; round < 2; round++) {
    memset(ran, 0, 8 * sizeof *ran);
    for (int i = 0; i < 4; i++) {
      items[i] = an(i, DO_SLEEP, i, round == 1 && i == 1 ? 2.5 : 0.3);
      in[i].data = &items[i];
      in[i].len = sizeof items[i];
    }
    mp_map_options mo = {0};
    mo.chunksize = 4;
    TU_CHECK(mp_pool_map_slices(p, "behave", in, 4, out, &mo), round == 0 ? MP_OK : MP_ETIMEDOUT);
    for (int i = 0; i < 4; i++) {
      int late = round == 1 && i == 1;
      assert_int_equal(out[i].status, late ? MP_ETIMEDOUT : MP_OK);
      if (late) assert_non_null(strstr(out[i].message, "task_timeout"));
      assert_int_equal(ran[i], 1);
      mp_result_clear(&out[i]);
    }
  }
  mp_pool_free(p);
  mp_shm_free(s);
}

/* An initializer that crashes or exits breaks the pool: a bounded number
 * of restarts, every task fails with a sentence naming the initializer and
 * how it ended, and none is blamed for it. */
static void dying_initializers_break_the_pool(void **state) {
  (void)state;
  const char *inits[] = {"init_crash", "init_exit"};
  /* A sanitizer's leak check at exit() makes it 1 in a fork child, which
   * sees its parent's other threads' memory as leaked. */
  const char *how[] = {"signal", tu_sanitized() ? "exited with code" : "exited with code 3"};
  for (int k = 0; k < 2; k++) {
    mp_shm *s;
    uint32_t *starts = counters(&s, 1);
    double t0 = mp__now();
    mp_pool *p = pool_with(1, 0, inits[k], mp_shm_obj(s));
    act quick = an(3, DO_SQUARE, -1, 0);
    mp_result r;
    TU_CHECK(mp_pool_apply(p, "behave", &quick, sizeof quick, &r), MP_OK);
    assert_int_equal(r.status, MP_ETASK);
    if (!strstr(r.message, inits[k]) || !strstr(r.message, how[k])) fail_msg("message: %s", r.message);
    assert_null(strstr(r.message, "behave"));
    mp_result_clear(&r);
    /* Later work fails the same way at once. */
    TU_CHECK(mp_pool_apply(p, "behave", &quick, sizeof quick, &r), MP_OK);
    assert_int_equal(r.status, MP_ETASK);
    mp_result_clear(&r);
    mp__sleep(0.3);
    assert_true(starts[0] >= 1 && starts[0] <= 3);
    assert_true(mp__now() - t0 < 10);
    mp_pool_free(p);
    mp_shm_free(s);
  }
}

static void cancels_never_start_and_kill(void **state) {
  (void)state;
  mp_shm *s;
  uint32_t *ran = counters(&s, 4);
  mp_pool *p = pool_with(1, 0, NULL, mp_shm_obj(s));
  act slow = an(1, DO_SLEEP, 0, 30), queued = an(2, DO_SQUARE, 1, 0);
  mp_async *a, *b;
  TU_CHECK(mp_pool_apply_async(p, "behave", &slow, sizeof slow, NULL, NULL, &a), MP_OK);
  double t0 = mp__now();
  while (ran[0] == 0 && mp__now() - t0 < 30) mp__sleep(0.005);
  TU_CHECK(mp_pool_apply_async(p, "behave", &queued, sizeof queued, NULL, NULL, &b), MP_OK);
  TU_CHECK(mp_async_cancel(b), MP_OK);
  TU_CHECK(mp_async_cancel(a), MP_OK);
  TU_CHECK(mp_async_wait(a, 10), MP_OK);
  TU_CHECK(mp_async_wait(b, 10), MP_OK);
  assert_int_equal(mp_async_result(a)->status, MP_ECANCELLED);
  assert_int_equal(mp_async_result(b)->status, MP_ECANCELLED);
  TU_CHECK(mp_async_cancel(b), MP_ESTATE);
  /* The pool goes on; the cancelled job never started. */
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "behave", &queued, sizeof queued, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  mp__sleep(0.2);
  assert_int_equal(ran[1], 1); /* the apply's run, not the cancelled one's */
  mp_async_free(a);
  mp_async_free(b);
  mp_pool_free(p);
  mp_shm_free(s);
}

static int slow_items(void *ud, size_t index, mp_slice *item) {
  static act a;
  (void)ud;
  if (index >= 20) return 0;
  a = an((int64_t)index, DO_SLEEP, -1, 0.2);
  item->data = &a;
  item->len = sizeof a;
  return 1;
}

/* Freeing an iterator drops its own work at once, whatever else runs. */
static void iter_free_waits_for_nothing(void **state) {
  (void)state;
  mp_pool *p = pool_with(2, 0, NULL, NULL);
  act busy = an(1, DO_SLEEP, -1, 3);
  mp_async *a;
  TU_CHECK(mp_pool_apply_async(p, "behave", &busy, sizeof busy, NULL, NULL, &a), MP_OK);
  mp_iter *it;
  mp_imap_options io = {0};
  io.max_in_flight = 8;
  TU_CHECK(mp_pool_imap(p, "behave", slow_items, NULL, &io, &it), MP_OK);
  mp_result r;
  size_t index;
  TU_CHECK(mp_iter_next(it, 10, &index, &r), MP_OK);
  mp_result_clear(&r);
  double t0 = mp__now();
  mp_iter_free(it);
  assert_true(mp__now() - t0 < 0.5);
  TU_CHECK(mp_async_wait(a, 10), MP_OK);
  assert_int_equal(mp_async_result(a)->status, MP_OK);
  mp_async_free(a);
  mp_pool_free(p);
}

/* An item never waits behind a busy worker while another is idle. */
static void an_idle_worker_takes_what_is_queued(void **state) {
  (void)state;
  mp_pool *p = pool_with(2, 0, NULL, NULL);
  act busy = an(1, DO_SLEEP, -1, 4);
  mp_async *a;
  TU_CHECK(mp_pool_apply_async(p, "behave", &busy, sizeof busy, NULL, NULL, &a), MP_OK);
  mp__sleep(0.2);
  act items[8];
  mp_slice in[8];
  mp_result out[8];
  for (int i = 0; i < 8; i++) {
    items[i] = an(i, DO_SLEEP, -1, 0.05);
    in[i].data = &items[i];
    in[i].len = sizeof items[i];
  }
  double t0 = mp__now();
  TU_CHECK(mp_pool_map_slices(p, "behave", in, 8, out, NULL), MP_OK);
  double took = mp__now() - t0;
  for (int i = 0; i < 8; i++) mp_result_clear(&out[i]);
  if (took > 2.0) fail_msg("8 x 50 ms took %.2f s beside a busy worker", took);
  mp_async_free(a);
  mp_pool_free(p);
}

/* imap submitted before close goes on after it: every input comes out,
 * each was asked for once, and an error never comes with a result. */
typedef struct logged {
  int asked[64];
  size_t n, fail_at;
  int64_t value;
  act a;
} logged;

static int logged_producer(void *ud, size_t index, mp_slice *item) {
  logged *l = ud;
  if (index < 64) l->asked[index]++;
  if (index == l->fail_at) return -77;
  if (index >= l->n) return 0;
  l->a = an((int64_t)index, DO_SQUARE, -1, 0);
  item->data = &l->a;
  item->len = sizeof l->a;
  return 1;
}

static void imap_after_close_and_its_errors(void **state) {
  (void)state;
  mp_pool *p = pool_with(2, 0, NULL, NULL);
  logged l;
  memset(&l, 0, sizeof l);
  l.n = 11;
  l.fail_at = SIZE_MAX;
  mp_imap_options io = {0};
  io.max_in_flight = 2;
  mp_iter *it;
  TU_CHECK(mp_pool_imap(p, "behave", logged_producer, &l, &io, &it), MP_OK);
  mp_result r;
  size_t index, got = 0;
  TU_CHECK(mp_iter_next(it, 10, &index, &r), MP_OK);
  mp_result_clear(&r);
  got++;
  TU_CHECK(mp_pool_close(p), MP_OK);
  int rc;
  while ((rc = mp_iter_next(it, 10, &index, &r)) == MP_OK) {
    assert_int_equal(index, got);
    assert_true(*(int64_t *)r.data == (int64_t)index * (int64_t)index);
    mp_result_clear(&r);
    got++;
  }
  assert_int_equal(rc, MP_ECLOSED);
  assert_null(r.data);
  assert_int_equal(got, 11);
  for (size_t i = 0; i <= 11; i++) assert_int_equal(l.asked[i], 1);
  mp_iter_free(it);
  TU_CHECK(mp_pool_join(p, 30), MP_OK);
  mp_pool_free(p);
  /* A producer that fails at 5: the results before it, then its error,
   * with nothing filled. */
  p = pool_with(2, 0, NULL, NULL);
  memset(&l, 0, sizeof l);
  l.n = 20;
  l.fail_at = 5;
  TU_CHECK(mp_pool_imap(p, "behave", logged_producer, &l, &io, &it), MP_OK);
  for (got = 0; (rc = mp_iter_next(it, 10, &index, &r)) == MP_OK; got++) mp_result_clear(&r);
  assert_int_equal(got, 5);
  assert_int_equal(rc, -77);
  assert_true(r.data == NULL && r.message == NULL && r.status == 0);
  assert_int_equal(mp_iter_next(it, 0, &index, &r), -77);
  for (size_t i = 0; i <= 5; i++) assert_int_equal(l.asked[i], 1);
  assert_int_equal(l.asked[6], 0);
  mp_iter_free(it);
  /* Failing on the very first pull is imap's own answer. */
  memset(&l, 0, sizeof l);
  l.fail_at = 0;
  it = (mp_iter *)&l;
  assert_int_equal(mp_pool_imap(p, "behave", logged_producer, &l, &io, &it), -77);
  assert_null(it);
  mp_pool_free(p);
}

/* A worker killed while idle: the next task still runs (elsewhere, or on
 * its replacement), never reads MP_ECRASHED. */
static void a_task_for_a_dead_worker_runs_elsewhere(void **state) {
  (void)state;
  mp_pool *p = pool_with(1, 0, NULL, NULL);
  size_t rounds = tu_scale(50, 5);
  for (size_t i = 0; i < rounds; i++) {
    mp_result r;
    TU_CHECK(mp_pool_apply(p, "who", NULL, 0, &r), MP_OK);
    assert_int_equal(r.status, MP_OK);
    int64_t pid = *(int64_t *)r.data;
    mp_result_clear(&r);
    TU_CHECK(mp__pid_kill(pid), MP_OK);
    act quick = an((int64_t)i, DO_SQUARE, -1, 0);
    TU_CHECK(mp_pool_apply(p, "behave", &quick, sizeof quick, &r), MP_OK);
    if (r.status != MP_OK) fail_msg("round %zu: %s: %s", i, mp_err_name(r.status), r.message);
    mp_result_clear(&r);
  }
  mp_pool_free(p);
}

static void slow_callback(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  mp__sleep(2);
}

/* One job's slow callback holds up no other job's blocking call. */
static void a_slow_callback_delays_no_one_else(void **state) {
  (void)state;
  mp_pool *p = pool_with(2, 0, NULL, NULL);
  act quick = an(2, DO_SQUARE, -1, 0);
  TU_CHECK(mp_pool_apply_async(p, "behave", &quick, sizeof quick, slow_callback, NULL, NULL), MP_OK);
  mp__sleep(0.2); /* its callback runs now */
  double t0 = mp__now();
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "behave", &quick, sizeof quick, &r), MP_OK);
  mp_result_clear(&r);
  double took = mp__now() - t0;
  if (took > 1.0) fail_msg("an apply took %.2f s behind another job's callback", took);
  mp_pool_free(p);
}

int main(int argc, char **argv) {
  MP_REGISTER(behave);
  MP_REGISTER(sized);
  MP_REGISTER(init_sleep);
  MP_REGISTER(init_crash);
  MP_REGISTER(init_exit);
  MP_REGISTER(who);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(no_size_mix_hangs),
      TU_TEST(a_death_fails_exactly_its_item),
      TU_TEST(task_timeout_is_per_item_from_its_start),
      TU_TEST(dying_initializers_break_the_pool),
      TU_TEST(cancels_never_start_and_kill),
      TU_TEST(iter_free_waits_for_nothing),
      TU_TEST(an_idle_worker_takes_what_is_queued),
      TU_TEST(imap_after_close_and_its_errors),
      TU_TEST(a_task_for_a_dead_worker_runs_elsewhere),
      TU_TEST(a_slow_callback_delays_no_one_else),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
