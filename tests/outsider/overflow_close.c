/* overflow_close: fill the pool's shared memory with queued arguments so that
 * more wait in the pool's own memory, then mp_pool_close at once (or later);
 * every accepted job must still complete and join must return.
 * usage: overflow_close [WORKERS] [ARG_KB] [JOBS] [close_delay_s] */
#include "common.h"
static int t_sum(mp_call *c) {
  size_t n;
  const unsigned char *a = mp_call_arg(c, &n);
  uint64_t s = n;
  if (n)
    s += a[0] + a[n - 1];
  return mp_call_return(c, &s, 8);
}
static int t_sl(mp_call *c) {
  double s;
  mp_call_arg_read(c, &s, 8);
  sleep_s(s);
  return 0;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_sum);
  MP_REGISTER(t_sl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  int W = argc > 1 ? atoi(argv[1]) : 1;
  size_t A = (size_t)(argc > 2 ? atoi(argv[2]) : 1024) * 1024;
  int J = argc > 3 ? atoi(argv[3]) : 200;
  double cd = argc > 4 ? atof(argv[4]) : 0;
  g_test = "overflow_close";
  watchdog(60);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = W;
  MUST_OK(mp_pool_create(&p, &o));
  double busy = 0.5;
  for (int i = 0; i < W; i++)
    CHECK_OK(mp_pool_apply_async(p, "t_sl", &busy, 8, NULL, NULL, NULL));
  unsigned char *buf = malloc(A);
  memset(buf, 1, A);
  mp_async **js = calloc(J, sizeof *js);
  for (int i = 0; i < J; i++) {
    buf[0] = (unsigned char)i;
    CHECK_OK(mp_pool_apply_async(p, "t_sum", buf, A, NULL, NULL, &js[i]));
  }
  if (cd > 0)
    sleep_s(cd);
  CHECK_OK(mp_pool_close(p));
  double t0 = now_s();
  int bad = 0;
  for (int i = 0; i < J; i++) {
    int rc = mp_async_wait(js[i], 15);
    const mp_result *r = mp_async_result(js[i]);
    if (rc || !r || r->status || *(uint64_t *)r->data != A + (unsigned char)i + 1) {
      if (bad++ < 3)
        failf("job %d of %d (%zu KiB args) after close: wait %s status %s", i, J, A / 1024, mp_err_name(rc),
              r ? mp_err_name(r->status) : "-");
    }
    js[i] = mp_async_free(js[i]);
  }
  if (bad)
    failf("%d of %d jobs never completed after close", bad, J);
  int rc = mp_pool_join(p, 10);
  if (rc)
    failf("join: %s", mp_err_name(rc));
  infof("%.2fs", now_s() - t0);
  p = mp_pool_free(p);
  free(buf);
  free(js);
  return finish();
}
