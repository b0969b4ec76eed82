/* pool_attack_callbacks: a blocking map's progress reports run on the
 * calling thread, never go backwards, the last one done == n; an async
 * map's run on another thread, before its callback, none after it; the
 * callbacks of apply_async all run, on one thread that is not the
 * caller's, with the outcome already readable and ready still 0; a slow
 * callback stalls neither a waiter of another job, nor a blocking map
 * with progress, nor an apply; callbacks that submit (a chain of 21),
 * cancel another job, close the pool (queued work still completes, join
 * returns). usage: pool_attack_callbacks WORKERS */
#include "pool_attack.h"

typedef struct prog {
  uint64_t th, seen;
  int check_th, wrong, calls, nonmono, after_cb, cbdone;
  size_t last, total;
} prog;
static void progress(size_t done, size_t total, void *ud) {
  prog *g = (prog *)ud;
  g->calls++;
  g->seen = thread_id();
  if (g->check_th && g->seen != g->th)
    g->wrong++;
  if (done < g->last)
    g->nonmono++;
  if (__atomic_load_n(&g->cbdone, __ATOMIC_SEQ_CST))
    g->after_cb++;
  g->last = done;
  g->total = total;
}
static void map_cb(mp_async *a, void *ud) {
  (void)a;
  prog *g = (prog *)ud;
  __atomic_store_n(&g->cbdone, 1, __ATOMIC_SEQ_CST);
}
static uint64_t g_cbthread;
static int g_cbthread_set, g_cbwrong, g_cbcount, g_notready_bad;
static void count_cb(mp_async *a, void *ud) {
  (void)ud;
  uint64_t me = thread_id();
  if (!__atomic_exchange_n(&g_cbthread_set, 1, __ATOMIC_SEQ_CST))
    g_cbthread = me;
  else if (me != g_cbthread)
    __atomic_add_fetch(&g_cbwrong, 1, __ATOMIC_SEQ_CST);
  if (mp_async_ready(a) != 0 || mp_async_result(a) == NULL)
    __atomic_add_fetch(&g_notready_bad, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&g_cbcount, 1, __ATOMIC_SEQ_CST);
}
/* How long the slow callback takes: what it must not delay runs while it
 * runs (checked), a few milliseconds each, so this leaves a loaded machine
 * or Wine all the room they need. */
