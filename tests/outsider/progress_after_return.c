/* progress_after_return: is a map's progress callback ever called after the
 * map (or map_async's wait) returned? Its ud may be the caller's stack then.
 * Also: does the blocking map wait for other jobs' slow callbacks? */
#include "common.h"
static int t_sl(mp_call *c) {
  double s = 0;
  mp_call_arg_read(c, &s, 8);
  sleep_s(s);
  uint64_t i = mp_call_index(c);
  return mp_call_return(c, &i, 8);
}
static volatile int returned, late_calls, calls;
static void prog(size_t done, size_t total, void *ud) {
  (void)done;
  (void)total;
  (void)ud;
  calls++;
  if (returned)
    late_calls++;
}
static volatile int slow_in;
static void slow_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  slow_in = 1;
  sleep_s(2);
  slow_in = 0;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_sl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "progress_after_return";
  watchdog(60);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  MUST_OK(mp_pool_create(&p, &o));
  for (int round = 0; round < 50; round++) {
    double in[64];
    for (int i = 0; i < 64; i++)
      in[i] = (i % 8) ? 0 : 0.001;
    uint64_t out[64];
    mp_map_options mo = {0};
    mo.progress = prog;
    mo.chunksize = 1 + round % 4;
    returned = 0;
    CHECK_OK(mp_pool_map(p, "t_sl", in, 8, 64, out, 8, &mo));
    returned = 1;
  }
  sleep_s(0.5);
  if (late_calls)
    failf("%d progress calls came after mp_pool_map returned (of %d)", late_calls, calls);
  /* map without progress during a slow callback vs with progress */
  double z = 0;
  mp_async *sj;
  CHECK_OK(mp_pool_apply_async(p, "t_sl", &z, 8, slow_cb, NULL, &sj));
  while (!slow_in)
    sleep_s(0.001);
  double in[8] = {0};
  uint64_t out[8];
  double t0 = now_s();
  CHECK_OK(mp_pool_map(p, "t_sl", in, 8, 8, out, 8, NULL));
  double d1 = now_s() - t0;
  mp_map_options mo = {0};
  mo.progress = prog;
  t0 = now_s();
  returned = 0;
  CHECK_OK(mp_pool_map(p, "t_sl", in, 8, 8, out, 8, &mo));
  double d2 = now_s() - t0;
  returned = 1;
  infof("during another job's 2 s callback: map without progress %.3fs, with progress %.3fs", d1, d2);
  if (d2 > 0.5)
    failf("a blocking map with a progress callback waited %.2fs for another job's slow callback (header: a slow "
          "callback never delays a caller waiting for its own job)",
          d2);
  mp_async_wait(sj, 5);
  sj = mp_async_free(sj);
  p = mp_pool_free(p);
  return finish();
}
