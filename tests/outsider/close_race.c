/* close_race: mp_pool_close races with submissions from other threads. Any
 * imap / apply_async / map_async that was accepted (MP_OK) must deliver every
 * result (the header: an imap made before close goes on after it; queued work
 * still completes), and join must then return. usage: close_race [WORKERS] [ROUNDS] [KIND: imap|async|map|mixed] */
#include "common.h"
static int t_q(mp_call *c) {
  uint32_t v;
  mp_call_arg_read(c, &v, 4);
  v += 1;
  return mp_call_return(c, &v, 4);
}
static mp_pool *P;
static volatile int stop;
static int KIND;
static long accepted, lost, delivered;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
typedef struct {
  uint32_t n, buf;
} ps;
static int prod(void *ud, size_t i, mp_slice *it) {
  ps *s = ud;
  if (i >= s->n)
    return 0;
  s->buf = (uint32_t)i;
  it->data = &s->buf;
  it->len = 4;
  return 1;
}
static void *sub(void *x) {
  unsigned seed = (unsigned)(uintptr_t)x * 7919u;
  while (!stop) {
    int kind = KIND == 3 ? rand_r(&seed) % 3 : KIND;
    if (kind == 0) {
      ps s = {1 + rand_r(&seed) % 12, 0};
      mp_iter *it = NULL;
      mp_imap_options io = {0};
      io.chunksize = 1 + rand_r(&seed) % 3;
      int rc = mp_pool_imap(P, "t_q", prod, &s, &io, &it);
      if (rc == MP_ESTATE)
        break;
      if (rc) {
        failf("imap: %s", mp_err_name(rc));
        break;
      }
      __atomic_add_fetch(&accepted, 1, __ATOMIC_SEQ_CST);
      mp_result r = {0};
      size_t idx;
      uint32_t got = 0;
      while ((rc = mp_iter_next(it, 10, &idx, &r)) == MP_OK) {
        if (r.status || *(uint32_t *)r.data != idx + 1)
          failf("imap item %zu: %s", idx, mp_err_name(r.status));
        mp_result_clear(&r);
        got++;
      }
      if (rc != MP_ECLOSED || got != s.n) {
        __atomic_add_fetch(&lost, 1, __ATOMIC_SEQ_CST);
        pthread_mutex_lock(&mu);
        failf("imap accepted before close: %u of %u results, then %s (%s)", got, s.n, mp_err_name(rc), mp_last_error());
        pthread_mutex_unlock(&mu);
      } else
        __atomic_add_fetch(&delivered, 1, __ATOMIC_SEQ_CST);
      it = mp_iter_free(it);
    } else if (kind == 1) {
      uint32_t v = rand_r(&seed) % 1000;
      mp_async *a = NULL;
      int rc = mp_pool_apply_async(P, "t_q", &v, 4, NULL, NULL, &a);
      if (rc == MP_ESTATE)
        break;
      if (rc) {
        failf("apply_async: %s", mp_err_name(rc));
        break;
      }
      __atomic_add_fetch(&accepted, 1, __ATOMIC_SEQ_CST);
      rc = mp_async_wait(a, 10);
      const mp_result *r = mp_async_result(a);
      if (rc || !r || r->status || *(uint32_t *)r->data != v + 1) {
        __atomic_add_fetch(&lost, 1, __ATOMIC_SEQ_CST);
        failf("apply_async accepted before close: wait %s status %s", mp_err_name(rc),
              r ? mp_err_name(r->status) : "-");
      } else
        __atomic_add_fetch(&delivered, 1, __ATOMIC_SEQ_CST);
      a = mp_async_free(a);
    } else {
      uint32_t vals[8];
      mp_slice sl[8];
      int n = 1 + rand_r(&seed) % 8;
      for (int i = 0; i < n; i++) {
        vals[i] = i;
        sl[i].data = &vals[i];
        sl[i].len = 4;
      }
      mp_map_options mo = {0};
      mo.chunksize = 1 + rand_r(&seed) % 3;
      mp_async *a = NULL;
      int rc = mp_pool_map_async(P, "t_q", sl, n, &mo, NULL, NULL, &a);
      if (rc == MP_ESTATE)
        break;
      if (rc) {
        failf("map_async: %s", mp_err_name(rc));
        break;
      }
      __atomic_add_fetch(&accepted, 1, __ATOMIC_SEQ_CST);
      rc = mp_async_wait(a, 10);
      size_t m = 0;
      const mp_result *rs = mp_async_results(a, &m);
      int bad = rc || !rs || m != (size_t)n;
      for (size_t i = 0; !bad && i < m; i++)
        if (rs[i].status || *(uint32_t *)rs[i].data != i + 1)
          bad = 1;
      if (bad) {
        __atomic_add_fetch(&lost, 1, __ATOMIC_SEQ_CST);
        failf("map_async accepted before close: wait %s", mp_err_name(rc));
      } else
        __atomic_add_fetch(&delivered, 1, __ATOMIC_SEQ_CST);
      a = mp_async_free(a);
    }
  }
  return NULL;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_q);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  int W = argc > 1 ? atoi(argv[1]) : 8, rounds = argc > 2 ? atoi(argv[2]) : 40;
  KIND = argc > 3 ? (!strcmp(argv[3], "async")   ? 1
                     : !strcmp(argv[3], "map")   ? 2
                     : !strcmp(argv[3], "mixed") ? 3
                                                 : 0)
                  : 0;
  g_test = "close_race";
  watchdog(40 + rounds * 1.5);
  unsigned seed = 1;
  int join_fail = 0;
  for (int r = 0; r < rounds && !g_fail; r++) {
    mp_pool_options o = {0};
    o.workers = W;
    MUST_OK(mp_pool_create(&P, &o));
    stop = 0;
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
      pthread_create(&t[i], NULL, sub, (void *)(uintptr_t)(i + 1 + r * 10));
    sleep_s(0.005 + (rand_r(&seed) % 40) / 1000.0);
    PHASE("close");
    CHECK_OK(mp_pool_close(P));
    PHASE("threads");
    for (int i = 0; i < 6; i++)
      pthread_join(t[i], NULL);
    PHASE("join");
    int rc = mp_pool_join(P, 10);
    if (rc) {
      join_fail++;
      failf("round %d: join after close: %s", r, mp_err_name(rc));
    }
    PHASE("free");
    P = mp_pool_free(P);
  }
  infof("accepted %ld, delivered %ld, lost %ld, join failures %d", accepted, delivered, lost, join_fail);
  return finish();
}
