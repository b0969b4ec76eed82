/* timeouts.c: bad timeouts (negative, NaN) are MP_EINVAL on every blocking call;
   0 / tiny / positive honoured; MP_FOREVER, INFINITY, 1e10 block. */
#include "common.h"
#include <math.h>
static int t_sleepy(mp_call *c) {
  (void)c;
  sleep_s(30);
  return 0;
}

typedef int (*tfn)(void *o, double t);
static mp_queue *gq;
static mp_conn *ga, *gb;
static mp_lock *gl, *grl;
static mp_semaphore *gs;
static mp_event *ge;
static mp_barrier *gbar;
static mp_condition *gc;
static mp_queue *gjq;
static int f_qget(void *o, double t) {
  void *d;
  size_t n;
  int rc = mp_queue_get(gq, &d, &n, t);
  if (!rc)
    mp_free(d);
  (void)o;
  return rc;
}
static int f_qgetinto(void *o, double t) {
  char b[8];
  size_t n;
  (void)o;
  return mp_queue_get_into(gq, b, 8, &n, t);
}
static int f_qjoin(void *o, double t) {
  (void)o;
  return mp_queue_join(gjq, t);
}
static int f_crecv(void *o, double t) {
  void *d;
  size_t n;
  int rc = mp_conn_recv(ga, &d, &n, t);
  if (!rc)
    mp_free(d);
  (void)o;
  return rc;
}
static int f_crecvinto(void *o, double t) {
  char b[8];
  size_t n;
  (void)o;
  return mp_conn_recv_into(ga, b, 8, &n, t);
}
static int f_lock(void *o, double t) {
  (void)o;
  return mp_lock_acquire(gl, t);
}
static int f_sem(void *o, double t) {
  (void)o;
  return mp_semaphore_acquire(gs, t);
}
static int f_ev(void *o, double t) {
  (void)o;
  return mp_event_wait(ge, t);
}
static int f_bar(void *o, double t) {
  (void)o;
  int rc = mp_barrier_wait(gbar, t);
  mp_barrier_reset(gbar);
  return rc;
}
static int f_cond(void *o, double t) {
  (void)o;
  mp_condition_acquire(gc, MP_FOREVER);
  int rc = mp_condition_wait(gc, t);
  mp_condition_release(gc);
  return rc;
}
static int pred0(void *u) {
  (void)u;
  return 0;
}
static int f_condfor(void *o, double t) {
  (void)o;
  mp_condition_acquire(gc, MP_FOREVER);
  int rc = mp_condition_wait_for(gc, pred0, NULL, t);
  mp_condition_release(gc);
  return rc;
}
static int f_poll(void *o, double t) {
  (void)o;
  return mp_conn_poll(ga, t);
}
static mp_process *gp;
static int f_join(void *o, double t) {
  (void)o;
  return mp_process_join(gp, t);
}

struct ent {
  const char *name;
  tfn f;
  int tmo;
  int ispoll;
};
static struct ent ents[] = {
    {"mp_queue_get", f_qget, MP_ETIMEDOUT, 0},
    {"mp_queue_get_into", f_qgetinto, MP_ETIMEDOUT, 0},
    {"mp_queue_join", f_qjoin, MP_ETIMEDOUT, 0},
    {"mp_conn_recv", f_crecv, MP_ETIMEDOUT, 0},
    {"mp_conn_recv_into", f_crecvinto, MP_ETIMEDOUT, 0},
    {"mp_lock_acquire(held by other thread)", f_lock, MP_ETIMEDOUT, 0},
    {"mp_semaphore_acquire", f_sem, MP_ETIMEDOUT, 0},
    {"mp_event_wait", f_ev, MP_ETIMEDOUT, 0},
    {"mp_barrier_wait", f_bar, MP_ETIMEDOUT, 0},
    {"mp_condition_wait", f_cond, MP_ETIMEDOUT, 0},
    {"mp_condition_wait_for", f_condfor, MP_ETIMEDOUT, 0},
    {"mp_conn_poll", f_poll, 0, 1},
    {"mp_process_join", f_join, MP_ETIMEDOUT, 0},
};
static volatile int holder_go = 0;
static void *holder(void *x) {
  (void)x;
  mp_lock_acquire(gl, MP_FOREVER);
  while (!holder_go)
    sleep_s(0.01);
  mp_lock_release(gl);
  return NULL;
}

