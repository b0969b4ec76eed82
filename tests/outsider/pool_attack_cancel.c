/* pool_attack_cancel: mp_async_cancel of a map_async at a random moment,
 * chunks of 1, 3 and 8, a third of the items spinning: it never blocks;
 * no item starts twice, none starts after the cancel returned; an item
 * reads MP_OK with its result or MP_ECANCELLED, MP_OK only if it ended;
 * one that ended well before the call keeps its result; the callback runs
 * once; a second cancel is MP_ESTATE. Then apply_async jobs, every other
 * one cancelled at once; then a map on the same pool still works.
 * usage: pool_attack_cancel WORKERS [REPEATS] */
#include "pool_attack.h"

static int cbcount;
static void cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  __atomic_add_fetch(&cbcount, 1, __ATOMIC_SEQ_CST);
}
/* Slack for what a loaded machine (or Wine) may stretch: an item's body
 * that started before the cancel took effect but read the clock later;
 * one that ended just before it, its outcome not yet handed in. */
#define SLACK 0.1

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_cancel", 120);
  int W = argc > 1 ? atoi(argv[1]) : 2;
  int reps = argc > 2 ? atoi(argv[2]) : 2;
  size_t CS[] = {1, 3, 8};
  enum { N = 40 };
  unsigned seed = (unsigned)mp_getpid() ^ (unsigned)(now_s() * 1000);
  infof("seed %u", seed);
  mp_pool *p = NULL;
  if (mkpool(&p, W, 0, 0, NULL, NULL, 0))
    PA_DONE();
  for (int ci = 0; ci < 3; ci++)
    for (int rep = 0; rep < reps; rep++) {
      char ph[64];
      snprintf(ph, sizeof ph, "w=%d cs=%zu rep %d", W, CS[ci], rep);
      PHASE(ph);
      ledger_reset();
      __atomic_store_n(&cbcount, 0, __ATOMIC_SEQ_CST);
      op in[N];
      mp_slice sl[N];
      for (int i = 0; i < N; i++) {
        in[i] = mkop(i, i % 3 == 0 ? A_SPIN : A_OK, 0.03, 8);
        sl[i] = mkslice(&in[i], sizeof in[i]);
      }
      mp_map_options mo;
      memset(&mo, 0, sizeof mo);
      mo.chunksize = CS[ci];
      mp_async *a = NULL;
      int rc = mp_pool_map_async(p, "t_op", sl, N, &mo, cb, NULL, &a);
      CHECK(rc == MP_OK, "%s: map_async %s", ph, mp_err_name(rc));
      if (rc != MP_OK)
        continue;
      double delay = (rand_r(&seed) % 600) / 1000.0 * (W == 1 ? 2 : 1);
      sleep_s(delay);
      double tc0 = now_s();
      int crc = mp_async_cancel(a);
      double tc1 = now_s();
      CHECK(crc == MP_OK || crc == MP_ESTATE, "%s: cancel rc %s", ph, mp_err_name(crc));
      CHECK(tc1 - tc0 < 2, "%s: cancel (never blocks) took %.3f s", ph, tc1 - tc0);
      rc = mp_async_wait(a, 30);
      CHECK(rc == MP_OK, "%s: wait after cancel %s", ph, mp_err_name(rc));
      sleep_s(0.3);
      int st[N];
      for (int i = 0; i < N; i++)
        st[i] = ld(&g_slots[i].starts);
      size_t n = 0;
      const mp_result *r = mp_async_results(a, &n);
      CHECK(r && n == N, "%s: results %zu", ph, n);
      int nok = 0, ncan = 0, nrunkilled = 0;
      for (size_t i = 0; r && i < n; i++) {
        slot *s = &g_slots[i];
        CHECK(st[i] <= 1, "%s: item %zu started %d times", ph, i, st[i]);
        if (r[i].status == MP_OK) {
          nok++;
          CHECK(check_result(&r[i], (int)i), "%s: OK item %zu bad data", ph, i);
          CHECK(ld(&s->dones) == 1, "%s: OK item %zu ended %d times", ph, i, ld(&s->dones));
        } else if (r[i].status == MP_ECANCELLED) {
          ncan++;
          CHECK(crc != MP_ESTATE, "%s: cancel said MP_ESTATE but item %zu reads MP_ECANCELLED", ph, i);
          if (st[i]) {
            CHECK(s->t_start < tc1 + SLACK, "%s: item %zu started %.4f s after the cancel returned", ph, i,
                  s->t_start - tc1);
            /* Only items under way when the cancel began are bounded by the
             * workers: while it is in progress (long, on a loaded machine
             * under Wine) more may start, and be killed too. */
            if (s->t_start < tc0) nrunkilled++;
          }
          if (ld(&s->dones))
            CHECK(s->t_done >= tc0 - SLACK, "%s: item %zu ended %.3f s before the cancel but reads MP_ECANCELLED", ph,
                  i, tc0 - s->t_done);
        } else
          CHECK(0, "%s: item %zu status %s", ph, i, mp_err_name(r[i].status));
      }
      CHECK(nrunkilled <= W * (int)CS[ci],
            "%s: %d items started before the cancel were cancelled, more than workers times chunk (cancel took %.3f s)",
            ph, nrunkilled, tc1 - tc0);
      sleep_s(0.2);
      for (int i = 0; i < N; i++)
        CHECK(ld(&g_slots[i].starts) == st[i], "%s: item %d started later", ph, i);
      CHECK(ld(&cbcount) == 1, "%s: callback ran %d times", ph, ld(&cbcount));
      CHECK(mp_async_cancel(a) == MP_ESTATE, "%s: second cancel not MP_ESTATE", ph);
      a = mp_async_free(a);
      if (rep == 0)
        infof("%s delay=%.2f ok=%d cancelled=%d killed-running=%d", ph, delay, nok, ncan, nrunkilled);
    }
  /* apply_async: cancel the odd ones */
  PHASE("apply_async cancel");
  {
    enum { M = 20 };
    mp_async *as[M];
    int crc[M];
    double tc[M];
    ledger_reset();
    __atomic_store_n(&cbcount, 0, __ATOMIC_SEQ_CST);
    for (int i = 0; i < M; i++) {
      op o = mkop(i, A_OK, 0.05, 8);
      as[i] = NULL;
      CHECK(mp_pool_apply_async(p, "t_op", &o, sizeof o, cb, NULL, &as[i]) == MP_OK, "apply_async %d", i);
    }
    sleep_s(0.07);
    for (int i = 1; i < M; i += 2) {
      crc[i] = mp_async_cancel(as[i]);
      tc[i] = now_s();
      CHECK(crc[i] == MP_OK || crc[i] == MP_ESTATE, "cancel apply %d: %s", i, mp_err_name(crc[i]));
    }
    for (int i = 0; i < M; i++) {
      CHECK(mp_async_wait(as[i], 30) == MP_OK, "wait apply %d", i);
      const mp_result *r = mp_async_result(as[i]);
      if (!r) {
        CHECK(0, "apply %d: no result", i);
        continue;
      }
      if (i % 2 == 0)
        CHECK(check_result(r, i), "apply %d (not cancelled): %s", i, mp_err_name(r->status));
      else if (r->status == MP_ECANCELLED) {
        CHECK(crc[i] == MP_OK, "apply %d reads MP_ECANCELLED after a cancel that said %s", i, mp_err_name(crc[i]));
        if (ld(&g_slots[i].starts))
          CHECK(g_slots[i].t_start < tc[i] + SLACK, "apply %d started %.3f s after its cancel", i,
                g_slots[i].t_start - tc[i]);
      } else if (r->status == MP_OK) {
        CHECK(check_result(r, i), "apply %d: bad data", i);
        CHECK(g_slots[i].t_done < tc[i] + SLACK, "apply %d OK but ended %.3f s after its cancel", i,
              g_slots[i].t_done - tc[i]);
      } else
        CHECK(0, "apply %d: status %s", i, mp_err_name(r->status));
    }
    CHECK(ld(&cbcount) == M, "apply callbacks ran %d times, want %d", ld(&cbcount), (int)M);
    sleep_s(0.3);
    for (int i = 0; i < M; i++) {
      CHECK(ld(&g_slots[i].starts) <= 1, "apply %d ran %d times", i, ld(&g_slots[i].starts));
      as[i] = mp_async_free(as[i]);
    }
  }
  /* still works */
  PHASE("map after cancels");
  {
    enum { M2 = 30 };
    op in2[M2];
    int64_t out2[M2];
    memset(out2, 0, sizeof out2);
    ledger_reset();
    for (int i = 0; i < M2; i++)
      in2[i] = mkop(i, A_OK, 0, 8);
    mp_map_options mo2;
    memset(&mo2, 0, sizeof mo2);
    mo2.chunksize = 3;
    int rc = mp_pool_map(p, "t_op", in2, sizeof(op), M2, out2, 8, &mo2);
    CHECK(rc == MP_OK, "map after cancels: %s %s", mp_err_name(rc), mp_last_error());
    for (int i = 0; i < M2; i++)
      CHECK(out2[i] == i * 1000 + 7 && ld(&g_slots[i].starts) == 1, "map after cancels: item %d", i);
  }
  PHASE("free");
  p = mp_pool_free(p);
  PA_DONE();
}
