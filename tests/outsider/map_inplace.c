/* map_inplace: mp_pool_map with out == in (an in-place map; the header does
 * not forbid it), and the caller's buffers modified right after
 * apply_async / map_async returned ("copied before it returns"). */
#include "common.h"
static int t_dbl(mp_call *c) {
  uint64_t v;
  if (mp_call_arg_read(c, &v, 8))
    return mp_call_fail(c, "size");
  v = v * 2 + 1;
  return mp_call_return(c, &v, 8);
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_dbl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "map_inplace";
  watchdog(60);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = argc > 1 ? atoi(argv[1]) : 2;
  MUST_OK(mp_pool_create(&p, &o));
  static const size_t NS[] = {10, 1000, 100000, 1000000};
  static const size_t CS[] = {1, 3, 0, 100000};
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++) {
      size_t n = NS[a];
      uint64_t *buf = malloc(n * 8);
      for (size_t i = 0; i < n; i++)
        buf[i] = i;
      mp_map_options mo = {0};
      mo.chunksize = CS[b];
      if (n >= 100000 && CS[b] == 1) {
        free(buf);
        continue;
      }
      int rc = mp_pool_map(p, "t_dbl", buf, 8, n, buf, 8, &mo);
      size_t bad = 0, first = 0;
      for (size_t i = 0; i < n; i++)
        if (buf[i] != i * 2 + 1) {
          if (!bad)
            first = i;
          bad++;
        }
      if (rc || bad)
        failf("in-place map n=%zu cs=%zu: rc %s, %zu wrong (first %zu: %llu)", n, CS[b], mp_err_name(rc), bad, first,
              bad ? (unsigned long long)buf[first] : 0ULL);
      free(buf);
    }
  /* apply_async / map_async: buffers overwritten at once */
  uint64_t v = 21;
  mp_async *j;
  CHECK_OK(mp_pool_apply_async(p, "t_dbl", &v, 8, NULL, NULL, &j));
  v = 999;
  CHECK_OK(mp_async_wait(j, 5));
  const mp_result *r = mp_async_result(j);
  if (!r || r->status || *(uint64_t *)r->data != 43)
    failf("apply_async read its argument after returning");
  j = mp_async_free(j);
  uint64_t vals[1000];
  mp_slice sl[1000];
  for (int i = 0; i < 1000; i++) {
    vals[i] = i;
    sl[i].data = &vals[i];
    sl[i].len = 8;
  }
  CHECK_OK(mp_pool_map_async(p, "t_dbl", sl, 1000, NULL, NULL, NULL, &j));
  for (int i = 0; i < 1000; i++) {
    vals[i] = 7777;
    sl[i].len = 3;
  }
  CHECK_OK(mp_async_wait(j, 5));
  size_t n;
  const mp_result *rs = mp_async_results(j, &n);
  for (size_t i = 0; rs && i < n; i++)
    if (rs[i].status || *(uint64_t *)rs[i].data != i * 2 + 1) {
      failf("map_async item %zu read after return", i);
      break;
    }
  j = mp_async_free(j);
  p = mp_pool_free(p);
  return finish();
}
