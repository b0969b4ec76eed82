/* lock_edges.c: Lock/RLock ownership, robustness (death, return holding, free holding), contention */
#include "common.h"
static int t_hold_return(mp_call *c) {
  mp_lock *l = mp_call_lock(c, 0);
  int depth = 1;
  size_t n;
  mp_call_arg(c, &n);
  if (n == 4)
    mp_call_arg_read(c, &depth, 4);
  for (int i = 0; i < depth; i++) {
    int rc = mp_lock_acquire(l, 5);
    if (rc != MP_OK && rc != MP_EOWNERDEAD)
      return mp_call_fail(c, "acquire %s", mp_err_name(rc));
  }
  return 0;
}
static int t_try(mp_call *c) {
  mp_lock *l = mp_call_lock(c, 0);
  int rc = mp_lock_acquire(l, 2);
  int r = rc;
  if (rc == MP_OK || rc == MP_EOWNERDEAD)
    mp_lock_release(l);
  return mp_call_return(c, &r, sizeof r);
}
static int t_hold_forever(mp_call *c) {
  mp_lock *l = mp_call_lock(c, 0);
  mp_event *e = mp_call_event(c, 1);
  mp_lock_acquire(l, 5);
  mp_event_set(e);
  sleep_s(60);
  return 0;
}
static int t_counter(mp_call *c) {
  mp_lock *l = mp_call_lock(c, 0);
  mp_shm *s = mp_call_shm(c, 1);
  volatile int64_t *v = mp_shm_ptr(s);
  int iters;
  mp_call_arg_read(c, &iters, 4);
  for (int i = 0; i < iters; i++) {
    int rc = mp_lock_acquire(l, 10);
    if (rc == MP_EOWNERDEAD) {
      v[1]++;
    } else if (rc)
      return mp_call_fail(c, "acquire %s", mp_err_name(rc));
    int64_t x = v[0];
    v[2] = 1;
    v[0] = x + 1;
    v[2] = 0;
    mp_lock_release(l);
  }
  return 0;
}
static mp_lock *gl;
static int thr_rc;
static void *thr_release(void *x) {
  (void)x;
  thr_rc = mp_lock_release(gl);
  return NULL;
}
static void *thr_acq_exit(void *x) {
  (void)x;
  thr_rc = mp_lock_acquire(gl, 1);
  return NULL;
}
static void *thr_acq(void *x) {
  double t = *(double *)x;
  thr_rc = mp_lock_acquire(gl, t);
  if (thr_rc == MP_OK || thr_rc == MP_EOWNERDEAD)
    mp_lock_release(gl);
  return NULL;
}
static mp_process *start_o(const char *task, mp_object **obs, size_t no, const void *arg, size_t len) {
  mp_process_options po = {0};
  po.objects = obs;
  po.nobjects = no;
  mp_process *p = NULL;
  int rc = mp_process_start(&p, task, arg, len, &po);
  if (rc)
    failf("start %s: %s %s", task, mp_err_name(rc), mp_last_error());
  return p;
}
static void endp(mp_process *p) {
  mp_process_join(p, 20);
  mp_result r = {0};
  mp_process_result(p, &r);
  if (r.status)
    failf("child: %s %s", mp_err_name(r.status), r.message ? r.message : "");
  mp_result_clear(&r);
  mp_process_free(p);
}

