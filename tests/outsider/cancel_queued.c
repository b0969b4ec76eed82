/* cancel_queued: a cancelled item that has not started never starts (counted
 * in mp_shm); a running one is killed (MP_ECANCELLED); finished items of a
 * cancelled map keep their results; mp_async_cancel and mp_iter_free never
 * block; mp_iter_free never waits for unrelated tasks.  usage: cancel_queued [WORKERS] */
#include "common.h"
#define MAXI 4096
typedef struct {
  uint32_t starts[MAXI], ends[MAXI];
  double ended_at[MAXI]; /* now_s() as the task's body ended: system-wide clocks */
} ledger;
static ledger *L;
typedef struct {
  uint32_t id, ms;
} targ;
static int t_w(mp_call *c) {
  targ t;
  mp_call_arg_read(c, &t, sizeof t);
  ledger *l = mp_shm_ptr(mp_call_shm(c, 0));
  __atomic_add_fetch(&l->starts[t.id], 1, __ATOMIC_SEQ_CST);
  sleep_s(t.ms / 1000.0);
  l->ended_at[t.id] = now_s();
  __atomic_add_fetch(&l->ends[t.id], 1, __ATOMIC_SEQ_CST);
  uint32_t v = t.id * 3;
  return mp_call_return(c, &v, 4);
}
static int cbn[MAXI];
static void cb(mp_async *a, void *ud) {
  (void)a;
  __atomic_add_fetch(&cbn[(uintptr_t)ud], 1, __ATOMIC_SEQ_CST);
}
typedef struct {
  uint32_t base, n, ms;
  targ buf;
} ps;
static int prod(void *ud, size_t i, mp_slice *it) {
  ps *s = ud;
  if (i >= s->n)
    return 0;
  s->buf.id = s->base + (uint32_t)i;
  s->buf.ms = s->ms;
  it->data = &s->buf;
  it->len = sizeof s->buf;
  return 1;
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_w);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "cancel_queued";
  watchdog(60);
  mp_shm *shm = NULL;
  MUST_OK(mp_shm_create(&shm, sizeof(ledger)));
  L = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  int W = argc > 1 ? atoi(argv[1]) : 1;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = W;
  o.objects = objs;
  o.nobjects = 1;
  MUST_OK(mp_pool_create(&p, &o));

  /* 1: all workers busy 1 s; 20 queued jobs cancelled: none may start */
  PHASE("queued cancel");
  mp_async *busy[8];
  for (int w = 0; w < W; w++) {
    targ t = {(uint32_t)(4000 + w), 1000};
    CHECK_OK(mp_pool_apply_async(p, "t_w", &t, sizeof t, NULL, NULL, &busy[w]));
  }
  sleep_s(0.2);
  mp_async *q[20];
  for (int i = 0; i < 20; i++) {
    targ t = {(uint32_t)i, 10};
    CHECK_OK(mp_pool_apply_async(p, "t_w", &t, sizeof t, cb, (void *)(uintptr_t)i, &q[i]));
  }
  double t0 = now_s(), worst = 0;
  for (int i = 0; i < 20; i++) {
    double t1 = now_s();
    int rc = mp_async_cancel(q[i]);
    double d = now_s() - t1;
    if (d > worst)
      worst = d;
    if (rc != MP_OK)
      failf("cancel queued %d: %s", i, mp_err_name(rc));
  }
  if (worst > 0.05)
    failf("mp_async_cancel (never blocks) took %.3fs", worst);
  for (int i = 0; i < 20; i++) {
    int rc = mp_async_wait(q[i], 0.5);
    if (rc != MP_OK) {
      failf("cancelled job %d not ready 0.5 s after cancel: %s", i, mp_err_name(rc));
      continue;
    }
    const mp_result *r = mp_async_result(q[i]);
    if (!r || r->status != MP_ECANCELLED)
      failf("cancelled job %d status %s", i, r ? mp_err_name(r->status) : "NULL");
    int rc2 = mp_async_cancel(q[i]);
    if (rc2 != MP_ESTATE)
      failf("second cancel: %s (want MP_ESTATE)", mp_err_name(rc2));
  }
  (void)t0;
  for (int w = 0; w < W; w++) {
    CHECK_OK(mp_async_wait(busy[w], 5));
    const mp_result *r = mp_async_result(busy[w]);
    if (!r || r->status != MP_OK)
      failf("busy job %d: %s", w, r ? mp_err_name(r->status) : "NULL");
    busy[w] = mp_async_free(busy[w]);
  }
  sleep_s(0.3);
  for (int i = 0; i < 20; i++) {
    if (L->starts[i])
      failf("cancelled queued job %d started %u times", i, L->starts[i]);
    if (cbn[i] != 1)
      failf("job %d callback ran %d times", i, cbn[i]);
    q[i] = mp_async_free(q[i]);
  }

  /* 2: cancel a map_async in the middle */
  PHASE("map cancel");
  memset(L, 0, sizeof *L);
  targ ins[100];
  mp_slice sl[100];
  for (int i = 0; i < 100; i++) {
    ins[i].id = 100 + i;
    ins[i].ms = 20;
    sl[i].data = &ins[i];
    sl[i].len = sizeof ins[i];
  }
  mp_map_options mo = {0};
  mo.chunksize = 10;
  mp_async *m = NULL;
  CHECK_OK(mp_pool_map_async(p, "t_w", sl, 100, &mo, cb, (void *)(uintptr_t)3000, &m));
  sleep_s(0.3);
  t0 = now_s();
  int rc = mp_async_cancel(m);
  double dc = now_s() - t0;
  if (rc != MP_OK)
    failf("map cancel: %s", mp_err_name(rc));
  if (dc > 0.05)
    failf("map cancel took %.3fs", dc);
  uint32_t snap[100];
  for (int i = 0; i < 100; i++)
    snap[i] = L->starts[100 + i];
  CHECK_OK(mp_async_wait(m, 2));
  sleep_s(0.5);
  size_t n = 0;
  const mp_result *rs = mp_async_results(m, &n);
  int ok = 0, canc = 0;
  if (!rs || n != 100)
    failf("map results %p %zu", (void *)rs, n);
  else
    for (int i = 0; i < 100; i++) {
      uint32_t id = 100 + i;
      if (L->starts[id] > 1)
        failf("map item %d started %u", i, L->starts[id]);
      if (L->starts[id] > snap[i])
        failf("map item %d started after the cancel returned", i);
      if (rs[i].status == MP_OK) {
        ok++;
        uint32_t v;
        memcpy(&v, rs[i].data, 4);
        if (v != id * 3 || L->ends[id] != 1)
          failf("map item %d OK but wrong (ends %u)", i, L->ends[id]);
      } else if (rs[i].status == MP_ECANCELLED) {
        canc++;
        if (L->ends[id])
          infof("map item %d ended in worker but reads ECANCELLED", i);
      } else
        failf("map item %d status %s", i, mp_err_name(rs[i].status));
      /* Finished before the call: its body ended (and so its outcome was
       * handed in) well before. One running at the call is killed, but a
       * kill lands late (TerminateProcess under Wine most of all), and
       * its body may end meanwhile: MP_ECANCELLED is right for it. */
      if (L->ends[id] == 1 && L->ended_at[id] < t0 - 0.02 && rs[i].status != MP_OK)
        failf("map item %d finished %.3fs before the cancel but lost its result: %s", i, t0 - L->ended_at[id],
              mp_err_name(rs[i].status));
    }
  infof("map cancel: %d ok %d cancelled", ok, canc);
  if (cbn[3000] != 1)
    failf("map callback ran %d times", cbn[3000]);
  m = mp_async_free(m);

  /* 3: cancel a running apply: worker killed; pool goes on */
  PHASE("running cancel");
  memset(L, 0, sizeof *L);
  {
    targ t = {1, 3000};
    mp_async *a = NULL;
    CHECK_OK(mp_pool_apply_async(p, "t_w", &t, sizeof t, NULL, NULL, &a));
    while (!L->starts[1])
      sleep_s(0.001);
    t0 = now_s();
    CHECK_OK(mp_async_cancel(a));
    rc = mp_async_wait(a, 2);
    if (rc != MP_OK)
      failf("running cancel: not ready in 2 s");
    else {
      const mp_result *r = mp_async_result(a);
      if (r->status != MP_ECANCELLED)
        failf("running cancel: %s", mp_err_name(r->status));
    }
    double dw = now_s() - t0;
    if (dw > 0.5)
      failf("running cancel: ready after %.2fs", dw);
    a = mp_async_free(a);
    mp_result r = {0};
    targ t2 = {2, 0};
    CHECK_OK(mp_pool_apply(p, "t_w", &t2, sizeof t2, &r));
    if (r.status)
      failf("after running cancel: %s", mp_err_name(r.status));
    mp_result_clear(&r);
    sleep_s(3.2);
    if (L->ends[1])
      failf("cancelled running task finished anyway");
  }

  /* 4: mp_iter_free half way, with an unrelated long task on another worker */
  PHASE("iter_free");
  memset(L, 0, sizeof *L);
  mp_async *unrel = NULL;
  {
    targ t = {4001, 3000};
    CHECK_OK(mp_pool_apply_async(p, "t_w", &t, sizeof t, NULL, NULL, &unrel));
  }
  sleep_s(0.1);
  ps s = {200, 100, 50, {0, 0}};
  mp_iter *it = NULL;
  mp_imap_options io = {0};
  CHECK_OK(mp_pool_imap(p, "t_w", prod, &s, &io, &it));
  if (it && W > 1) {
    mp_result r = {0};
    for (int i = 0; i < 3; i++) {
      rc = mp_iter_next(it, 5, NULL, &r);
      if (rc)
        failf("imap next %d: %s", i, mp_err_name(rc));
      mp_result_clear(&r);
    }
  }
  t0 = now_s();
  it = mp_iter_free(it);
  double df = now_s() - t0;
  if (df > 0.05)
    failf("mp_iter_free (never blocks) took %.3fs", df);
  uint32_t snapi[100];
  for (int i = 0; i < 100; i++)
    snapi[i] = L->starts[200 + i];
  sleep_s(0.5);
  for (int i = 0; i < 100; i++)
    if (L->starts[200 + i] > snapi[i])
      failf("imap item %d started after mp_iter_free", i);
  /* pool still works, unrelated job still OK */
  CHECK_OK(mp_async_wait(unrel, 5));
  {
    const mp_result *r = mp_async_result(unrel);
    if (!r || r->status != MP_OK)
      failf("unrelated job after iter_free: %s", r ? mp_err_name(r->status) : "NULL");
  }
  unrel = mp_async_free(unrel);
  PHASE("free");
  p = mp_pool_free(p);
  shm = mp_shm_free(shm);
  return finish();
}
