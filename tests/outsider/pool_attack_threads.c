/* pool_attack_threads: 16 threads at once on one pool, each with 40
 * apply_async (every 13th failing, task_code 7) and a blocking map of 40
 * with its own chunk size (every 4th thread's map has an item that aborts):
 * every outcome exact, every item started exactly once; with 1, 2 and 8
 * workers (8 with max_tasks_per_child 3). */
#include "pool_attack.h"

static mp_pool *P;
enum { T = 16, PER = 40 };
static int bad;
static void badf(const char *what, int t, int i, const char *st) {
  printf("  thread %d: %s %d: %s\n", t, what, i, st);
  fflush(stdout);
  __atomic_add_fetch(&bad, 1, __ATOMIC_SEQ_CST);
}
static void *sub(void *arg) {
  int t = (int)(intptr_t)arg;
  int base = t * PER * 2;
  mp_async *as[PER];
  for (int i = 0; i < PER; i++) {
    op o = mkop(base + i, (i % 13 == 5) ? A_FAIL : A_OK, 0, 8);
    as[i] = NULL;
    if (mp_pool_apply_async(P, "t_op", &o, sizeof o, NULL, NULL, &as[i]) != MP_OK)
      badf("apply_async", t, i, mp_last_error());
  }
  op in[PER];
  int64_t out[PER];
  mp_result res[PER];
  memset(res, 0, sizeof res);
  memset(out, 0, sizeof out);
  int crasher = t % 4 == 1;
  for (int i = 0; i < PER; i++)
    in[i] = mkop(base + PER + i, (crasher && i == 7) ? A_ABORT : A_OK, 0, 8);
  mp_map_options mo;
  memset(&mo, 0, sizeof mo);
  mo.chunksize = (size_t)(1 + t % 5);
  mo.results = res;
  int rc = mp_pool_map(P, "t_op", in, sizeof(op), PER, out, 8, &mo);
  if (rc != (crasher ? MP_ECRASHED : MP_OK))
    badf("map rc", t, rc, mp_err_name(rc));
  for (int i = 0; i < PER; i++) {
    int crash = crasher && i == 7;
    if (crash ? res[i].status != MP_ECRASHED
              : (res[i].status != MP_OK || out[i] != (int64_t)(base + PER + i) * 1000 + 7))
      badf("map item", t, i, mp_err_name(res[i].status));
    mp_result_clear(&res[i]);
  }
  for (int i = 0; i < PER; i++) {
    if (!as[i])
      continue;
    if (mp_async_wait(as[i], 60) != MP_OK) {
      badf("wait", t, i, "not ready");
      continue;
    }
    const mp_result *r = mp_async_result(as[i]);
    if (i % 13 == 5) {
      if (!r || r->status != MP_ETASK || r->task_code != 7)
        badf("apply_async (want MP_ETASK, 7)", t, i, r ? mp_err_name(r->status) : "NULL");
    } else if (!check_result(r, base + i))
      badf("apply_async", t, i, r ? mp_err_name(r->status) : "NULL");
    as[i] = mp_async_free(as[i]);
  }
  return NULL;
}

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_threads", 120);
  int W[] = {1, 2, 8};
  for (int wi = 0; wi < 3; wi++) {
    char ph[32];
    snprintf(ph, sizeof ph, "w=%d", W[wi]);
    PHASE(ph);
    ledger_reset();
    __atomic_store_n(&bad, 0, __ATOMIC_SEQ_CST);
    if (mkpool(&P, W[wi], wi == 2 ? 3 : 0, 0, NULL, NULL, 0))
      break;
    pthread_t th[T];
    double t0 = now_s();
    for (int t = 0; t < T; t++)
      pthread_create(&th[t], NULL, sub, (void *)(intptr_t)t);
    for (int t = 0; t < T; t++)
      pthread_join(th[t], NULL);
    CHECK(ld(&bad) == 0, "w=%d: %d bad outcomes", W[wi], ld(&bad));
    for (int i = 0; i < T * PER * 2; i++)
      CHECK(ld(&g_slots[i].starts) == 1, "w=%d: item %d started %d times", W[wi], i, ld(&g_slots[i].starts));
    infof("w=%d %.1f s", W[wi], now_s() - t0);
    P = mp_pool_free(P);
  }
  PA_DONE();
}