int main(int argc, char **argv) {
  g_test = "lock_edges";
  MP_REGISTER(t_hold_return);
  MP_REGISTER(t_try);
  MP_REGISTER(t_hold_forever);
  MP_REGISTER(t_counter);
  MUST_OK(mp_main(argc, argv));
  watchdog(110);
  int rc;
  pthread_t t;
  for (int rec = 0; rec < 2; rec++) {
    PHASE("ownership");
    MUST_OK(mp_lock_create(&gl, rec));
    rc = mp_lock_release(gl);
    if (rc != MP_ESTATE)
      failf("rec %d: release unheld -> %s", rec, mp_err_name(rc));
    CHECK_OK(mp_lock_acquire(gl, 0));
    rc = mp_lock_acquire(gl, 0);
    if (rec ? rc != MP_OK : rc != MP_ESTATE)
      failf("rec %d: second acquire by holder -> %s", rec, mp_err_name(rc));
    rc = mp_lock_acquire(gl, MP_FOREVER);
    if (rec ? rc != MP_OK : rc != MP_ESTATE)
      failf("rec %d: acquire(FOREVER) by holder -> %s", rec, mp_err_name(rc));
    pthread_create(&t, NULL, thr_release, NULL);
    pthread_join(t, NULL);
    if (thr_rc != MP_ESTATE)
      failf("rec %d: release by another thread -> %s", rec, mp_err_name(thr_rc));
    double tt = 0.2;
    pthread_create(&t, NULL, thr_acq, &tt);
    pthread_join(t, NULL);
    if (thr_rc != MP_ETIMEDOUT)
      failf("rec %d: other thread acquire -> %s", rec, mp_err_name(thr_rc));
    CHECK_OK(mp_lock_release(gl));
    if (rec) {
      CHECK_OK(mp_lock_release(gl));
      rc = mp_lock_release(gl);
      if (rc != MP_OK)
        failf("rlock third release -> %s", mp_err_name(rc));
    }
    rc = mp_lock_release(gl);
    if (rc != MP_ESTATE)
      failf("rec %d: extra release -> %s", rec, mp_err_name(rc));
    tt = 0;
    pthread_create(&t, NULL, thr_acq, &tt);
    pthread_join(t, NULL);
    if (thr_rc != MP_OK)
      failf("rec %d: other thread acquire after release -> %s", rec, mp_err_name(thr_rc));
    PHASE("thread exits holding");
    pthread_create(&t, NULL, thr_acq_exit, NULL);
    pthread_join(t, NULL);
    rc = mp_lock_acquire(gl, 1);
    if (rc != MP_EOWNERDEAD)
      failf("rec %d: acquire after holder thread exited -> %s (want EOWNERDEAD)", rec, mp_err_name(rc));
    if (rc == MP_OK || rc == MP_EOWNERDEAD) {
      CHECK_OK(mp_lock_release(gl));
      rc = mp_lock_release(gl);
      if (rc != MP_ESTATE)
        failf("rec %d: after EOWNERDEAD depth not 1: second release -> %s", rec, mp_err_name(rc));
    }
    rc = mp_lock_acquire(gl, 0);
    if (rc != MP_OK)
      failf("rec %d: acquire after repair -> %s", rec, mp_err_name(rc));
    else
      mp_lock_release(gl);
    PHASE("task returns holding");
    mp_object *o = mp_lock_obj(gl);
    int depth = rec ? 3 : 1;
    mp_process *p = start_o("t_hold_return", &o, 1, &depth, 4);
    endp(p);
    rc = mp_lock_acquire(gl, 1);
    if (rc != MP_EOWNERDEAD)
      failf("rec %d (%s): acquire after a task returned holding it -> %s want EOWNERDEAD", rec, start_method_name(),
            mp_err_name(rc));
    if (rc == MP_OK || rc == MP_EOWNERDEAD) {
      mp_lock_release(gl);
      rc = mp_lock_release(gl);
      if (rc != MP_ESTATE)
        failf("rec %d: depth after EOWNERDEAD not 1", rec);
    }
    PHASE("killed holding");
    {
      mp_event *e;
      MUST_OK(mp_event_create(&e));
      mp_object *obs[2] = {mp_lock_obj(gl), mp_event_obj(e)};
      p = start_o("t_hold_forever", obs, 2, NULL, 0);
      CHECK_OK(mp_event_wait(e, 20));
      double t0 = now_s();
      rc = mp_lock_acquire(gl, 0.3);
      if (rc != MP_ETIMEDOUT || now_s() - t0 > 0.8)
        failf("acquire while child holds -> %s", mp_err_name(rc));
      mp_process_kill(p);
      mp_process_join(p, 5);
      mp_process_free(p);
      rc = mp_lock_acquire(gl, 2);
      if (rc != MP_EOWNERDEAD)
        failf("rec %d: acquire after holder SIGKILLed -> %s", rec, mp_err_name(rc));
      if (rc == MP_OK || rc == MP_EOWNERDEAD)
        mp_lock_release(gl);
      rc = mp_lock_acquire(gl, 0);
      if (rc != MP_OK)
        failf("rec %d: acquire after EOWNERDEAD repaired -> %s", rec, mp_err_name(rc));
      else
        mp_lock_release(gl);
      mp_event_free(e);
    }
    PHASE("pool worker returns holding");
    {
      mp_pool *pl;
      mp_pool_options po = {0};
      po.workers = 1;
      mp_object *ob = mp_lock_obj(gl);
      po.objects = &ob;
      po.nobjects = 1;
      MUST_OK(mp_pool_create(&pl, &po));
      mp_result r = {0};
      CHECK_OK(mp_pool_apply(pl, "t_hold_return", &depth, 4, &r));
      if (r.status)
        failf("pool hold task: %s", r.message);
      mp_result_clear(&r);
      CHECK_OK(mp_pool_apply(pl, "t_try", NULL, 0, &r));
      int got = 99;
      if (r.status == MP_OK && r.len == 4)
        memcpy(&got, r.data, 4);
      mp_result_clear(&r);
      if (got != MP_EOWNERDEAD)
        failf("rec %d: next task on the same pool worker: acquire -> %s want EOWNERDEAD", rec, mp_err_name(got));
      rc = mp_lock_acquire(gl, 1);
      if (rc != MP_OK)
        failf("rec %d: parent acquire after pool tasks -> %s", rec, mp_err_name(rc));
      else
        mp_lock_release(gl);
      mp_pool_free(pl);
    }
    PHASE("free while held");
    {
      MUST_OK(mp_lock_acquire(gl, 0));
      mp_lock *l2 = gl;
      mp_object *ob = mp_lock_obj(l2);
      /* keep it alive in a child: start a t_try after free? the child needs the object: start one first that waits */
      mp_process *pp = start_o("t_try", &ob, 1, NULL, 0); /* it waits 2 s for the lock */
      sleep_s(0.2);
      mp_lock_free(l2);
      mp_process_join(pp, 10);
      mp_result r = {0};
      mp_process_result(pp, &r);
      int got = 99;
      if (r.status == MP_OK && r.len == 4)
        memcpy(&got, r.data, 4);
      if (got != MP_EOWNERDEAD)
        failf("rec %d: child's acquire after the holder freed the lock -> %s (%s) want EOWNERDEAD", rec,
              mp_err_name(got), r.message ? r.message : "");
      mp_result_clear(&r);
      mp_process_free(pp);
      mp_queue *q;
      MUST_OK(mp_queue_create(&q, NULL));
      for (int i = 0; i < 100; i++)
        CHECK_OK(mp_queue_put(q, "abc", 3, 0));
      mp_queue_free(q);
      mp_lock *ls[50];
      for (int i = 0; i < 50; i++) {
        MUST_OK(mp_lock_create(&ls[i], rec));
        mp_lock_acquire(ls[i], 0);
      }
      for (int i = 0; i < 50; i++)
        mp_lock_free(ls[i]);
    }
  }
  PHASE("contention");
  {
    mp_lock *l;
    mp_shm *s;
    MUST_OK(mp_lock_create(&l, 0));
    MUST_OK(mp_shm_create(&s, 4096));
    mp_object *obs[2] = {mp_lock_obj(l), mp_shm_obj(s)};
    int iters = 20000;
    mp_process *ps[4];
    for (int i = 0; i < 4; i++)
      ps[i] = start_o("t_counter", obs, 2, &iters, 4);
    for (int i = 0; i < 4; i++)
      endp(ps[i]);
    int64_t *v = mp_shm_ptr(s);
    if (v[0] != 80000)
      failf("counter %lld want 80000", (long long)v[0]);
    /* kill at random instants */
    v[0] = 0;
    iters = 1000000;
    unsigned sd = 1;
    int64_t od = 0;
    for (int round = 0; round < 8; round++) {
      for (int i = 0; i < 3; i++)
        ps[i] = start_o("t_counter", obs, 2, &iters, 4);
      sleep_s(0.1 + (rand_r(&sd) % 50) / 1000.0);
      mp_process_kill(ps[0]);
      sleep_s(0.01);
      mp_process_kill(ps[1]);
      sleep_s(0.01);
      mp_process_kill(ps[2]);
      for (int i = 0; i < 3; i++) {
        mp_process_join(ps[i], 5);
        mp_process_free(ps[i]);
      }
      rc = mp_lock_acquire(l, 2);
      if (rc == MP_EOWNERDEAD)
        od++;
      else if (rc) {
        failf("round %d: acquire after kills -> %s", round, mp_err_name(rc));
        break;
      }
      if (rc == MP_OK && v[2])
        failf("round %d: lock free (MP_OK) but the protected section was left half done", round);
      v[2] = 0;
      mp_lock_release(l);
    }
    infof("EOWNERDEAD seen by parent %lld / 8, by children %lld", (long long)od, (long long)v[1]);
    mp_lock_free(l);
    mp_shm_free(s);
  }
  return finish();
}
