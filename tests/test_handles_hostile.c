/* OS handles under hostile conditions: threads churning handles while a
 * pool starts and replaces its workers, and children killed while they
 * start with handles in their options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

/* Does nothing: the worker it runs in is the point. */
static int nothing(mp_call *call) {
  (void)call;
  return 0;
}

typedef struct churn {
  mp__handle wr;             /* the write end every thread wraps and frees */
  volatile uint32_t stop;
  volatile uint32_t made;
} churn;

static void churn_loop(void *ud) {
  churn *c = ud;
  while (!mp__atomic_load32(&c->stop)) {
    mp_oshandle *x = NULL;
    if (mp_oshandle_create(&x, (mp_os_handle)c->wr) == MP_OK) mp__atomic_add32(&c->made, 1);
    mp_oshandle_free(x);
  }
}

/* While four threads wrap and free copies of a pipe's write end, a pool
 * (max_tasks_per_child 1: it keeps starting workers) runs tasks. Then,
 * with the pool still running, the read end must see end-of-file: no
 * worker got a copy it was not handed. */
static void churn_while_a_pool_starts(void **state) {
  (void)state;
  enum { THREADS = 4 };
  churn c;
  memset(&c, 0, sizeof c);
  mp__handle rd;
  TU_CHECK(mp__pipe(&rd, &c.wr), MP_OK);
  mp__thread *t[THREADS];
  for (int i = 0; i < THREADS; i++) TU_CHECK(mp__thread_start(&t[i], churn_loop, &c), MP_OK);
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 2;
  po.max_tasks_per_child = 1;
  mp_pool *pool = NULL;
  TU_CHECK(mp_pool_create(&pool, &po), MP_OK);
  size_t n = tu_scale(40, 10);
  for (size_t i = 0; i < n; i++) {
    mp_result r;
    TU_CHECK(mp_pool_apply(pool, "nothing", NULL, 0, &r), MP_OK);
    assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
  }
  mp__atomic_store32(&c.stop, 1);
  for (int i = 0; i < THREADS; i++) mp__thread_join(t[i]);
  assert_true(mp__atomic_load32(&c.made) > 0);
  mp__handle_close(c.wr);
  char b;
  size_t got = 0;
  TU_CHECK(mp__read(rd, &b, 1, &got, 30), MP_ECLOSED); /* the workers still live */
  mp_pool_free(pool);
  mp__handle_close(rd);
}

/* Processes handed a handle and killed at once, mid-start: the parent's
 * copy stays usable and nothing leaks (the teardown counts handles). */
static void killed_mid_start(void **state) {
  (void)state;
  mp__handle rd, wr;
  TU_CHECK(mp__pipe(&rd, &wr), MP_OK);
  mp_oshandle *x = NULL;
  TU_CHECK(mp_oshandle_create(&x, (mp_os_handle)wr), MP_OK);
  mp_object *o = mp_oshandle_obj(x);
  size_t n = tu_scale(10, 3);
  for (size_t i = 0; i < n; i++) {
    mp_process *p = tu_start("nothing", &o, 1, NULL, 0);
    TU_CHECK(mp_process_kill(p), MP_OK);
    TU_CHECK(mp_process_join(p, 60), MP_OK);
    mp_process_free(p);
  }
  assert_true(mp__handle_valid((mp__handle)mp_oshandle_get(x)));
  TU_CHECK(mp__write_all((mp__handle)mp_oshandle_get(x), "k", 1), MP_OK);
  char b = 0;
  size_t got = 0;
  TU_CHECK(mp__read(rd, &b, 1, &got, 30), MP_OK);
  assert_int_equal(b, 'k');
  mp_oshandle_free(x);
  mp__handle_close(wr);
  TU_CHECK(mp__read(rd, &b, 1, &got, 30), MP_ECLOSED); /* every killed child's copy went with it */
  mp__handle_close(rd);
}

int main(int argc, char **argv) {
  MP_REGISTER(nothing);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(churn_while_a_pool_starts),
      TU_TEST(killed_mid_start),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
