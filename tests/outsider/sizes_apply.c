/* sizes_apply: apply / apply_async with args and results at and past every
 * boundary, on 1, 2 and 8 workers; all async at once (the deadlock of issue #1).
 * usage: sizes_apply WORKERS */
#include "common.h"

static const size_t ARG_SIZES[] = {0,
                                   1,
                                   7,
                                   8,
                                   4095,
                                   4096,
                                   65535,
                                   65536,
                                   65537,
                                   512 * 1024 - 8,
                                   512 * 1024,
                                   512 * 1024 + 8,
                                   1024 * 1024 - 16,
                                   1024 * 1024,
                                   1024 * 1024 + 16};
static const size_t RES_SIZES[] = {0,
                                   1,
                                   7,
                                   8,
                                   4095,
                                   4096,
                                   65535,
                                   65536,
                                   65537,
                                   512 * 1024 - 8,
                                   512 * 1024 + 8,
                                   1024 * 1024 - 16,
                                   1024 * 1024 + 16,
                                   16u << 20,
                                   64u << 20};
#define NA (sizeof ARG_SIZES / sizeof ARG_SIZES[0])
#define NR (sizeof RES_SIZES / sizeof RES_SIZES[0])

int main(int argc, char **argv) {
  common_register();
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  int workers = argc > 1 ? atoi(argv[1]) : 2;
  g_test = "sizes_apply";
  watchdog(120);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = workers;
  MUST_OK(mp_pool_create(&p, &o));
  double t0 = now_s();
  /* 1. sync echo of every arg size */
  PHASE("sync echo");
  for (size_t i = 0; i < NA; i++) {
    unsigned char *a = malloc(ARG_SIZES[i] + 1);
    fill_pat(a, ARG_SIZES[i], i);
    mp_result r = {0};
    int rc = mp_pool_apply(p, "t_echo", a, ARG_SIZES[i], &r);
    if (rc != MP_OK || r.status != MP_OK)
      failf("echo %zu: rc %s status %s msg %s", ARG_SIZES[i], mp_err_name(rc), mp_err_name(r.status),
            r.message ? r.message : "");
    else if (r.len != ARG_SIZES[i])
      failf("echo %zu: got len %zu", ARG_SIZES[i], r.len);
    else if (r.len && check_pat(r.data, r.len, i) != (size_t)-1)
      failf("echo %zu: wrong bytes", ARG_SIZES[i]);
    else if (r.len == 0 && r.data != NULL)
      infof("echo 0: data non-NULL (%p)", r.data);
    mp_result_clear(&r);
    free(a);
  }
  /* 2. sync results of every size */
  PHASE("sync results");
  for (size_t i = 0; i < NR; i++) {
    unsigned char *a = make_sized_arg(16 + (i * 977) % 5000, RES_SIZES[i], 100 + i);
    mp_result r = {0};
    int rc = mp_pool_apply(p, "t_sized", a, 16 + (i * 977) % 5000, &r);
    if (rc != MP_OK || r.status != MP_OK)
      failf("res %zu: rc %s status %s msg %s", RES_SIZES[i], mp_err_name(rc), mp_err_name(r.status),
            r.message ? r.message : "");
    else if (r.len != RES_SIZES[i])
      failf("res %zu: got len %zu", RES_SIZES[i], r.len);
    else if (check_pat(r.data, r.len, 101 + i) != (size_t)-1)
      failf("res %zu: wrong bytes", RES_SIZES[i]);
    mp_result_clear(&r);
    free(a);
  }
  infof("sync part %.2fs", now_s() - t0);
  /* 3. every combination at once, async (args x results without the 2 largest results), x2 */
  PHASE("async all");
  size_t nj = 0, cap = NA * NR * 2;
  mp_async **jobs = calloc(cap, sizeof *jobs);
  size_t *exp_len = calloc(cap, sizeof *exp_len);
  uint64_t *seeds = calloc(cap, 8);
  for (int rep = 0; rep < 2; rep++)
    for (size_t i = 0; i < NA; i++)
      for (size_t j = 0; j < NR - 2; j++) {
        size_t al = ARG_SIZES[i] < 16 ? 16 : ARG_SIZES[i];
        uint64_t seed = 1000 + nj;
        unsigned char *a = make_sized_arg(al, RES_SIZES[j], seed);
        int rc = mp_pool_apply_async(p, "t_sized", a, al, NULL, NULL, &jobs[nj]);
        free(a);
        if (rc != MP_OK) {
          failf("apply_async %zu/%zu: %s %s", al, RES_SIZES[j], mp_err_name(rc), mp_last_error());
          continue;
        }
        exp_len[nj] = RES_SIZES[j];
        seeds[nj] = seed + 1;
        nj++;
      }
  size_t bad = 0;
  for (size_t k = 0; k < nj; k++) {
    int rc = mp_async_wait(jobs[k], 60);
    if (rc != MP_OK) {
      failf("job %zu wait: %s", k, mp_err_name(rc));
      bad++;
      continue;
    }
    const mp_result *r = mp_async_result(jobs[k]);
    if (!r) {
      failf("job %zu: NULL result after wait OK", k);
      bad++;
    } else if (r->status != MP_OK) {
      if (bad++ < 5)
        failf("job %zu: status %s msg %s", k, mp_err_name(r->status), r->message ? r->message : "");
    } else if (r->len != exp_len[k]) {
      if (bad++ < 5)
        failf("job %zu: len %zu want %zu", k, r->len, exp_len[k]);
    } else if (check_pat(r->data, r->len, seeds[k]) != (size_t)-1) {
      if (bad++ < 5)
        failf("job %zu: wrong bytes", k);
    }
    jobs[k] = mp_async_free(jobs[k]);
  }
  infof("async: %zu jobs, %zu bad, %.2fs total", nj, bad, now_s() - t0);
  PHASE("close/join");
  CHECK_OK(mp_pool_close(p));
  CHECK_OK(mp_pool_join(p, 10));
  p = mp_pool_free(p);
  free(jobs);
  free(exp_len);
  free(seeds);
  return finish();
}
