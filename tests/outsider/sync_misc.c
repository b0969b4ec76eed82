/* sync_misc.c: Barrier (reset after round, index, break, abort), Semaphore bounds, Event set/clear races */
#include "common.h"
static mp_barrier *gb;
struct bw {
  int rc;
  unsigned idx;
  double t;
};
static void *thr_bwait(void *x) {
  struct bw *w = x;
  w->idx = 999;
  w->rc = mp_barrier_wait_index(gb, w->t, &w->idx);
  return NULL;
}
static int t_bwait(mp_call *c) {
  mp_barrier *b = mp_call_barrier(c, 0);
  int rounds;
  mp_call_arg_read(c, &rounds, 4);
  int64_t mask = 0;
  unsigned *idx = calloc(rounds, sizeof *idx);
  for (int r = 0; r < rounds; r++) {
    int rc = mp_barrier_wait_index(b, 20, &idx[r]);
    if (rc)
      return mp_call_fail(c, "round %d: %s", r, mp_err_name(rc));
  }
  (void)mask;
  int rv = mp_call_return(c, idx, rounds * sizeof *idx);
  free(idx);
  return rv;
}
static mp_event *ge;
static volatile int ev_arrived;
static void *thr_ewait(void *x) {
  int *rc = x;
  __sync_fetch_and_add(&ev_arrived, 1);
  *rc = mp_event_wait(ge, 5);
  return NULL;
}
static int t_ewait(mp_call *c) {
  mp_event *e = mp_call_event(c, 0);
  mp_semaphore *s = mp_call_semaphore(c, 1);
  mp_semaphore_release(s);
  int rc = mp_event_wait(e, 10);
  return mp_call_return(c, &rc, 4);
}
static int t_semconc(mp_call *c) {
  mp_semaphore *s = mp_call_semaphore(c, 0);
  mp_shm *m = mp_call_shm(c, 1);
  volatile int *v = mp_shm_ptr(m);
  for (int i = 0; i < 3000; i++) {
    int rc = mp_semaphore_acquire(s, 10);
    if (rc)
      return mp_call_fail(c, "acq %s", mp_err_name(rc));
    int now = __sync_add_and_fetch(&v[0], 1);
    if (now > v[1])
      v[1] = now;
    __sync_sub_and_fetch(&v[0], 1);
    rc = mp_semaphore_release(s);
    if (rc)
      return mp_call_fail(c, "rel %s", mp_err_name(rc));
  }
  return 0;
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

int main(int argc, char **argv) {
  g_test = "sync_misc";
  MP_REGISTER(t_bwait);
  MP_REGISTER(t_ewait);
  MP_REGISTER(t_semconc);
  MUST_OK(mp_main(argc, argv));
  watchdog(110);
  int rc;
  PHASE("barrier basics");
  {
    mp_barrier *b;
    rc = mp_barrier_create(&b, 0);
    if (rc != MP_EINVAL)
      failf("parties 0 -> %s", mp_err_name(rc));
    MUST_OK(mp_barrier_create(&b, 1));
    unsigned ix = 9;
    rc = mp_barrier_wait_index(b, 0, &ix);
    if (rc || ix != 0)
      failf("parties 1 wait(0) -> %s idx %u", mp_err_name(rc), ix);
    mp_barrier_free(b);
    MUST_OK(mp_barrier_create(&gb, 2));
    double t0 = now_s();
    rc = mp_barrier_wait(gb, 0);
    if (rc != MP_ETIMEDOUT || now_s() - t0 > 0.1)
      failf("wait(0) alone -> %s", mp_err_name(rc));
    rc = mp_barrier_wait(gb, 1);
    if (rc != MP_ESTATE)
      failf("wait on broken -> %s", mp_err_name(rc));
    CHECK_OK(mp_barrier_reset(gb));
    struct bw w = {99, 0, 5};
    pthread_t t;
    pthread_create(&t, NULL, thr_bwait, &w);
    sleep_s(0.1);
    CHECK_OK(mp_barrier_abort(gb));
    pthread_join(t, NULL);
    if (w.rc != MP_ESTATE)
      failf("waiter at abort -> %s", mp_err_name(w.rc));
    rc = mp_barrier_wait(gb, 1);
    if (rc != MP_ESTATE)
      failf("wait after abort -> %s", mp_err_name(rc));
    CHECK_OK(mp_barrier_reset(gb));
    pthread_create(&t, NULL, thr_bwait, &w);
    sleep_s(0.1);
    CHECK_OK(mp_barrier_reset(gb));
    pthread_join(t, NULL);
    if (w.rc != MP_ESTATE)
      failf("waiter at reset -> %s", mp_err_name(w.rc));
    /* after reset with the waiter gone, a new round of 2 works */
    pthread_create(&t, NULL, thr_bwait, &w);
    unsigned mi = 9;
    rc = mp_barrier_wait_index(gb, 5, &mi);
    pthread_join(t, NULL);
    if (rc || w.rc || mi + w.idx != 1)
      failf("round after reset -> %s/%s idx %u,%u", mp_err_name(rc), mp_err_name(w.rc), mi, w.idx);
    mp_barrier_free(gb);
  }
  PHASE("reset right after round");
  {
    int bad = 0, runs = 300;
    MUST_OK(mp_barrier_create(&gb, 3));
    for (int i = 0; i < runs; i++) {
      struct bw w1 = {99, 0, 5}, w2 = {99, 0, 5};
      pthread_t t1, t2;
      pthread_create(&t1, NULL, thr_bwait, &w1);
      pthread_create(&t2, NULL, thr_bwait, &w2);
      unsigned mi;
      if (i % 2)
        sleep_s(0.002);
      rc = mp_barrier_wait_index(gb, 5, &mi);
      if (rc == MP_OK)
        mp_barrier_reset(gb);
      pthread_join(t1, NULL);
      pthread_join(t2, NULL);
      if (rc || w1.rc || w2.rc)
        bad++;
      else if (mi + w1.idx + w2.idx != 3 || mi == w1.idx || mi == w2.idx || w1.idx == w2.idx) {
        bad++;
        infof("indexes %u %u %u", mi, w1.idx, w2.idx);
      }
      mp_barrier_reset(gb);
    }
    if (bad)
      failf("reset right after a completed round: %d of %d rounds gave a party non-OK or bad index", bad, runs);
    mp_barrier_free(gb);
  }
  PHASE("barrier across processes");
  {
    mp_barrier *b;
    MUST_OK(mp_barrier_create(&b, 4));
    mp_object *o = mp_barrier_obj(b);
    int rounds = 200;
    mp_process *ps[3];
    for (int i = 0; i < 3; i++)
      ps[i] = start_o("t_bwait", &o, 1, &rounds, 4);
    unsigned *mine = calloc(rounds, sizeof *mine);
    for (int r = 0; r < rounds; r++) {
      rc = mp_barrier_wait_index(b, 20, &mine[r]);
      if (rc) {
        failf("parent round %d: %s", r, mp_err_name(rc));
        break;
      }
    }
    unsigned *idx[3] = {0};
    for (int i = 0; i < 3; i++) {
      mp_process_join(ps[i], 20);
      mp_result res = {0};
      mp_process_result(ps[i], &res);
      if (res.status || res.len != rounds * sizeof(unsigned))
        failf("child %d: %s", i, res.message ? res.message : "?");
      else {
        idx[i] = malloc(res.len);
        memcpy(idx[i], res.data, res.len);
      }
      mp_result_clear(&res);
      mp_process_free(ps[i]);
    }
    if (idx[0] && idx[1] && idx[2])
      for (int r = 0; r < rounds; r++) {
        unsigned m = (1u << mine[r]) | (1u << idx[0][r]) | (1u << idx[1][r]) | (1u << idx[2][r]);
        if (m != 15) {
          failf("round %d indexes not 0..3: %u %u %u %u", r, mine[r], idx[0][r], idx[1][r], idx[2][r]);
          break;
        }
      }
    for (int i = 0; i < 3; i++)
      free(idx[i]);
    free(mine);
    mp_barrier_free(b);
  }
  PHASE("semaphore");
  {
    mp_semaphore *s;
    unsigned v;
    rc = mp_semaphore_create(&s, 3, 2);
    if (rc != MP_EINVAL)
      failf("value 3 max 2 -> %s", mp_err_name(rc));
    MUST_OK(mp_semaphore_create(&s, 2, 2));
    rc = mp_semaphore_release(s);
    if (rc != MP_EFULL)
      failf("release at max -> %s", mp_err_name(rc));
    CHECK_OK(mp_semaphore_value(s, &v));
    if (v != 2)
      failf("value %u", v);
    CHECK_OK(mp_semaphore_acquire(s, 0));
    CHECK_OK(mp_semaphore_acquire(s, 0));
    rc = mp_semaphore_acquire(s, 0);
    if (rc != MP_ETIMEDOUT)
      failf("acquire at 0 -> %s", mp_err_name(rc));
    double t0 = now_s();
    rc = mp_semaphore_acquire(s, 0.2);
    if (rc != MP_ETIMEDOUT || now_s() - t0 > 0.7 || now_s() - t0 < 0.19)
      failf("acquire(0.2) at 0 -> %s %.2f", mp_err_name(rc), now_s() - t0);
    CHECK_OK(mp_semaphore_release(s));
    CHECK_OK(mp_semaphore_release(s));
    rc = mp_semaphore_release(s);
    if (rc != MP_EFULL)
      failf("release over max -> %s", mp_err_name(rc));
    mp_semaphore_free(s);
    MUST_OK(mp_semaphore_create(&s, UINT32_MAX, 0));
    rc = mp_semaphore_release(s);
    if (rc != MP_EFULL)
      failf("unbounded release at UINT32_MAX -> %s", mp_err_name(rc));
    CHECK_OK(mp_semaphore_value(s, &v));
    if (v != UINT32_MAX)
      failf("value %u", v);
    mp_semaphore_free(s);
    MUST_OK(mp_semaphore_create(&s, 0, UINT32_MAX));
    for (int i = 0; i < 5; i++)
      CHECK_OK(mp_semaphore_release(s));
    mp_semaphore_free(s);
    MUST_OK(mp_semaphore_create(&s, 0, 0));
    rc = mp_semaphore_create(NULL, 0, 0);
    if (rc != MP_EINVAL)
      failf("create(NULL)");
    mp_semaphore_free(s);
    /* concurrency bound across processes */
    mp_shm *m;
    MUST_OK(mp_shm_create(&m, 4096));
    MUST_OK(mp_semaphore_create(&s, 2, 2));
    mp_object *obs[2] = {mp_semaphore_obj(s), mp_shm_obj(m)};
    mp_process *ps[4];
    for (int i = 0; i < 4; i++)
      ps[i] = start_o("t_semconc", obs, 2, NULL, 0);
    for (int i = 0; i < 4; i++) {
      mp_process_join(ps[i], 40);
      mp_result r = {0};
      mp_process_result(ps[i], &r);
      if (r.status)
        failf("semconc %d: %s", i, r.message ? r.message : "?");
      mp_result_clear(&r);
      mp_process_free(ps[i]);
    }
    int *iv = mp_shm_ptr(m);
    if (iv[1] > 2)
      failf("semaphore(2) let %d in at once", iv[1]);
    CHECK_OK(mp_semaphore_value(s, &v));
    if (v != 2)
      failf("value after concurrency %u want 2", v);
    mp_semaphore_free(s);
    mp_shm_free(m);
  }
  PHASE("event set/clear race");
  {
    MUST_OK(mp_event_create(&ge));
    if (mp_event_is_set(ge))
      failf("new event set");
    if (mp_event_is_set(NULL) != 0)
      failf("is_set(NULL) != 0");
    int bad = 0;
    for (int round = 0; round < 30; round++) {
      mp_semaphore *s;
      MUST_OK(mp_semaphore_create(&s, 0, 0));
      mp_object *obs[2] = {mp_event_obj(ge), mp_semaphore_obj(s)};
      mp_process *ps[2];
      for (int i = 0; i < 2; i++)
        ps[i] = start_o("t_ewait", obs, 2, NULL, 0);
      int rcs[6];
      pthread_t t[6];
      ev_arrived = 0;
      for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, thr_ewait, &rcs[i]);
      for (int i = 0; i < 2; i++)
        mp_semaphore_acquire(s, 10);
      while (ev_arrived < 6)
        sleep_s(0.001);
      sleep_s(0.2);
      mp_event_set(ge);
      mp_event_clear(ge);
      for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        if (rcs[i] != MP_OK)
          bad++;
      }
      for (int i = 0; i < 2; i++) {
        mp_process_join(ps[i], 12);
        mp_result r = {0};
        mp_process_result(ps[i], &r);
        int g = 99;
        if (r.len == 4)
          memcpy(&g, r.data, 4);
        if (g != MP_OK)
          bad++;
        mp_result_clear(&r);
        mp_process_free(ps[i]);
      }
      mp_semaphore_free(s);
    }
    if (bad)
      failf("event set then clear at once: %d waiters did not return MP_OK (header: a waiter woken by set returns "
            "MP_OK even if cleared since)",
            bad);
    CHECK_OK(mp_event_set(ge));
    CHECK_OK(mp_event_set(ge));
    if (!mp_event_is_set(ge))
      failf("not set");
    CHECK_OK(mp_event_wait(ge, 0));
    CHECK_OK(mp_event_clear(ge));
    rc = mp_event_wait(ge, 0);
    if (rc != MP_ETIMEDOUT)
      failf("wait(0) cleared -> %s", mp_err_name(rc));
    mp_event_free(ge);
  }
  return finish();
}
