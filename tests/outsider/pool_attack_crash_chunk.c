/* pool_attack_crash_chunk: a worker that dies in the middle of a chunk
 * (abort, a NULL write, _exit, exit, a kill of itself) fails exactly the
 * item it ran with MP_ECRASHED; every other item of the map is MP_OK with
 * its result (in out and in results[]) and ran exactly once; with
 * max_tasks_per_child 0, 1 and 2 and chunks of 1, 3 and 8. Then a plain
 * map on the same pool. usage: pool_attack_crash_chunk WORKERS */
#include "pool_attack.h"

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_crash_chunk", 120);
  int W = argc > 1 ? atoi(argv[1]) : 2;
  size_t CS[] = {1, 3, 8};
  int K[] = {A_ABORT, A_SEGV, A_UEXIT, A_EXIT, A_KILL9};
  const char *KN[] = {"abort", "segv", "_exit", "exit", "kill"};
  enum { N = 24 };
  for (unsigned mt = 0; mt <= 2; mt++) {
    mp_pool *p = NULL;
    if (mkpool(&p, W, mt, 0, NULL, NULL, 0))
      PA_DONE();
    for (int ci = 0; ci < 3; ci++)
      for (int ki = 0; ki < 5; ki++) {
        if (mt && ki > 1)
          continue;
        char ph[96];
        snprintf(ph, sizeof ph, "w=%d mt=%u cs=%zu %s", W, mt, CS[ci], KN[ki]);
        PHASE(ph);
        ledger_reset();
        op in[N];
        int64_t out[N];
        mp_result res[N];
        memset(res, 0, sizeof res);
        memset(out, 0, sizeof out);
        int crash = 10;
        for (int i = 0; i < N; i++)
          in[i] = mkop(i, i == crash ? K[ki] : A_OK, 0.01, 8);
        mp_map_options mo;
        memset(&mo, 0, sizeof mo);
        mo.chunksize = CS[ci];
        mo.results = res;
        double t0 = now_s();
        int rc = mp_pool_map(p, "t_op", in, sizeof(op), N, out, 8, &mo);
        double dt = now_s() - t0;
        CHECK(rc == MP_ECRASHED, "%s: map rc %s (%s)", ph, mp_err_name(rc), mp_last_error());
        for (int i = 0; i < N; i++) {
          if (i == crash) {
            CHECK(res[i].status == MP_ECRASHED, "%s: crashed item status %s msg=%s", ph, mp_err_name(res[i].status),
                  res[i].message ? res[i].message : "");
            CHECK(res[i].message && *res[i].message, "%s: crashed item without a message", ph);
          } else {
            CHECK(res[i].status == MP_OK && out[i] == i * 1000 + 7, "%s: item %d status %s out %lld msg=%s", ph, i,
                  mp_err_name(res[i].status), (long long)out[i], res[i].message ? res[i].message : "");
            if (res[i].status == MP_OK && res[i].len)
              CHECK(res[i].len == 8 && memcmp(&out[i], res[i].data, 8) == 0, "%s: results[%d] data differs from out",
                    ph, i);
          }
          CHECK(ld(&g_slots[i].starts) == 1, "%s: item %d started %d times", ph, i, ld(&g_slots[i].starts));
          mp_result_clear(&res[i]);
        }
        CHECK(dt < 30, "%s: map took %.1fs", ph, dt);
      }
    /* a plain map after the crashes */
    PHASE("map after crashes");
    ledger_reset();
    {
      enum { M = 60 };
      op in2[M];
      int64_t out2[M];
      memset(out2, 0, sizeof out2);
      for (int i = 0; i < M; i++)
        in2[i] = mkop(i, A_OK, 0, 8);
      mp_map_options mo2;
      memset(&mo2, 0, sizeof mo2);
      mo2.chunksize = 4;
      int rc = mp_pool_map(p, "t_op", in2, sizeof(op), M, out2, 8, &mo2);
      CHECK(rc == MP_OK, "w=%d mt=%u: map after crashes rc %s %s", W, mt, mp_err_name(rc), mp_last_error());
      for (int i = 0; i < M; i++) {
        CHECK(out2[i] == i * 1000 + 7, "map after crashes: out[%d] %lld", i, (long long)out2[i]);
        CHECK(ld(&g_slots[i].starts) == 1, "map after crashes: item %d started %d times", i, ld(&g_slots[i].starts));
      }
    }
    PHASE("free");
    p = mp_pool_free(p);
  }
  PA_DONE();
}
