/* q_edges.c: queue sizes at boundaries, get_into small bufs, close semantics, task_done/join, errors */
#include "common.h"
static int t_putter(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  size_t n;
  const uint64_t *a = mp_call_arg(c, &n);
  uint64_t sz = a[0], seed = a[1];
  unsigned char *b = malloc(sz ? sz : 1);
  fill_pat(b, sz, seed);
  int rc = mp_queue_put(q, b, sz, MP_FOREVER);
  free(b);
  return rc ? mp_call_fail(c, "put %llu: %s %s", (unsigned long long)sz, mp_err_name(rc), mp_last_error()) : 0;
}
static int t_badidx(mp_call *c) {
  char out[1024];
  int n = 0;
  mp_queue *q = mp_call_queue(c, 5);
  n += snprintf(out + n, sizeof out - n, "q5=%p err=[%s];", (void *)q, mp_last_error());
  mp_lock *l = mp_call_lock(c, 0);
  n += snprintf(out + n, sizeof out - n, "l0=%p err=[%s]", (void *)l, mp_last_error());
  return mp_call_return(c, out, strlen(out) + 1);
}
int main(int argc, char **argv) {
  g_test = "q_edges";
  MP_REGISTER(t_putter);
  MP_REGISTER(t_badidx);
  MUST_OK(mp_main(argc, argv));
  watchdog(120);
  mp_queue *q;
  MUST_OK(mp_queue_create(&q, NULL));
  size_t sizes[] = {0,
                    1,
                    15,
                    16,
                    17,
                    31,
                    32,
                    33,
                    4095,
                    4096,
                    4097,
                    65535,
                    65536,
                    65537,
                    (1u << 20) - 1,
                    1u << 20,
                    (1u << 20) + 1,
                    16u << 20,
                    64u << 20,
                    (64u << 20) + 1};
  size_t ns = sizeof sizes / sizeof sizes[0];
  PHASE("sizes in-process");
  for (size_t i = 0; i < ns; i++) {
    unsigned char *b = malloc(sizes[i] + 1);
    fill_pat(b, sizes[i], i);
    CHECK_OK(mp_queue_put(q, b, sizes[i], 0));
    free(b);
  }
  size_t qs;
  CHECK_OK(mp_queue_qsize(q, &qs));
  if (qs != ns)
    failf("qsize %zu want %zu", qs, ns);
  for (size_t i = 0; i < ns; i++) {
    void *d = NULL;
    size_t n = 12345;
    int rc = mp_queue_get(q, &d, &n, 1);
    if (rc) {
      failf("get %zu: %s", i, mp_err_name(rc));
      continue;
    }
    if (n != sizes[i])
      failf("get %zu: len %zu want %zu", i, n, sizes[i]);
    else if (check_pat(d, n, i) != (size_t)-1)
      failf("get %zu: corrupt", i);
    mp_free(d);
  }
  PHASE("sizes from child");
  for (size_t i = 0; i < ns; i++) {
    uint64_t a[2] = {sizes[i], 100 + i};
    mp_process *p;
    mp_object *o = mp_queue_obj(q);
    mp_process_options po = {0};
    po.objects = &o;
    po.nobjects = 1;
    MUST_OK(mp_process_start(&p, "t_putter", a, sizeof a, &po));
    void *d = NULL;
    size_t n = 0;
    int rc = mp_queue_get(q, &d, &n, 20);
    if (rc)
      failf("child get size %zu: %s %s", sizes[i], mp_err_name(rc), mp_last_error());
    else {
      if (n != sizes[i] || check_pat(d, n, 100 + i) != (size_t)-1)
        failf("child size %zu: got len %zu / corrupt", sizes[i], n);
      mp_free(d);
    }
    mp_process_join(p, 10);
    mp_result r = {0};
    mp_process_result(p, &r);
    if (r.status)
      failf("putter: %s", r.message);
    mp_result_clear(&r);
    mp_process_free(p);
  }
  PHASE("get_into");
  {
    char buf[64];
    size_t n;
    CHECK_OK(mp_queue_put(q, "", 0, 0));
    int rc = mp_queue_get_into(q, NULL, 0, &n, 0);
    if (rc != MP_OK || n != 0)
      failf("get_into(NULL,0) of 0-byte -> %s n=%zu", mp_err_name(rc), n);
    unsigned char big[1000];
    fill_pat(big, 1000, 7);
    CHECK_OK(mp_queue_put(q, big, 1000, 0));
    CHECK_OK(mp_queue_put(q, "tail", 4, 0));
    n = 0;
    rc = mp_queue_get_into(q, buf, 16, &n, 0);
    if (rc != MP_ETOOBIG || n != 1000)
      failf("get_into(16) of 1000 -> %s n=%zu", mp_err_name(rc), n);
    rc = mp_queue_get_into(q, NULL, 0, &n, 0);
    if (rc != MP_ETOOBIG || n != 1000)
      failf("get_into(NULL,0) of 1000 -> %s n=%zu", mp_err_name(rc), n);
    rc = mp_queue_get_into(q, buf, 999, &n, 0.1);
    if (rc != MP_ETOOBIG)
      failf("get_into(999) of 1000 -> %s", mp_err_name(rc));
    unsigned char b2[1000];
    rc = mp_queue_get_into(q, b2, 1000, &n, 0);
    if (rc || n != 1000 || check_pat(b2, 1000, 7) != (size_t)-1)
      failf("get_into(1000) -> %s n=%zu", mp_err_name(rc), n);
    rc = mp_queue_get_into(q, buf, 64, &n, 0);
    if (rc || n != 4 || memcmp(buf, "tail", 4))
      failf("tail -> %s", mp_err_name(rc));
    rc = mp_queue_get_into(q, buf, 64, &n, 0);
    if (rc != MP_EEMPTY)
      failf("empty get_into(0) -> %s", mp_err_name(rc));
  }
  PHASE("limits");
  {
    int rc = mp_queue_put(q, NULL, 0, 0);
    if (rc)
      failf("put(NULL,0) -> %s", mp_err_name(rc));
    void *d;
    size_t n;
    rc = mp_queue_get(q, &d, &n, 0);
    if (rc || n)
      failf("get of put(NULL,0) -> %s %zu", mp_err_name(rc), n);
    else
      mp_free(d);
    rc = mp_queue_put(q, NULL, 5, 0);
    if (rc != MP_EINVAL)
      failf("put(NULL,5) -> %s", mp_err_name(rc));
    static char one;
    rc = mp_queue_put(q, &one, MP_QUEUE_MAX_MESSAGE + 1, 0);
    if (rc != MP_ETOOBIG)
      failf("put(MAX+1) -> %s", mp_err_name(rc));
    rc = mp_queue_put(q, &one, SIZE_MAX, 0);
    if (rc != MP_ETOOBIG)
      failf("put(SIZE_MAX) -> %s", mp_err_name(rc));
    rc = mp_queue_put(q, &one, SIZE_MAX - 15, 0);
    if (rc != MP_ETOOBIG)
      failf("put(SIZE_MAX-15) -> %s", mp_err_name(rc));
    CHECK_OK(mp_queue_qsize(q, &n));
    if (n)
      failf("qsize after refused puts %zu", n);
    rc = mp_queue_get(q, NULL, &n, 0);
    if (rc != MP_EINVAL)
      failf("get(NULL data) -> %s", mp_err_name(rc));
    rc = mp_queue_get(q, &d, NULL, 0);
    if (rc != MP_EINVAL)
      failf("get(NULL len) -> %s", mp_err_name(rc));
    rc = mp_queue_get_into(q, NULL, 10, &n, 0);
    if (rc != MP_EINVAL && rc != MP_EEMPTY)
      failf("get_into(NULL,10) -> %s", mp_err_name(rc));
    rc = mp_queue_task_done(q);
    if (rc != MP_ESTATE)
      failf("task_done non-joinable -> %s", mp_err_name(rc));
    rc = mp_queue_join(q, 0);
    if (rc != MP_ESTATE)
      failf("join non-joinable -> %s", mp_err_name(rc));
    rc = mp_queue_put(NULL, "x", 1, 0);
    if (rc != MP_EINVAL)
      failf("put(NULL q) -> %s", mp_err_name(rc));
    rc = mp_queue_qsize(NULL, &n);
    if (rc != MP_EINVAL)
      failf("qsize(NULL) -> %s", mp_err_name(rc));
    rc = mp_queue_close(NULL);
    if (rc != MP_EINVAL)
      failf("close(NULL) -> %s", mp_err_name(rc));
  }
  PHASE("MP_MAX_MESSAGE exactly");
  {
    unsigned char *b = malloc(MP_MAX_MESSAGE);
    if (b) {
      memset(b, 0xA5, MP_MAX_MESSAGE);
      b[0] = 1;
      b[MP_MAX_MESSAGE - 1] = 2;
      int rc = mp_queue_put(q, b, MP_MAX_MESSAGE, 0);
      if (rc)
        failf("put(MAX) -> %s %s", mp_err_name(rc), mp_last_error());
      else {
        size_t n;
        memset(b, 0, MP_MAX_MESSAGE);
        rc = mp_queue_get_into(q, b, MP_MAX_MESSAGE, &n, 5);
        if (rc || n != MP_MAX_MESSAGE || b[0] != 1 || b[n - 1] != 2 || b[n / 2] != 0xA5)
          failf("get(MAX) -> %s", mp_err_name(rc));
      }
      free(b);
    }
  }
  PHASE("close");
  {
    CHECK_OK(mp_queue_put(q, "a", 1, 0));
    CHECK_OK(mp_queue_put(q, "b", 1, 0));
    CHECK_OK(mp_queue_close(q));
    CHECK_OK(mp_queue_close(q));
    int rc = mp_queue_put(q, "c", 1, 0);
    if (rc != MP_ECLOSED)
      failf("put after close -> %s", mp_err_name(rc));
    char b[4];
    size_t n;
    rc = mp_queue_get_into(q, b, 4, &n, 0);
    if (rc || b[0] != 'a')
      failf("drain a -> %s", mp_err_name(rc));
    void *d;
    rc = mp_queue_get(q, &d, &n, 0);
    if (rc || ((char *)d)[0] != 'b')
      failf("drain b -> %s", mp_err_name(rc));
    else
      mp_free(d);
    double t0 = now_s();
    rc = mp_queue_get(q, &d, &n, MP_FOREVER);
    if (rc != MP_ECLOSED || now_s() - t0 > 0.3)
      failf("get drained closed -> %s", mp_err_name(rc));
    rc = mp_queue_get_into(q, b, 4, &n, 5);
    if (rc != MP_ECLOSED)
      failf("get_into drained closed -> %s", mp_err_name(rc));
  }
  mp_queue_free(q);
  PHASE("joinable");
  {
    mp_queue_options o = {0};
    o.joinable = 1;
    MUST_OK(mp_queue_create(&q, &o));
    CHECK_OK(mp_queue_join(q, 0));
    int rc = mp_queue_task_done(q);
    if (rc != MP_ESTATE)
      failf("task_done with nothing put -> %s", mp_err_name(rc));
    for (int i = 0; i < 3; i++)
      CHECK_OK(mp_queue_put(q, "x", 1, 0));
    rc = mp_queue_join(q, 0.1);
    if (rc != MP_ETIMEDOUT)
      failf("join with 3 outstanding -> %s", mp_err_name(rc));
    for (int i = 0; i < 3; i++) {
      char b;
      size_t n;
      CHECK_OK(mp_queue_get_into(q, &b, 1, &n, 0));
      CHECK_OK(mp_queue_task_done(q));
    }
    CHECK_OK(mp_queue_join(q, 0));
    rc = mp_queue_task_done(q);
    if (rc != MP_ESTATE)
      failf("extra task_done -> %s", mp_err_name(rc));
    CHECK_OK(mp_queue_join(q, 0));
    mp_queue_free(q);
  }
  PHASE("bad index in child");
  {
    MUST_OK(mp_queue_create(&q, NULL));
    mp_object *o = mp_queue_obj(q);
    mp_process_options po = {0};
    po.objects = &o;
    po.nobjects = 1;
    mp_queue_put(NULL, 0, 0, 0); /* leave a stale error in the parent */
    mp_process *p;
    MUST_OK(mp_process_start(&p, "t_badidx", NULL, 0, &po));
    mp_process_join(p, 10);
    mp_result r = {0};
    mp_process_result(p, &r);
    if (r.status || !r.data)
      failf("badidx child: %s", r.message ? r.message : "?");
    else {
      infof("child says: %s", (char *)r.data);
      if (!strstr(r.data, "no object 5") || !strstr(r.data, "not a lock"))
        failf("child's errors unclear: %s", (char *)r.data);
    }
    mp_result_clear(&r);
    mp_process_free(p);
    mp_queue_free(q);
  }
  return finish();
}
