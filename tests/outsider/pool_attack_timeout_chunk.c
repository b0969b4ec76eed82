/* pool_attack_timeout_chunk: task_timeout counts each item from its own
 * start, never the initializer's time nor the chunk's: with a timeout of
 * 1 s and an initializer of 1.2 s, items of 0.1 s (sleeping or spinning)
 * in chunks of 1 and of 12 (a chunk longer than the timeout) all succeed,
 * once each; an item of 30 s in such a chunk alone times out, soon, and the
 * rest of its chunk runs once; an apply of 0.2 s succeeds, one of 20 s times
 * out, soon. usage: pool_attack_timeout_chunk WORKERS */
#include "pool_attack.h"

#define TMO 1.0
#define INIT_S 1.2

/* A machine (a VM) that stops for most of a second makes an item of 0.1 s
 * run past 1 s of wall time: no fault of the library. A thread of this
 * program watches the clock; a timeout in A while it saw a gap that long
 * is reported, not counted. Any other timeout in A is a failure. */
#define STALL 0.5
static int64_t g_gap_us; /* atomic: the longest gap since the last reset */
static void *stall_watch(void *arg) {
  (void)arg;
  double last = now_s();
  for (;;) {
    sleep_s(0.005);
    double t = now_s();
    int64_t gap = (int64_t)((t - last) * 1e6);
    if (gap > __atomic_load_n(&g_gap_us, __ATOMIC_SEQ_CST))
      __atomic_store_n(&g_gap_us, gap, __ATOMIC_SEQ_CST);
    last = t;
  }
  return NULL;
}

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_timeout_chunk", 120);
  pthread_t watch;
  pthread_create(&watch, NULL, stall_watch, NULL);
  pthread_detach(watch);
  int W = argc > 1 ? atoi(argv[1]) : 2;
  size_t CS[] = {1, 12};
  enum { N = 14 };
  double initd = INIT_S;
  double tcr0 = now_s();
  mp_pool *p = NULL;
  if (mkpool(&p, W, 0, TMO, "t_init_sleep", &initd, sizeof initd))
    PA_DONE();
  double tcr1 = now_s();
  infof("w=%d create took %.3f s", W, tcr1 - tcr0);
  for (int ci = 0; ci < 2; ci++) {
    char ph[64];
    snprintf(ph, sizeof ph, "A w=%d cs=%zu", W, CS[ci]);
    PHASE(ph);
    op in[N];
    int64_t out[N];
    mp_result res[N];
    /* A: every item 0.1 s: a chunk's sum (or the initializer and an item)
     * exceeds the timeout, no item does */
    ledger_reset();
    memset(res, 0, sizeof res);
    memset(out, 0, sizeof out);
    for (int i = 0; i < N; i++)
      in[i] = mkop(i, i % 2 ? A_SPIN : A_OK, 0.1, 8);
    mp_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.chunksize = CS[ci];
    mo.results = res;
    __atomic_store_n(&g_gap_us, 0, __ATOMIC_SEQ_CST);
    double tm = now_s();
    int rc = mp_pool_map(p, "t_op", in, sizeof(op), N, out, 8, &mo);
    double tr = now_s();
    double gap = (double)__atomic_load_n(&g_gap_us, __ATOMIC_SEQ_CST) / 1e6;
    int stalled = gap >= STALL;
    if (rc != MP_OK)
      infof("%s: the longest stop of this process's clock-watching thread during the map: %.3f s", ph, gap);
    if (rc != MP_OK)
      for (int i = 0; i < N; i++)
        if (res[i].status != MP_OK) {
          infof("item %d (%s): started %.3f s after the map call (%.3f after create returned), worker %d, status %s, "
                "last alive %.3f s after its start; the map returned %.3f s after its start",
                i, in[i].action == A_SPIN ? "spin" : "sleep", g_slots[i].t_start - tm, g_slots[i].t_start - tcr1,
                g_slots[i].worker, mp_err_name(res[i].status), g_slots[i].t_alive - g_slots[i].t_start,
                tr - g_slots[i].t_start);
        }
    CHECK(rc == MP_OK || (rc == MP_ETIMEDOUT && stalled), "%s: rc %s %s", ph, mp_err_name(rc), mp_last_error());
    for (int i = 0; i < N; i++) {
      if (res[i].status == MP_ETIMEDOUT && stalled)
        infof("%s: item %d timed out while the machine stopped for %.2f s: not counted", ph, i, gap);
      else {
        CHECK(res[i].status == MP_OK && out[i] == i * 1000 + 7, "%s: item %d %s %s", ph, i,
              mp_err_name(res[i].status), res[i].message ? res[i].message : "");
        CHECK(ld(&g_slots[i].starts) == 1, "%s: item %d started %d times", ph, i, ld(&g_slots[i].starts));
      }
      mp_result_clear(&res[i]);
    }
    /* B: item 5 runs 30 s: only it times out, about TMO after its start;
     * the rest of its chunk runs once */
    snprintf(ph, sizeof ph, "B w=%d cs=%zu", W, CS[ci]);
    PHASE(ph);
    ledger_reset();
    memset(res, 0, sizeof res);
    memset(out, 0, sizeof out);
    for (int i = 0; i < N; i++)
      in[i] = mkop(i, A_OK, 0.02, 8);
    in[5].sleep_s = 30;
    in[6].action = A_SPIN;
    in[6].sleep_s = 0.2;
    double t0 = now_s();
    rc = mp_pool_map(p, "t_op", in, sizeof(op), N, out, 8, &mo);
    double t1 = now_s();
    CHECK(rc == MP_ETIMEDOUT, "%s: rc %s %s", ph, mp_err_name(rc), mp_last_error());
    for (int i = 0; i < N; i++) {
      if (i == 5)
        CHECK(res[i].status == MP_ETIMEDOUT, "%s: item 5 %s", ph, mp_err_name(res[i].status));
      else
        CHECK(res[i].status == MP_OK && out[i] == i * 1000 + 7, "%s: item %d %s %s", ph, i,
              mp_err_name(res[i].status), res[i].message ? res[i].message : "");
      CHECK(ld(&g_slots[i].starts) == 1, "%s: item %d started %d times", ph, i, ld(&g_slots[i].starts));
      mp_result_clear(&res[i]);
    }
    /* about TMO + a new worker's INIT_S + the rest; far below item 5's 30 s */
    CHECK(t1 - t0 < 15, "%s: took %.2f s", ph, t1 - t0);
  }
  /* C: apply of 0.2 s: fine; of 5 s: timed out */
  PHASE("C apply");
  {
    op a = mkop(0, A_OK, 0.2, 8);
    mp_result r;
    memset(&r, 0, sizeof r);
    ledger_reset();
    int rc = mp_pool_apply(p, "t_op", &a, sizeof a, &r);
    CHECK(rc == MP_OK && r.status == MP_OK, "C: apply of 0.2 s: %s %s", mp_err_name(r.status),
          r.message ? r.message : "");
    mp_result_clear(&r);
    a.sleep_s = 20;
    double t0 = now_s();
    rc = mp_pool_apply(p, "t_op", &a, sizeof a, &r);
    double dt = now_s() - t0;
    CHECK(rc == MP_OK && r.status == MP_ETIMEDOUT, "C: apply of 20 s: %s", mp_err_name(r.status));
    CHECK(dt < 10, "C: apply of 20 s timed out after %.2f s", dt);
    mp_result_clear(&r);
  }
  PHASE("free");
  p = mp_pool_free(p);
  PA_DONE();
}
