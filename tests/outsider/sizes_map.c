/* sizes_map: mp_pool_map / map_slices / map_async with 0, 1, 7, 1e6 items,
 * chunk sizes 1, 2, 7, huge, item sizes at boundaries, mixed slices.
 * usage: sizes_map WORKERS */
#include "common.h"

/* in: u32 index-ish value; out: out_size bytes: (u32 in, idx) repeated pattern */
static int t_sq(mp_call *c) {
  uint32_t v;
  if (mp_call_arg_read(c, &v, 4))
    return mp_call_fail(c, "bad arg");
  uint64_t o = (uint64_t)v * v + mp_call_index(c);
  return mp_call_return(c, &o, 8);
}
/* variable: returns arg reversed + index as 8 bytes */
static int t_rev(mp_call *c) {
  size_t n;
  const unsigned char *a = mp_call_arg(c, &n);
  unsigned char *o = malloc(n + 8);
  for (size_t i = 0; i < n; i++)
    o[i] = a[n - 1 - i];
  uint64_t idx = mp_call_index(c);
  memcpy(o + n, &idx, 8);
  int rc = mp_call_return(c, o, n + 8);
  free(o);
  return rc;
}

static int prog_calls;
static size_t prog_last, prog_total_seen;
static void prog(size_t done, size_t total, void *ud) {
  (void)ud;
  prog_calls++;
  if (done < prog_last)
    failf("progress went backwards %zu -> %zu", prog_last, done);
  if (done > total)
    failf("progress done %zu > total %zu", done, total);
  prog_last = done;
  prog_total_seen = total;
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_sq);
  MP_REGISTER(t_rev);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  int workers = argc > 1 ? atoi(argv[1]) : 2;
  g_test = "sizes_map";
  watchdog(150);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = workers;
  MUST_OK(mp_pool_create(&p, &o));
  static const size_t NS[] = {0, 1, 2, 7, 8, 100, 1000000};
  static const size_t CS[] = {0, 1, 2, 7, 1000, (size_t)1 << 40, SIZE_MAX};
  double t0 = now_s();
  for (size_t ni = 0; ni < sizeof NS / sizeof NS[0]; ni++)
    for (size_t ci = 0; ci < sizeof CS / sizeof CS[0]; ci++) {
      size_t n = NS[ni];
      if (n == 1000000 && (CS[ci] == 1 || CS[ci] == 2 || CS[ci] == 7))
        continue; /* keep it seconds */
      char ph[64];
      snprintf(ph, sizeof ph, "map n=%zu cs=%zu", n, CS[ci]);
      PHASE(ph);
      uint32_t *in = malloc(n * 4 + 4);
      uint64_t *out = malloc(n * 8 + 8);
      for (size_t i = 0; i < n; i++) {
        in[i] = (uint32_t)(i * 3 + 1);
        out[i] = 0xdeadbeef;
      }
      mp_map_options mo = {0};
      mo.chunksize = CS[ci];
      mo.progress = prog;
      prog_calls = 0;
      prog_last = 0;
      prog_total_seen = 0;
      double t1 = now_s();
      int rc = mp_pool_map(p, "t_sq", in, 4, n, out, 8, &mo);
      if (rc != MP_OK)
        failf("%s: %s %s", ph, mp_err_name(rc), mp_last_error());
      else {
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
          if (out[i] != (uint64_t)in[i] * in[i] + i)
            bad++;
        if (bad)
          failf("%s: %zu wrong results", ph, bad);
      }
      /* progress runs on the callback thread: give it a moment, then check the final report */
      for (int k = 0; k < 50 && n && prog_last != n; k++)
        sleep_s(0.01);
      if (n && prog_last != n)
        failf("%s: progress last %zu total %zu calls %d", ph, prog_last, prog_total_seen, prog_calls);
      if (n >= 1000000)
        infof("%s took %.2fs", ph, now_s() - t1);
      free(in);
      free(out);
    }
  infof("maps %.2fs", now_s() - t0);
  /* fixed item sizes at boundaries, echo */
  static const size_t IS[] = {0, 1, 7, 8, 4095, 4096, 65535, 65536, 512 * 1024 + 8, 1024 * 1024 + 16};
  for (size_t k = 0; k < sizeof IS / sizeof IS[0]; k++) {
    size_t sz = IS[k], n = sz > 65536 ? 9 : 33;
    char ph[64];
    snprintf(ph, sizeof ph, "map echo size %zu", sz);
    PHASE(ph);
    unsigned char *in = malloc(sz * n + 1), *out = malloc(sz * n + 1);
    for (size_t i = 0; i < n; i++)
      fill_pat(in + i * sz, sz, i);
    memset(out, 0, sz * n);
    for (size_t cs = 1; cs <= 7; cs += 3) {
      mp_map_options mo = {0};
      mo.chunksize = cs;
      int rc = mp_pool_map(p, "t_echo", in, sz, n, out, sz, &mo);
      if (rc != MP_OK)
        failf("%s cs %zu: %s %s", ph, cs, mp_err_name(rc), mp_last_error());
      else if (memcmp(in, out, sz * n))
        failf("%s cs %zu: wrong bytes", ph, cs);
    }
    free(in);
    free(out);
  }
  /* mixed slices */
  PHASE("map_slices mixed");
  size_t n = 64;
  mp_slice *sl = calloc(n, sizeof *sl);
  unsigned char **bufs = calloc(n, sizeof *bufs);
  for (size_t i = 0; i < n; i++) {
    static const size_t MS[] = {0, 1, 7, 8, 4096, 65536, 3, 1024 * 1024 + 16, 0, 65535, 512 * 1024 - 8};
    size_t sz = MS[i % 11];
    bufs[i] = malloc(sz + 1);
    fill_pat(bufs[i], sz, i);
    sl[i].data = sz ? bufs[i] : NULL;
    sl[i].len = sz;
  }
  for (size_t cs = 0; cs <= 7; cs++) {
    mp_result *res = calloc(n, sizeof *res);
    mp_map_options mo = {0};
    mo.chunksize = cs == 3 ? 100000 : cs;
    int rc = mp_pool_map_slices(p, "t_rev", sl, n, res, &mo);
    if (rc != MP_OK)
      failf("slices cs %zu: %s %s", mo.chunksize, mp_err_name(rc), mp_last_error());
    for (size_t i = 0; i < n; i++) {
      if (res[i].status != MP_OK || res[i].len != sl[i].len + 8) {
        failf("slice %zu cs %zu: status %s len %zu", i, mo.chunksize, mp_err_name(res[i].status), res[i].len);
        continue;
      }
      const unsigned char *d = res[i].data;
      uint64_t idx;
      memcpy(&idx, d + sl[i].len, 8);
      if (idx != i)
        failf("slice %zu: mp_call_index %llu", i, (unsigned long long)idx);
      for (size_t b = 0; b < sl[i].len; b++)
        if (d[b] != bufs[i][sl[i].len - 1 - b]) {
          failf("slice %zu byte %zu", i, b);
          break;
        }
      mp_result_clear(&res[i]);
    }
    free(res);
  }
  /* map_async with same slices, and 0 items */
  PHASE("map_async");
  mp_async *a = NULL;
  CHECK_OK(mp_pool_map_async(p, "t_rev", sl, n, NULL, NULL, NULL, &a));
  if (a) {
    CHECK_OK(mp_async_wait(a, 30));
    size_t m = 0;
    const mp_result *rs = mp_async_results(a, &m);
    if (!rs || m != n)
      failf("map_async results %p n %zu", (void *)rs, m);
    else
      for (size_t i = 0; i < n; i++)
        if (rs[i].status != MP_OK || rs[i].len != sl[i].len + 8) {
          failf("map_async %zu: %s", i, mp_err_name(rs[i].status));
          break;
        }
    a = mp_async_free(a);
  }
  CHECK_OK(mp_pool_map_async(p, "t_rev", NULL, 0, NULL, NULL, NULL, &a));
  if (a) {
    int rc = mp_async_wait(a, 5);
    if (rc != MP_OK)
      failf("map_async 0 items wait: %s", mp_err_name(rc));
    size_t m = 99;
    const mp_result *rs = mp_async_results(a, &m);
    (void)rs;
    if (m != 0)
      failf("0-item results n %zu", m);
    if (mp_async_result(a) != NULL)
      failf("0-item map_async result not NULL");
    if (!mp_async_ready(a))
      failf("0-item map_async not ready");
    a = mp_async_free(a);
  }
  mp_result z[1];
  int rc = mp_pool_map_slices(p, "t_rev", NULL, 0, z, NULL);
  if (rc != MP_OK)
    failf("map_slices n=0 NULL in: %s", mp_err_name(rc));
  rc = mp_pool_map(p, "t_sq", NULL, 4, 0, NULL, 8, NULL);
  if (rc != MP_OK)
    infof("map n=0 NULL in/out: %s (%s)", mp_err_name(rc), mp_last_error());
  /* overflow n*size */
  rc = mp_pool_map(p, "t_sq", (const void *)z, (size_t)1 << 33, (size_t)1 << 33, z, 8, NULL);
  if (rc != MP_EINVAL && rc != MP_ETOOBIG)
    failf("map n*size overflow: %s", mp_err_name(rc));
  for (size_t i = 0; i < n; i++)
    free(bufs[i]);
  free(bufs);
  free(sl);
  PHASE("free");
  p = mp_pool_free(p);
  return finish();
}
