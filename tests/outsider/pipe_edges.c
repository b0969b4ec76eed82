/* pipe_edges.c: Pipe/Connection edges: sizes, recv_into, poll, handed-on ends, torn messages, directions */
#include "common.h"
#define MiB ((size_t)1 << 20)
static int t_readone(mp_call *c) {
  mp_conn *e = mp_call_conn(c, 0);
  void *d;
  size_t n;
  int rc = mp_conn_recv(e, &d, &n, 10);
  if (rc)
    return mp_call_fail(c, "recv %s", mp_err_name(rc));
  int rv = mp_call_return(c, d, n);
  mp_free(d);
  return rv;
}
static int t_countall(mp_call *c) {
  mp_conn *e = mp_call_conn(c, 0);
  int k = 0;
  void *d;
  size_t n;
  while (mp_conn_recv(e, &d, &n, 0.5) == MP_OK) {
    mp_free(d);
    k++;
  }
  return mp_call_return(c, &k, sizeof k);
}
static int t_sendbig_die(mp_call *c) {
  mp_conn *e = mp_call_conn(c, 0);
  uint64_t sz;
  mp_call_arg_read(c, &sz, 8);
  unsigned char *b = malloc(sz);
  memset(b, 1, sz);
  mp_conn_send(e, b, sz);
  return 0;
}
static int t_sender(mp_call *c) {
  mp_conn *e = mp_call_conn(c, 0);
  uint64_t a[2];
  mp_call_arg_read(c, a, 16);
  unsigned char *b = malloc(a[0] + 1);
  fill_pat(b, a[0], a[1]);
  int rc = mp_conn_send(e, b, a[0]);
  free(b);
  return rc ? mp_call_fail(c, "send %s", mp_err_name(rc)) : 0;
}
static int t_slowsend(mp_call *c) { /* sends a 64 MiB message; parent polls while it is in flight */
  mp_conn *e = mp_call_conn(c, 0);
  size_t sz = 64 * MiB;
  unsigned char *b = malloc(sz);
  fill_pat(b, sz, 5);
  int rc = mp_conn_send(e, b, sz);
  free(b);
  return rc ? mp_call_fail(c, "send %s", mp_err_name(rc)) : 0;
}
static mp_process *start1(const char *task, mp_conn *e, const void *arg, size_t len) {
  mp_object *o = mp_conn_obj(e);
  mp_process_options po = {0};
  po.objects = &o;
  po.nobjects = 1;
  mp_process *p = NULL;
  int rc = mp_process_start(&p, task, arg, len, &po);
  if (rc)
    failf("start %s: %s", task, mp_err_name(rc));
  return p;
}
static int endres(mp_process *p, void *out, size_t n) {
  mp_process_join(p, 30);
  mp_result r = {0};
  mp_process_result(p, &r);
  int st = r.status;
  if (st)
    infof("child: %s %s", mp_err_name(st), r.message ? r.message : "");
  else if (out && r.len == n)
    memcpy(out, r.data, n);
  else if (out)
    st = -99;
  mp_result_clear(&r);
  mp_process_free(p);
  return st;
}

