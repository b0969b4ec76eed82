/* imap_edges: producers that fail at once / midway, give NULL items, huge items,
 * over-limit items, block; imap across mp_pool_close; each index asked once;
 * backpressure (max_in_flight); errors never come with a filled result.
 * usage: imap_edges [WORKERS] */
#include "common.h"
static int t_len(mp_call *c) {
  size_t n;
  const unsigned char *a = mp_call_arg(c, &n);
  uint64_t v[2] = {n, n ? a[n - 1] : 0};
  sleep_s(0.002);
  return mp_call_return(c, v, 16);
}
typedef struct {
  size_t n;
  int fail_at;
  int fail_code;
  int calls[100000];
  int null_mode;
  size_t huge_at;
  unsigned char *huge;
  size_t huge_len;
  double block_s;
  size_t max_idx_seen;
} ps;
static unsigned char one = 9;
static int prod(void *ud, size_t i, mp_slice *it) {
  ps *s = ud;
  if (i < 100000)
    s->calls[i]++;
  if (i > s->max_idx_seen)
    s->max_idx_seen = i;
  if ((int)i == s->fail_at)
    return s->fail_code;
  if (i >= s->n)
    return 0;
  if (s->block_s > 0 && i == 3)
    sleep_s(s->block_s);
  if (s->huge && i == s->huge_at) {
    it->data = s->huge;
    it->len = s->huge_len;
    return 1;
  }
  if (s->null_mode == 1) {
    it->data = NULL;
    it->len = 0;
    return 1;
  }
  if (s->null_mode == 2 && i == 2) {
    it->data = NULL;
    it->len = 5;
    return 1;
  }
  it->data = &one;
  it->len = 1;
  return 1;
}
static int drain(mp_iter *it, size_t *got, int *lastrc, const char *what) {
  mp_result r = {0};
  size_t idx;
  *got = 0;
  for (;;) {
    int rc = mp_iter_next(it, 10, &idx, &r);
    if (rc != MP_OK) {
      if (r.data || r.message || r.status)
        failf("%s: mp_iter_next %s with a filled result", what, mp_err_name(rc));
      *lastrc = rc;
      return rc;
    }
    (*got)++;
    mp_result_clear(&r);
  }
}
static ps S;
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_len);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "imap_edges";
  watchdog(90);
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = argc > 1 ? atoi(argv[1]) : 2;
  MUST_OK(mp_pool_create(&p, &o));
  mp_iter *it = NULL;
  mp_imap_options io = {0};
  size_t got;
  int last;
  /* 1: fail on first pull */
  PHASE("fail first");
  memset(&S, 0, sizeof S);
  S.n = 10;
  S.fail_at = 0;
  S.fail_code = -4242;
  int rc = mp_pool_imap(p, "t_len", prod, &S, &io, &it);
  if (rc != -4242)
    failf("imap with producer failing at once: %s (%d), want -4242", mp_err_name(rc), rc);
  if (it) {
    failf("iterator made though producer failed first");
    it = mp_iter_free(it);
  }
  /* fail code that collides with a library code */
  memset(&S, 0, sizeof S);
  S.n = 10;
  S.fail_at = 0;
  S.fail_code = MP_ETIMEDOUT;
  it = NULL;
  rc = mp_pool_imap(p, "t_len", prod, &S, &io, &it);
  if (rc != MP_ETIMEDOUT)
    failf("imap producer failing at once with -3: %s", mp_err_name(rc));
  it = mp_iter_free(it);
  /* 2: fail midway */
  PHASE("fail mid");
  for (int un = 0; un < 2; un++) {
    memset(&S, 0, sizeof S);
    S.n = 100;
    S.fail_at = 37;
    S.fail_code = -777;
    io.unordered = un;
    io.chunksize = 3;
    CHECK_OK(mp_pool_imap(p, "t_len", prod, &S, &io, &it));
    drain(it, &got, &last, "fail mid");
    if (last != -777)
      failf("fail mid (unordered %d): ended with %s (%d) after %zu", un, mp_err_name(last), last, got);
    if (got != 37)
      failf("fail mid (unordered %d): %zu results before the error, want 37", un, got);
    mp_result r = {0};
    rc = mp_iter_next(it, 0.5, NULL, &r);
    if (rc == MP_OK)
      failf("fail mid: next after error gave a result");
    infof("after producer error, next again -> %s", mp_err_name(rc));
    mp_result_clear(&r);
    it = mp_iter_free(it);
    for (int i = 0; i < 40; i++)
      if (S.calls[i] > 1) {
        failf("producer asked for index %d %d times", i, S.calls[i]);
        break;
      }
    if (S.calls[38])
      failf("producer asked past its failure (index 38)");
  }
  io.unordered = 0;
  io.chunksize = 0;
  /* 3: NULL items with len 0 (fine), NULL with len 5 (must be an error) */
  PHASE("null items");
  memset(&S, 0, sizeof S);
  S.n = 20;
  S.fail_at = -1;
  S.null_mode = 1;
  CHECK_OK(mp_pool_imap(p, "t_len", prod, &S, &io, &it));
  drain(it, &got, &last, "null0");
  if (last != MP_ECLOSED || got != 20)
    failf("NULL/0 items: %zu then %s", got, mp_err_name(last));
  it = mp_iter_free(it);
  memset(&S, 0, sizeof S);
  S.n = 20;
  S.fail_at = -1;
  S.null_mode = 2;
  rc = mp_pool_imap(p, "t_len", prod, &S, &io, &it);
  if (rc == MP_OK) {
    drain(it, &got, &last, "nullN");
    infof("NULL/5 item: imap OK, %zu results then %s (%s)", got, mp_err_name(last), mp_last_error());
    if (last == MP_ECLOSED)
      failf("NULL item with length 5 accepted silently");
    if (got != 2)
      failf("NULL/5 at index 2: %zu results before the error", got);
  } else
    infof("NULL/5 item: imap -> %s", mp_err_name(rc));
  it = mp_iter_free(it);
  /* 4: huge item (64 MiB) and over-limit item (1 GiB + 1) */
  PHASE("huge items");
  memset(&S, 0, sizeof S);
  S.n = 10;
  S.fail_at = -1;
  S.huge_at = 4;
  S.huge_len = 64u << 20;
  S.huge = malloc(S.huge_len);
  memset(S.huge, 7, S.huge_len);
  CHECK_OK(mp_pool_imap(p, "t_len", prod, &S, &io, &it));
  {
    mp_result r = {0};
    size_t idx;
    size_t k = 0;
    while ((rc = mp_iter_next(it, 10, &idx, &r)) == MP_OK) {
      uint64_t v[2];
      memcpy(v, r.data, 16);
      if (idx == 4 && (v[0] != S.huge_len || v[1] != 7))
        failf("huge item: task saw %llu bytes", (unsigned long long)v[0]);
      mp_result_clear(&r);
      k++;
    }
    if (rc != MP_ECLOSED || k != 10)
      failf("huge: %zu then %s", k, mp_err_name(rc));
  }
  it = mp_iter_free(it);
  free(S.huge);
  memset(&S, 0, sizeof S);
  S.n = 10;
  S.fail_at = -1;
  S.huge_at = 3;
  S.huge_len = MP_MAX_MESSAGE + 1;
  S.huge = malloc(S.huge_len);
  rc = mp_pool_imap(p, "t_len", prod, &S, &io, &it);
  if (rc == MP_OK) {
    drain(it, &got, &last, "overlimit");
    infof("1GiB+1 item: %zu results then %s (%s)", got, mp_err_name(last), mp_last_error());
    if (last == MP_ECLOSED)
      failf("imap item over MP_MAX_MESSAGE accepted");
  } else
    infof("1GiB+1 item: imap -> %s (%s)", mp_err_name(rc), mp_last_error());
  it = mp_iter_free(it);
  free(S.huge);
  /* 5: backpressure: max_in_flight 4 with a consumer that does not read */
  PHASE("backpressure");
  memset(&S, 0, sizeof S);
  S.n = 100000;
  S.fail_at = -1;
  io.max_in_flight = 4;
  io.chunksize = 1;
  CHECK_OK(mp_pool_imap(p, "t_len", prod, &S, &io, &it));
  sleep_s(0.5);
  {
    mp_result r = {0};
    mp_iter_next(it, 1, NULL, &r);
    mp_result_clear(&r);
  }
  infof("backpressure: producer asked up to index %zu with max_in_flight 4", S.max_idx_seen);
  if (S.max_idx_seen > 16)
    failf("max_in_flight 4 but producer pulled %zu items ahead", S.max_idx_seen);
  it = mp_iter_free(it);
  io.max_in_flight = 0;
  /* 6: blocking producer: imap returns only after producer ran; next timeouts honoured */
  PHASE("blocking producer");
  memset(&S, 0, sizeof S);
  S.n = 10;
  S.fail_at = -1;
  S.block_s = 1.0;
  double t0 = now_s();
  CHECK_OK(mp_pool_imap(p, "t_len", prod, &S, &io, &it));
  infof("imap with blocking producer returned after %.2fs", now_s() - t0);
  drain(it, &got, &last, "block");
  if (last != MP_ECLOSED || got != 10)
    failf("blocking producer: %zu then %s", got, mp_err_name(last));
  it = mp_iter_free(it);
  /* 7: imap made before close goes on after it; join waits for it */
  PHASE("imap across close");
  memset(&S, 0, sizeof S);
  S.n = 300;
  S.fail_at = -1;
  io.chunksize = 2;
  io.max_in_flight = 6;
  CHECK_OK(mp_pool_imap(p, "t_len", prod, &S, &io, &it));
  CHECK_OK(mp_pool_close(p));
  rc = mp_pool_join(p, 0);
  if (rc == MP_OK)
    failf("join 0 returned OK while an imap still has inputs");
  {
    mp_result r = {0};
    size_t idx, k = 0, expect = 0;
    while ((rc = mp_iter_next(it, 10, &idx, &r)) == MP_OK) {
      if (idx != expect++)
        failf("ordered imap gave index %zu", idx);
      mp_result_clear(&r);
      k++;
    }
    if (rc != MP_ECLOSED || k != 300)
      failf("imap across close: %zu of 300 results, then %s (%s)", k, mp_err_name(rc), mp_last_error());
  }
  for (int i = 0; i < 300; i++)
    if (S.calls[i] != 1) {
      failf("index %d asked %d times", i, S.calls[i]);
      break;
    }
  rc = mp_pool_join(p, 5);
  if (rc != MP_OK)
    failf("join after imap drained: %s", mp_err_name(rc));
  it = mp_iter_free(it);
  /* 8: imap after close refused */
  rc = mp_pool_imap(p, "t_len", prod, &S, &io, &it);
  if (rc != MP_ESTATE)
    failf("imap after close: %s", mp_err_name(rc));
  PHASE("free");
  p = mp_pool_free(p);
  return finish();
}