#define SLOW_CB 4.0
static int g_slow_in, g_slow_started;
static void slow_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  __atomic_store_n(&g_slow_in, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g_slow_started, 1, __ATOMIC_SEQ_CST);
  sleep_s(SLOW_CB);
  __atomic_store_n(&g_slow_in, 0, __ATOMIC_SEQ_CST);
}
static mp_pool *g_pool;
static int g_chain, g_chain_err;
static void chain_cb(mp_async *a, void *ud) {
  (void)ud;
  const mp_result *r = mp_async_result(a);
  if (!r || r->status != MP_OK)
    __atomic_add_fetch(&g_chain_err, 1, __ATOMIC_SEQ_CST);
  int k = __atomic_fetch_add(&g_chain, 1, __ATOMIC_SEQ_CST);
  if (k < 20) {
    op o = mkop(k + 1, A_OK, 0, 8);
    if (mp_pool_apply_async(g_pool, "t_op", &o, sizeof o, chain_cb, NULL, NULL) != MP_OK)
      __atomic_add_fetch(&g_chain_err, 1, __ATOMIC_SEQ_CST);
  }
}
static mp_async *g_victim;
static int g_cancel_rc = 99;
static void cancel_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  __atomic_store_n(&g_cancel_rc, mp_async_cancel(g_victim), __ATOMIC_SEQ_CST);
}
static int g_close_rc = 99;
static void close_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  __atomic_store_n(&g_close_rc, mp_pool_close(g_pool), __ATOMIC_SEQ_CST);
}
static prog g_freed; /* progress of a job freed at once: it goes on */

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_callbacks", 120);
  int W = argc > 1 ? atoi(argv[1]) : 2;
  mp_pool *p = NULL;
  if (mkpool(&p, W, 0, 0, NULL, NULL, 0))
    PA_DONE();
  g_pool = p;
  for (size_t cs = 1; cs <= 4; cs += 3) {
    enum { N = 37 };
    char ph[64];
    snprintf(ph, sizeof ph, "progress w=%d cs=%zu", W, cs);
    PHASE(ph);
    op in[N];
    int64_t out[N];
    mp_slice sl[N];
    for (int i = 0; i < N; i++) {
      in[i] = mkop(i, A_OK, 0.005, 8);
      sl[i] = mkslice(&in[i], sizeof in[i]);
    }
    prog g;
    memset(&g, 0, sizeof g);
    g.th = thread_id();
    g.check_th = 1;
    mp_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.chunksize = cs;
    mo.progress = progress;
    mo.progress_ud = &g;
    int rc = mp_pool_map(p, "t_op", in, sizeof(op), N, out, 8, &mo);
    CHECK(rc == MP_OK, "%s: map %s", ph, mp_err_name(rc));
    CHECK(g.wrong == 0, "%s: blocking map's progress on another thread %d times", ph, g.wrong);
    CHECK(g.last == N && g.total == N, "%s: last progress %zu/%zu", ph, g.last, g.total);
    CHECK(g.nonmono == 0, "%s: progress went backwards", ph);
    /* async: one freed at once (it goes on), then one waited for */
    mp_async *a = NULL;
    memset(&g_freed, 0, sizeof g_freed);
    mo.progress_ud = &g_freed;
    rc = mp_pool_map_async(p, "t_op", sl, N, &mo, map_cb, &g_freed, &a);
    CHECK(rc == MP_OK, "%s: map_async %s", ph, mp_err_name(rc));
    a = mp_async_free(a);
    prog h2;
    memset(&h2, 0, sizeof h2);
    mo.progress_ud = &h2;
    rc = mp_pool_map_async(p, "t_op", sl, N, &mo, map_cb, &h2, &a);
    CHECK(rc == MP_OK, "%s: map_async %s", ph, mp_err_name(rc));
    if (rc == MP_OK) {
      CHECK(mp_async_wait(a, 30) == MP_OK, "%s: map_async wait", ph);
      CHECK(__atomic_load_n(&h2.cbdone, __ATOMIC_SEQ_CST), "%s: callback not run before the wait returned", ph);
      CHECK(h2.calls > 0 && h2.seen != thread_id(), "%s: async progress: %d calls, on the caller's thread?", ph,
            h2.calls);
      CHECK(h2.after_cb == 0, "%s: progress after the callback %d times", ph, h2.after_cb);
      CHECK(h2.last == N, "%s: async last progress %zu/%zu", ph, h2.last, h2.total);
      a = mp_async_free(a);
    }
    sleep_s(0.2);
  }
  /* apply_async callbacks */
  PHASE("apply_async callbacks");
  {
    enum { M = 60 };
    mp_async *as[M];
    for (int i = 0; i < M; i++) {
      op o = mkop(i, A_OK, 0, 8);
      as[i] = NULL;
      CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, count_cb, NULL, &as[i]) == MP_OK, "apply_async %d", i);
    }
    for (int i = 0; i < M; i++) {
      CHECK(mp_async_wait(as[i], 30) == MP_OK, "wait %d", i);
      CHECK(check_result(mp_async_result(as[i]), i), "apply_async result %d", i);
      as[i] = mp_async_free(as[i]);
    }
    CHECK(ld(&g_cbcount) == M, "callbacks ran %d times, want %d", ld(&g_cbcount), (int)M);
    CHECK(ld(&g_cbwrong) == 0, "callbacks on different threads %d times", ld(&g_cbwrong));
    CHECK(g_cbthread != thread_id(), "callback on the caller's thread");
    CHECK(ld(&g_notready_bad) == 0, "inside a callback ready != 0 or result NULL: %d", ld(&g_notready_bad));
  }
  /* a slow callback must not stall a waiter of another job, a blocking map, an apply */
  PHASE("slow callback");
  {
    op o = mkop(0, A_OK, 0, 8);
    mp_async *sa = NULL, *b = NULL;
    CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, slow_cb, NULL, &sa) == MP_OK, "slow job");
    for (int k = 0; k < 3000 && !ld(&g_slow_started); k++)
      sleep_s(0.01);
    CHECK(ld(&g_slow_started), "slow callback never started");
    o.idx = 1;
    CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, NULL, NULL, &b) == MP_OK, "job B");
    double t0 = now_s();
    int rc = mp_async_wait(b, 30);
    double dt = now_s() - t0;
    CHECK(rc == MP_OK && ld(&g_slow_in), "w=%d: waiter of job B stalled by job A's slow callback: %s after %.2f s", W,
          mp_err_name(rc), dt);
    op in[16];
    int64_t out[16];
    for (int i = 0; i < 16; i++)
      in[i] = mkop(i, A_OK, 0, 8);
    prog g;
    memset(&g, 0, sizeof g);
    g.th = thread_id();
    g.check_th = 1;
    mp_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.chunksize = 2;
    mo.progress = progress;
    mo.progress_ud = &g;
    t0 = now_s();
    rc = mp_pool_map(p, "t_op", in, sizeof(op), 16, out, 8, &mo);
    dt = now_s() - t0;
    CHECK(rc == MP_OK && ld(&g_slow_in), "blocking map with progress stalled by a slow callback: %s after %.2f s",
          mp_err_name(rc), dt);
    CHECK(g.wrong == 0 && g.last == 16, "blocking map's progress: %d on another thread, last %zu", g.wrong, g.last);
    mp_result r;
    memset(&r, 0, sizeof r);
    t0 = now_s();
    rc = mp_pool_apply(p, "t_op", &o, sizeof o, &r);
    dt = now_s() - t0;
    CHECK(rc == MP_OK && r.status == MP_OK && ld(&g_slow_in), "apply stalled by a slow callback: %s after %.2f s",
          mp_err_name(rc), dt);
    mp_result_clear(&r);
    CHECK(mp_async_wait(sa, 30) == MP_OK, "slow job's wait");
    CHECK(!ld(&g_slow_in), "slow job ready before its callback returned");
    sa = mp_async_free(sa);
    b = mp_async_free(b);
  }
  /* callbacks that submit: a chain */
  PHASE("chain");
  {
    op o = mkop(0, A_OK, 0, 8);
    CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, chain_cb, NULL, NULL) == MP_OK, "chain start");
    for (int k = 0; k < 600 && ld(&g_chain) < 21; k++)
      sleep_s(0.05);
    CHECK(ld(&g_chain) == 21 && ld(&g_chain_err) == 0, "chain: %d callbacks, %d errors", ld(&g_chain),
          ld(&g_chain_err));
  }
  /* a callback cancels another job */
  if (W > 1) {
    PHASE("cancel from a callback");
    op o = mkop(0, A_OK, 10.0, 8);
    mp_async *v = NULL, *c = NULL;
    CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, NULL, NULL, &v) == MP_OK, "victim");
    g_victim = v;
    o.sleep_s = 0.1;
    o.idx = 1;
    CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, cancel_cb, NULL, &c) == MP_OK, "canceller");
    double t0 = now_s();
    CHECK(mp_async_wait(v, 30) == MP_OK, "victim wait");
    CHECK(mp_async_wait(c, 30) == MP_OK, "canceller wait");
    double dt = now_s() - t0;
    CHECK(dt < 8, "victim (10 s) not cancelled: %.2f s", dt);
    const mp_result *vr = mp_async_result(v);
    CHECK(ld(&g_cancel_rc) == MP_OK && vr && vr->status == MP_ECANCELLED, "cancel from a callback: rc %s, status %s",
          mp_err_name(ld(&g_cancel_rc)), vr ? mp_err_name(vr->status) : "NULL");
    v = mp_async_free(v);
    c = mp_async_free(c);
  }
  /* a callback closes the pool; queued work still completes */
  PHASE("close from a callback");
  {
    op o = mkop(0, A_OK, 0.05, 8);
    mp_async *c = NULL, *q[10];
    CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, close_cb, NULL, &c) == MP_OK, "closer");
    for (int i = 0; i < 10; i++) {
      o.idx = i;
      q[i] = NULL;
      /* may be refused once the pool is closed: fine */
      (void)mp_pool_apply_async(p, "t_op", &o, sizeof o, NULL, NULL, &q[i]);
    }
    CHECK(mp_async_wait(c, 30) == MP_OK, "closer wait");
    CHECK(ld(&g_close_rc) == MP_OK, "close from a callback: %d", ld(&g_close_rc));
    int rc = mp_pool_join(p, 30);
    CHECK(rc == MP_OK, "join after a close in a callback: %s", mp_err_name(rc));
    for (int i = 0; i < 10; i++) {
      if (!q[i])
        continue;
      CHECK(mp_async_wait(q[i], 0) == MP_OK && check_result(mp_async_result(q[i]), i),
            "job %d queued before the close, after join", i);
      q[i] = mp_async_free(q[i]);
    }
    c = mp_async_free(c);
  }
  PHASE("free");
  p = mp_pool_free(p);
  PA_DONE();
}