int main(int argc, char **argv) {
  g_test = "pipe_edges";
  MP_REGISTER(t_readone);
  MP_REGISTER(t_countall);
  MP_REGISTER(t_sendbig_die);
  MP_REGISTER(t_sender);
  MP_REGISTER(t_slowsend);
  MUST_OK(mp_main(argc, argv));
  watchdog(150);
  mp_conn *a, *b;
  int rc;
  size_t n;
  void *d;
  PHASE("sizes");
  MUST_OK(mp_pipe(&a, &b, 0));
  size_t sizes[] = {0, 1, 4095, 4096, 4097, 65535, 65536, 65537, MiB + 3, 16 * MiB};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    uint64_t arg[2] = {sizes[i], i};
    mp_process *p = start1("t_sender", b, arg, 16);
    rc = mp_conn_recv(a, &d, &n, 20);
    if (rc || n != sizes[i] || check_pat(d, n, i) != (size_t)-1)
      failf("recv size %zu -> %s n=%zu", sizes[i], mp_err_name(rc), n);
    if (!rc)
      mp_free(d);
    endres(p, NULL, 0);
  }
  PHASE("directions");
  rc = mp_conn_send(a, "x", 1);
  if (rc != MP_ESTATE)
    failf("send on receive-only end -> %s", mp_err_name(rc));
  rc = mp_conn_recv(b, &d, &n, 0);
  if (rc != MP_ESTATE)
    failf("recv on send-only end -> %s", mp_err_name(rc));
  rc = mp_conn_poll(b, 0);
  if (rc != 1)
    failf("poll on send-only end -> %d want 1", rc);
  rc = mp_conn_poll(NULL, 0);
  if (rc != 1)
    failf("poll(NULL) -> %d want 1", rc);
  rc = mp_conn_send(b, NULL, 3);
  if (rc != MP_EINVAL)
    failf("send(NULL,3) -> %s", mp_err_name(rc));
  {
    static char one;
    rc = mp_conn_send(b, &one, MP_MAX_MESSAGE + 1);
    if (rc != MP_ETOOBIG)
      failf("send(MAX+1) -> %s", mp_err_name(rc));
  }
  PHASE("recv_into");
  CHECK_OK(mp_conn_send(b, NULL, 0));
  n = 77;
  rc = mp_conn_recv_into(a, NULL, 0, &n, 1);
  if (rc || n != 0)
    failf("recv_into(NULL,0) of 0-byte -> %s n=%zu", mp_err_name(rc), n);
  {
    unsigned char m[300];
    fill_pat(m, 300, 3);
    CHECK_OK(mp_conn_send(b, m, 300));
    CHECK_OK(mp_conn_send(b, "t", 1));
    char sm[16];
    rc = mp_conn_recv_into(a, sm, 16, &n, 1);
    if (rc != MP_ETOOBIG || n != 300)
      failf("recv_into(16) of 300 -> %s n=%zu", mp_err_name(rc), n);
    rc = mp_conn_recv_into(a, NULL, 0, &n, 1);
    if (rc != MP_ETOOBIG || n != 300)
      failf("recv_into(NULL,0) of 300 -> %s n=%zu", mp_err_name(rc), n);
    rc = mp_conn_poll(a, 0);
    if (rc != 1)
      failf("poll with a refused message waiting -> %d", rc);
    unsigned char big[300];
    rc = mp_conn_recv_into(a, big, 300, &n, 1);
    if (rc || n != 300 || check_pat(big, 300, 3) != (size_t)-1)
      failf("recv_into(300) -> %s", mp_err_name(rc));
    rc = mp_conn_recv(a, &d, &n, 1);
    if (rc || n != 1)
      failf("tail -> %s", mp_err_name(rc));
    else
      mp_free(d);
    rc = mp_conn_poll(a, 0);
    if (rc != 0)
      failf("poll on empty -> %d", rc);
    rc = mp_conn_poll(a, 0.2);
    if (rc != 0)
      failf("poll(0.2) on empty -> %d", rc);
  }
  PHASE("poll partial");
  {
    mp_process *p = start1("t_slowsend", b, NULL, 0);
    /* while the 64 MiB message streams, poll(0) may say 1 only once all of it is in */
    int ones = 0, zeros = 0;
    double t0 = now_s();
    while (now_s() - t0 < 20) {
      rc = mp_conn_poll(a, 0);
      if (rc == 1) {
        ones++;
        break;
      }
      zeros++;
    }
    unsigned char *bb = malloc(64 * MiB);
    double t1 = now_s();
    rc = mp_conn_recv_into(a, bb, 64 * MiB, &n, 0);
    double el = now_s() - t1;
    if (rc || n != 64 * MiB || check_pat(bb, n, 5) != (size_t)-1)
      failf("after poll=1, recv_into(timeout 0) -> %s n=%zu (poll said a receive would not block)", mp_err_name(rc), n);
    infof("poll: %d zeros then %d; recv took %.3fs", zeros, ones, el);
    free(bb);
    endres(p, NULL, 0);
  }
  PHASE("recv timeout mid-message keeps it");
  {
    mp_process *p = start1("t_slowsend", b, NULL, 0);
    unsigned char *bb = malloc(64 * MiB);
    int tries = 0;
    for (;;) {
      rc = mp_conn_recv_into(a, bb, 64 * MiB, &n, 0.0005);
      tries++;
      if (rc != MP_ETIMEDOUT)
        break;
    }
    if (rc || n != 64 * MiB || check_pat(bb, n, 5) != (size_t)-1)
      failf("recv_into with tiny timeouts (%d tries) -> %s n=%zu", tries, mp_err_name(rc), n);
    endres(p, NULL, 0);
    p = start1("t_slowsend", b, NULL, 0);
    tries = 0;
    for (;;) {
      rc = mp_conn_recv(a, &d, &n, 0.0005);
      tries++;
      if (rc != MP_ETIMEDOUT)
        break;
    }
    if (rc || n != 64 * MiB || check_pat(d, n, 5) != (size_t)-1)
      failf("recv with tiny timeouts (%d tries) -> %s n=%zu", tries, mp_err_name(rc), n);
    if (!rc)
      mp_free(d);
    free(bb);
    endres(p, NULL, 0);
  }
  PHASE("handed on");
  {
    for (int i = 0; i < 10; i++) {
      char m[32];
      snprintf(m, sizeof m, "msg%d", i);
      CHECK_OK(mp_conn_send(b, m, strlen(m) + 1));
    }
    char r1[32] = {0};
    mp_process *p = start1("t_readone", a, NULL, 0);
    if (endres(p, r1, 5) || strcmp(r1, "msg0"))
      failf("first child read '%s'", r1);
    p = start1("t_readone", a, NULL, 0);
    char r2[32] = {0};
    if (endres(p, r2, 5) || strcmp(r2, "msg1"))
      failf("second child read '%s' want msg1", r2);
    rc = mp_conn_recv(a, &d, &n, 1);
    if (rc || strcmp(d, "msg2"))
      failf("parent then read %s '%s' want msg2", mp_err_name(rc), rc ? "" : (char *)d);
    if (!rc)
      mp_free(d);
    p = start1("t_countall", a, NULL, 0);
    int k = -1;
    if (endres(p, &k, sizeof k) || k != 7)
      failf("third child counted %d want 7", k);
  }
  PHASE("handed on, mixed sizes, grandchildren");
  { /* child reads one of several different-size messages back-to-back (read-ahead risk) */
    for (int i = 0; i < 6; i++) {
      size_t L = i % 2 ? 3 : 15000;
      unsigned char *m = malloc(L);
      memset(m, 'a' + i, L);
      CHECK_OK(mp_conn_send(b, m, L));
      free(m);
    }
    for (int i = 0; i < 6; i++) {
      mp_process *p = start1("t_readone", a, NULL, 0);
      size_t L = i % 2 ? 3 : 15000;
      unsigned char *m = malloc(L);
      if (endres(p, m, L) || m[0] != 'a' + i || m[L - 1] != 'a' + i)
        failf("child %d of 6: wrong message", i);
      free(m);
    }
  }
  PHASE("peer dies mid-message");
  {
    for (int rep = 0; rep < 3; rep++) {
      mp_conn *x, *y;
      MUST_OK(mp_pipe(&x, &y, 0));
      uint64_t sz = 256 * MiB;
      mp_process *p = start1("t_sendbig_die", y, &sz, 8);
      y = mp_conn_free(y);
      sleep_s(0.1 + 0.1 * rep); /* partial in the pipe */
      mp_process_kill(p);
      mp_process_join(p, 10);
      mp_process_free(p);
      double t0 = now_s();
      rc = mp_conn_recv(x, &d, &n, 5);
      if (rc != MP_ECLOSED) {
        failf("recv after sender killed mid-message -> %s n=%zu (%.2fs)", mp_err_name(rc), rc ? 0 : n, now_s() - t0);
        if (!rc)
          mp_free(d);
      }
      rc = mp_conn_poll(x, 0);
      if (rc != 1)
        failf("poll after peer death -> %d", rc);
      mp_conn_free(x);
    }
  }
  PHASE("duplex");
  {
    mp_conn *x, *y;
    MUST_OK(mp_pipe(&x, &y, 1));
    CHECK_OK(mp_conn_send(x, "ab", 2));
    CHECK_OK(mp_conn_send(y, "cd", 2));
    rc = mp_conn_recv(y, &d, &n, 1);
    if (rc || n != 2 || memcmp(d, "ab", 2))
      failf("duplex y");
    if (!rc)
      mp_free(d);
    rc = mp_conn_recv(x, &d, &n, 1);
    if (rc || n != 2 || memcmp(d, "cd", 2))
      failf("duplex x");
    if (!rc)
      mp_free(d);
    /* send when peer closed */
    mp_conn_free(y);
    rc = mp_conn_send(x, "z", 1);
    if (rc != MP_ECLOSED)
      failf("send to a closed peer -> %s", mp_err_name(rc));
    rc = mp_conn_recv(x, &d, &n, 1);
    if (rc != MP_ECLOSED)
      failf("recv from a closed peer -> %s", mp_err_name(rc));
    unsigned char *big = calloc(1, 8 * MiB);
    double t0 = now_s();
    rc = mp_conn_send(x, big, 8 * MiB);
    free(big);
    if (rc != MP_ECLOSED || now_s() - t0 > 1)
      failf("8 MiB send to a closed peer -> %s in %.2fs", mp_err_name(rc), now_s() - t0);
    mp_conn_free(x);
  }
  PHASE("drain after close");
  {
    mp_conn *x, *y;
    MUST_OK(mp_pipe(&x, &y, 0));
    for (int i = 0; i < 5; i++)
      CHECK_OK(mp_conn_send(y, "q", 1));
    mp_conn_free(y);
    int k = 0;
    while ((rc = mp_conn_recv(x, &d, &n, 1)) == MP_OK) {
      mp_free(d);
      k++;
    }
    if (k != 5 || rc != MP_ECLOSED)
      failf("drained %d then %s", k, mp_err_name(rc));
    mp_conn_free(x);
  }
  mp_conn_free(a);
  mp_conn_free(b);
  return finish();
}
