/* callbacks: callbacks that submit new work (a chain of 200), cancel other
 * jobs, are slow (must not delay another job's blocking call), terminate or
 * close the pool; progress callbacks; apply from inside a callback. */
#include "common.h"
static int t_sl(mp_call *c) {
  double s = 0;
  mp_call_arg_read(c, &s, 8);
  sleep_s(s);
  uint64_t i = mp_call_index(c);
  return mp_call_return(c, &i, 8);
}
static mp_pool *P;
static int chain_n, chain_done;
static mp_async *chain_jobs[256];
static void chain_cb(mp_async *a, void *ud) {
  (void)a;
  int k = (int)(intptr_t)ud;
  chain_done++;
  if (k + 1 < 200) {
    double z = 0;
    int rc = mp_pool_apply_async(P, "t_sl", &z, 8, chain_cb, (void *)(intptr_t)(k + 1), &chain_jobs[k + 1]);
    if (rc)
      failf("submit from callback: %s", mp_err_name(rc));
    else
      chain_n++;
  }
}
static mp_async *victims[10];
static int cancel_rc[10];
static void canceller_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  for (int i = 0; i < 10; i++)
    cancel_rc[i] = mp_async_cancel(victims[i]);
}
static volatile int slow_in;
static void slow_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  slow_in = 1;
  sleep_s(3);
  slow_in = 0;
}
static void term_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  int rc = mp_pool_terminate(P);
  if (rc)
    failf("terminate from callback: %s", mp_err_name(rc));
}
static void close_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  int rc = mp_pool_close(P);
  if (rc)
    failf("close from callback: %s", mp_err_name(rc));
}
static int apply_in_cb_rc = 99, apply_in_cb_st = 99;
static void apply_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  mp_result r = {0};
  double z = 0;
  apply_in_cb_rc = mp_pool_apply(P, "t_sl", &z, 8, &r);
  apply_in_cb_st = r.status;
  mp_result_clear(&r);
}
static size_t prog_last;
static int prog_calls;
static void prog(size_t done, size_t total, void *ud) {
  (void)ud;
  (void)total;
  prog_calls++;
  prog_last = done;
}
static int cbcount[64];
static void count_cb(mp_async *a, void *ud) {
  (void)a;
  cbcount[(intptr_t)ud]++;
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_sl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "callbacks";
  watchdog(90);
  mp_pool_options o = {0};
  o.workers = 2;
  MUST_OK(mp_pool_create(&P, &o));
  /* 1: chain */
  PHASE("chain");
  double z = 0;
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, chain_cb, (void *)(intptr_t)0, &chain_jobs[0]));
  double t0 = now_s();
  while (chain_done < 200 && now_s() - t0 < 20)
    sleep_s(0.01);
  if (chain_done != 200)
    failf("chain: %d of 200 callbacks", chain_done);
  for (int i = 0; i < 200; i++)
    if (chain_jobs[i]) {
      if (mp_async_wait(chain_jobs[i], 2))
        failf("chain job %d not ready", i);
      chain_jobs[i] = mp_async_free(chain_jobs[i]);
    }
  /* 2: a callback cancels other jobs (queued behind busy workers) */
  PHASE("cancel from cb");
  double s1 = 1.0;
  mp_async *b1, *b2, *trig;
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &s1, 8, NULL, NULL, &b1));
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &s1, 8, NULL, NULL, &b2));
  for (int i = 0; i < 10; i++)
    CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, count_cb, (void *)(intptr_t)i, &victims[i]));
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, canceller_cb, NULL,
                               &trig)); /* queued after the victims: runs after them, so its cancels are ESTATE */
  mp_async_wait(trig, 5);
  for (int i = 0; i < 10; i++) {
    if (mp_async_wait(victims[i], 5))
      failf("victim %d not ready", i);
    if (cancel_rc[i] != MP_OK && cancel_rc[i] != MP_ESTATE)
      failf("cancel from cb: %s", mp_err_name(cancel_rc[i]));
  }
  sleep_s(0.1);
  for (int i = 0; i < 10; i++) {
    if (cbcount[i] != 1)
      failf("victim %d callback ran %d times", i, cbcount[i]);
    victims[i] = mp_async_free(victims[i]);
  }
  b1 = mp_async_free(b1);
  b2 = mp_async_free(b2);
  trig = mp_async_free(trig);
  /* 3: a slow callback must not delay another job's blocking map / apply / wait */
  PHASE("slow cb");
  mp_async *sj;
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, slow_cb, NULL, &sj));
  while (!slow_in)
    sleep_s(0.001);
  t0 = now_s();
  uint64_t out[8];
  double in[8] = {0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05};
  CHECK_OK(mp_pool_map(P, "t_sl", in, 8, 8, out, 8, NULL));
  double dm = now_s() - t0;
  if (dm > 1.0)
    failf("blocking map took %.2fs during another job's slow callback", dm);
  t0 = now_s();
  mp_result r = {0};
  CHECK_OK(mp_pool_apply(P, "t_sl", &z, 8, &r));
  mp_result_clear(&r);
  if (now_s() - t0 > 0.5)
    failf("apply took %.2fs during a slow callback", now_s() - t0);
  /* map with a progress callback while the callback thread is busy: map itself not delayed */
  mp_map_options mo = {0};
  mo.progress = prog;
  mo.chunksize = 1;
  t0 = now_s();
  CHECK_OK(mp_pool_map(P, "t_sl", in, 8, 8, out, 8, &mo));
  if (now_s() - t0 > 1.0)
    failf("map with progress took %.2fs during a slow callback", now_s() - t0);
  /* a job without callback: wait is not delayed */
  mp_async *nj;
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, NULL, NULL, &nj));
  t0 = now_s();
  if (mp_async_wait(nj, 5))
    failf("wait");
  if (now_s() - t0 > 0.5)
    failf("mp_async_wait on a job without callback took %.2fs during a slow callback", now_s() - t0);
  nj = mp_async_free(nj);
  if (mp_async_wait(sj, 5))
    failf("slow job never ready");
  sj = mp_async_free(sj);
  sleep_s(0.2);
  if (prog_last != 8)
    failf("progress: last report %zu of 8 (%d calls)", prog_last, prog_calls);
  /* 4: apply from inside a callback */
  PHASE("apply in cb");
  mp_async *aj;
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, apply_cb, NULL, &aj));
  int rc = mp_async_wait(aj, 10);
  infof("apply inside a callback: wait %s, apply rc %s status %s", mp_err_name(rc), mp_err_name(apply_in_cb_rc),
        mp_err_name(apply_in_cb_st));
  aj = mp_async_free(aj);
  /* 5: a callback terminates the pool while other jobs are queued */
  PHASE("terminate in cb");
  mp_async *js[20];
  double s2 = 0.5, s_first = 1.0; /* the first ends after the rest are in */
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &s_first, 8, term_cb, NULL, &js[0]));
  for (int i = 1; i < 20; i++)
    CHECK_OK(mp_pool_apply_async(P, "t_sl", &s2, 8, count_cb, (void *)(intptr_t)(20 + i), &js[i]));
  for (int i = 0; i < 20; i++) {
    rc = mp_async_wait(js[i], 10);
    if (rc)
      failf("job %d after terminate-in-callback: %s", i, mp_err_name(rc));
    else if (i) {
      const mp_result *rr = mp_async_result(js[i]);
      if (rr->status != MP_ECANCELLED && rr->status != MP_OK)
        failf("job %d: %s", i, mp_err_name(rr->status));
    }
  }
  rc = mp_pool_join(P, 5);
  if (rc)
    failf("join after terminate from callback: %s", mp_err_name(rc));
  sleep_s(0.1);
  for (int i = 1; i < 20; i++) {
    if (cbcount[20 + i] != 1)
      failf("job %d callback ran %d times after terminate", i, cbcount[20 + i]);
    js[i] = mp_async_free(js[i]);
  }
  js[0] = mp_async_free(js[0]);
  P = mp_pool_free(P);
  /* 6: a callback closes the pool; queued work still completes */
  PHASE("close in cb");
  MUST_OK(mp_pool_create(&P, &o));
  CHECK_OK(mp_pool_apply_async(P, "t_sl", &z, 8, close_cb, NULL, &js[0]));
  double s3 = 0.05;
  for (int i = 1; i < 20; i++) {
    rc = mp_pool_apply_async(P, "t_sl", &s3, 8, NULL, NULL, &js[i]);
    if (rc) {
      js[i] = NULL;
      if (rc != MP_ESTATE)
        failf("submit: %s", mp_err_name(rc));
    }
  }
  for (int i = 0; i < 20; i++)
    if (js[i]) {
      rc = mp_async_wait(js[i], 10);
      const mp_result *rr = mp_async_result(js[i]);
      if (rc || rr->status != MP_OK)
        failf("job %d after close-in-callback: %s %s", i, mp_err_name(rc), rr ? mp_err_name(rr->status) : "");
      js[i] = mp_async_free(js[i]);
    }
  rc = mp_pool_join(P, 5);
  if (rc)
    failf("join after close from callback: %s", mp_err_name(rc));
  P = mp_pool_free(P);
  return finish();
}
