/* map_cs1_million: 1e6 items with chunksize 1 (the issue claims >= 1M tasks/s), and map_async of 1e6 slices */
#include "common.h"
static int t_inc(mp_call *c) {
  uint32_t v;
  mp_call_arg_read(c, &v, 4);
  v++;
  return mp_call_return(c, &v, 4);
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_inc);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "map_cs1_million";
  watchdog(60);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = argc > 1 ? atoi(argv[1]) : 2;
  MUST_OK(mp_pool_create(&p, &o));
  size_t n = 1000000;
  uint32_t *in = malloc(n * 4), *out = malloc(n * 4);
  for (size_t i = 0; i < n; i++)
    in[i] = (uint32_t)i * 2;
  mp_map_options mo = {0};
  mo.chunksize = 1;
  double t0 = now_s();
  PHASE("map cs1");
  int rc = mp_pool_map(p, "t_inc", in, 4, n, out, 4, &mo);
  infof("map cs=1 1e6: %s %.2fs", mp_err_name(rc), now_s() - t0);
  if (rc)
    failf("map: %s %s", mp_err_name(rc), mp_last_error());
  for (size_t i = 0; i < n; i++)
    if (out[i] != in[i] + 1) {
      failf("item %zu wrong", i);
      break;
    }
  mp_slice *sl = malloc(n * sizeof *sl);
  for (size_t i = 0; i < n; i++) {
    sl[i].data = &in[i];
    sl[i].len = 4;
  }
  mp_async *a = NULL;
  t0 = now_s();
  PHASE("map_async 1e6");
  MUST_OK(mp_pool_map_async(p, "t_inc", sl, n, NULL, NULL, NULL, &a));
  memset(in, 0, n * 4); /* copied before it returned */
  rc = mp_async_wait(a, 40);
  infof("map_async 1e6: %s %.2fs", mp_err_name(rc), now_s() - t0);
  size_t m = 0;
  const mp_result *rs = mp_async_results(a, &m);
  if (!rs || m != n)
    failf("results %p %zu", (void *)rs, m);
  else
    for (size_t i = 0; i < n; i++) {
      uint32_t v;
      if (rs[i].status || rs[i].len != 4) {
        failf("item %zu status %s", i, mp_err_name(rs[i].status));
        break;
      }
      memcpy(&v, rs[i].data, 4);
      if (v != (uint32_t)i * 2 + 1) {
        failf("async item %zu = %u", i, v);
        break;
      }
    }
  a = mp_async_free(a);
  p = mp_pool_free(p);
  free(in);
  free(out);
  free(sl);
  return finish();
}