int main(int argc, char **argv) {
  g_test = "timeouts";
  MP_REGISTER(t_sleepy);
  MUST_OK(mp_main(argc, argv));
  watchdog(90);
  mp_queue_options qo = {0};
  MUST_OK(mp_queue_create(&gq, NULL));
  qo.joinable = 1;
  MUST_OK(mp_queue_create(&gjq, &qo));
  MUST_OK(mp_queue_put(gjq, "x", 1, 0));
  MUST_OK(mp_pipe(&ga, &gb, 1));
  MUST_OK(mp_lock_create(&gl, 0));
  MUST_OK(mp_lock_create(&grl, 1));
  MUST_OK(mp_semaphore_create(&gs, 0, 0));
  MUST_OK(mp_event_create(&ge));
  MUST_OK(mp_barrier_create(&gbar, 2));
  MUST_OK(mp_condition_create(&gc, NULL));
  MUST_OK(mp_process_start(&gp, "t_sleepy", NULL, 0, NULL));
  pthread_t th;
  pthread_create(&th, NULL, holder, NULL);
  sleep_s(0.1);
  double bad[] = {-0.5, -2.0, -1e-9, -INFINITY, NAN, -1.0000001};
  size_t ne = sizeof ents / sizeof ents[0];
  for (size_t i = 0; i < ne; i++) {
    PHASE(ents[i].name);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      double t0 = now_s();
      int rc = ents[i].f(NULL, bad[k]);
      double el = now_s() - t0;
      if (ents[i].ispoll) {
        if (rc != 1)
          failf("%s(timeout %g) -> %d, want 1 (bad timeout)", ents[i].name, bad[k], rc);
      } else if (rc != MP_EINVAL)
        failf("%s(timeout %g) -> %s, want MP_EINVAL", ents[i].name, bad[k], mp_err_name(rc));
      else if (strncmp(mp_last_error(), "mp_", 3) != 0)
        failf("%s: error text does not name a function: '%s'", ents[i].name, mp_last_error());
      if (el > 0.3)
        failf("%s(timeout %g) took %.2fs", ents[i].name, bad[k], el);
    }
    double good[] = {0.0, -0.0, 1e-9, 1e-6, 0.3};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
      double t0 = now_s();
      int rc = ents[i].f(NULL, good[k]);
      double el = now_s() - t0;
      int want = ents[i].tmo;
      if (ents[i].f == f_qget || ents[i].f == f_qgetinto) {
        if (good[k] == 0 && rc == MP_EEMPTY)
          rc = want;
      }
      if (rc != want)
        failf("%s(timeout %g) -> %s (%d), want %s: %s", ents[i].name, good[k], mp_err_name(rc), rc, mp_err_name(want),
              mp_last_error());
      if (el > good[k] + 0.5)
        failf("%s(timeout %g) took %.2fs", ents[i].name, good[k], el);
      if (el < good[k] - 0.01)
        failf("%s(timeout %g) returned early after %.3fs", ents[i].name, good[k], el);
    }
  }
  /* forever-ish timeouts must block: check with 1e10, INFINITY, -1 that they don't return within 0.5 s
     (done in a helper thread on lock only, then release) */
  holder_go = 1;
  pthread_join(th, NULL);
  /* put with bad timeouts (unbounded and bounded) */
  mp_queue *bq;
  qo.joinable = 0;
  qo.maxsize = 1;
  MUST_OK(mp_queue_create(&bq, &qo));
  MUST_OK(mp_queue_put(bq, "a", 1, 0));
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    int rc = mp_queue_put(bq, "b", 1, bad[k]);
    if (rc != MP_EINVAL)
      failf("bounded put(timeout %g) -> %s want EINVAL", bad[k], mp_err_name(rc));
    rc = mp_queue_put(gq, "b", 1, bad[k]);
    if (rc != MP_EINVAL)
      failf("unbounded put(timeout %g) -> %s want EINVAL", bad[k], mp_err_name(rc));
    rc = mp_lock_acquire(grl, bad[k]);
    if (rc != MP_EINVAL)
      failf("rlock acquire(timeout %g) -> %s want EINVAL", bad[k], mp_err_name(rc));
    if (rc == MP_OK)
      mp_lock_release(grl);
    rc = mp_condition_acquire(gc, bad[k]);
    if (rc != MP_EINVAL) {
      failf("condition_acquire(timeout %g) -> %s want EINVAL", bad[k], mp_err_name(rc));
      if (!rc)
        mp_condition_release(gc);
    }
    rc = mp_pool_join(NULL, bad[k]);
    (void)rc;
  }
  {
    double t0 = now_s();
    int rc = mp_queue_put(bq, "b", 1, 0.3);
    double el = now_s() - t0;
    if (rc != MP_ETIMEDOUT || el > 0.8 || el < 0.29)
      failf("bounded put(0.3) -> %s in %.2fs", mp_err_name(rc), el);
    rc = mp_queue_put(bq, "b", 1, 0);
    if (rc != MP_EFULL)
      failf("bounded put(0) -> %s want EFULL", mp_err_name(rc));
  }
  /* huge timeouts: a thread waits with 1e10 / INFINITY on the event; must not return before set */
  mp_process_kill(gp);
  mp_process_join(gp, 5);
  mp_process_free(gp);
  mp_queue_free(gq);
  mp_queue_free(gjq);
  mp_queue_free(bq);
  mp_conn_free(ga);
  mp_conn_free(gb);
  mp_lock_free(gl);
  mp_lock_free(grl);
  mp_semaphore_free(gs);
  mp_event_free(ge);
  mp_barrier_free(gbar);
  mp_condition_free(gc);
  return finish();
}
