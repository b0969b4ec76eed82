/* pool_attack_timeouts: every pool wait that takes a timeout (mp_async_wait,
 * mp_iter_next, mp_pool_join) with a negative, NaN, -INF or -1e-300 one is
 * MP_EINVAL (join before close: MP_EINVAL or MP_ESTATE); 0, 1e-9 and a
 * denormal only look (MP_ETIMEDOUT at once while the work goes on); INF,
 * 1e12, DBL_MAX, MP_FOREVER and 1e9+1 wait to the end; join before close is
 * MP_ESTATE, after close 0 and 1e-9 are MP_ETIMEDOUT while a job runs, a
 * huge one waits, and the job is then done. */
#include "pool_attack.h"
#include <math.h>

/* What runs while the waits that only look must see it unfinished: long
 * enough that a loaded machine (or Wine) cannot get through those few
 * calls first. */
#define JOB_S 2.0
#define ITEM_S 1.5
typedef struct prod {
  int n;
  op cur;
} prod;
static int producer(void *ud, size_t index, mp_slice *item) {
  prod *pr = (prod *)ud;
  if ((int)index >= pr->n)
    return 0;
  pr->cur = mkop((int)index, A_OK, ITEM_S, 8);
  *item = mkslice(&pr->cur, sizeof pr->cur);
  return 1;
}

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_timeouts", 120);
  mp_pool *p = NULL;
  if (mkpool(&p, 2, 0, 0, NULL, NULL, 0))
    PA_DONE();
  const double bad[] = {-0.5, -2.0, NAN, -INFINITY, -1e-300};
  PHASE("bad timeouts");
  op o = mkop(0, A_OK, JOB_S, 8);
  mp_async *a = NULL;
  CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, NULL, NULL, &a) == MP_OK, "apply_async");
  prod pr;
  memset(&pr, 0, sizeof pr);
  pr.n = 4;
  mp_imap_options io;
  memset(&io, 0, sizeof io);
  mp_iter *it = NULL;
  CHECK(mp_pool_imap(p, "t_op", producer, &pr, &io, &it) == MP_OK, "imap");
  if (!a || !it) {
    p = mp_pool_free(p);
    PA_DONE();
  }
  mp_result r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < 5; i++) {
    int rc = mp_async_wait(a, bad[i]);
    CHECK(rc == MP_EINVAL, "async_wait(%g): %s", bad[i], mp_err_name(rc));
    rc = mp_iter_next(it, bad[i], NULL, &r);
    CHECK(rc == MP_EINVAL, "iter_next(%g): %s", bad[i], mp_err_name(rc));
    mp_result_clear(&r);
    rc = mp_pool_join(p, bad[i]);
    CHECK(rc == MP_EINVAL || rc == MP_ESTATE, "join(%g) before close: %s", bad[i], mp_err_name(rc));
  }
  PHASE("waits that only look");
  double t0 = now_s();
  int rc = mp_async_wait(a, 0);
  CHECK(rc == MP_ETIMEDOUT, "wait(0): %s", mp_err_name(rc));
  rc = mp_async_wait(a, 1e-9);
  CHECK(rc == MP_ETIMEDOUT, "wait(1e-9): %s", mp_err_name(rc));
  rc = mp_async_wait(a, 5e-324);
  CHECK(rc == MP_ETIMEDOUT, "wait(denormal): %s", mp_err_name(rc));
  rc = mp_iter_next(it, 0, NULL, &r);
  CHECK(rc == MP_ETIMEDOUT, "next(0): %s", mp_err_name(rc));
  rc = mp_iter_next(it, 1e-9, NULL, &r);
  CHECK(rc == MP_ETIMEDOUT, "next(1e-9): %s", mp_err_name(rc));
  double dt = now_s() - t0;
  CHECK(dt < 1, "waits that only look took %.3f s", dt);
  rc = mp_pool_join(p, 0);
  CHECK(rc == MP_ESTATE, "join(0) before close: %s", mp_err_name(rc));
  PHASE("waits to the end");
  rc = mp_async_wait(a, INFINITY);
  CHECK(rc == MP_OK, "wait(INF): %s", mp_err_name(rc));
  rc = mp_iter_next(it, 1e12, NULL, &r);
  CHECK(rc == MP_OK, "next(1e12): %s", mp_err_name(rc));
  mp_result_clear(&r);
  rc = mp_iter_next(it, 1.7976931348623157e308, NULL, &r);
  CHECK(rc == MP_OK, "next(DBL_MAX): %s", mp_err_name(rc));
  mp_result_clear(&r);
  rc = mp_iter_next(it, MP_FOREVER, NULL, &r);
  CHECK(rc == MP_OK, "next(FOREVER): %s", mp_err_name(rc));
  mp_result_clear(&r);
  rc = mp_iter_next(it, 1e9 + 1, NULL, &r);
  CHECK(rc == MP_OK, "next(1e9+1): %s", mp_err_name(rc));
  mp_result_clear(&r);
  rc = mp_iter_next(it, INFINITY, NULL, &r);
  CHECK(rc == MP_ECLOSED, "next(INF) at the end: %s", mp_err_name(rc));
  a = mp_async_free(a);
  it = mp_iter_free(it);
  PHASE("join");
  o.sleep_s = JOB_S;
  CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, NULL, NULL, &a) == MP_OK, "apply_async 2");
  mp_pool_close(p);
  for (int i = 0; i < 5; i++) {
    rc = mp_pool_join(p, bad[i]);
    CHECK(rc == MP_EINVAL, "join(%g) after close: %s", bad[i], mp_err_name(rc));
  }
  rc = mp_pool_join(p, 0);
  CHECK(rc == MP_ETIMEDOUT, "join(0) while busy: %s", mp_err_name(rc));
  rc = mp_pool_join(p, 1e-9);
  CHECK(rc == MP_ETIMEDOUT, "join(1e-9) while busy: %s", mp_err_name(rc));
  rc = mp_pool_join(p, 1e300);
  CHECK(rc == MP_OK, "join(1e300): %s", mp_err_name(rc));
  rc = mp_pool_join(p, 0);
  CHECK(rc == MP_OK, "join(0) again: %s", mp_err_name(rc));
  CHECK(a && mp_async_wait(a, 0) == MP_OK && check_result(mp_async_result(a), 0), "job done after join");
  a = mp_async_free(a);
  p = mp_pool_free(p);
  PA_DONE();
}
