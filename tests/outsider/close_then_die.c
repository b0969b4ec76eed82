/* close_then_die: after mp_pool_close, workers die (a cancel kills the worker
 * running the cancelled job; a task crashes; kill -9; task_timeout); queued
 * work must still complete ("queued and running work still completes") and
 * join must return. usage: close_then_die [WORKERS] [cancel|crash|kill|timeout] */
#include "common.h"
static int t_sl(mp_call *c) {
  double s;
  mp_call_arg_read(c, &s, 8);
  int64_t *slot = mp_shm_ptr(mp_call_shm(c, 0));
  slot[mp_call_worker_id(c)] = mp_getpid();
  if (s < 0)
    raise(SIGSEGV);
  sleep_s(s);
  uint32_t v = 1;
  return mp_call_return(c, &v, 4);
}
typedef struct {
  uint32_t n;
  double buf;
} ps;
static int prod(void *ud, size_t i, mp_slice *it) {
  ps *s = ud;
  if (i >= s->n)
    return 0;
  s->buf = 0.01;
  it->data = &s->buf;
  it->len = 8;
  return 1;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_sl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  int W = argc > 1 ? atoi(argv[1]) : 2;
  const char *how = argc > 2 ? argv[2] : "cancel";
  static char tn[64];
  snprintf(tn, sizeof tn, "close_then_die %s", how);
  g_test = tn;
  watchdog(60);
  mp_shm *shm;
  MUST_OK(mp_shm_create(&shm, 4096));
  int64_t *slot = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = W;
  o.objects = objs;
  o.nobjects = 1;
  if (!strcmp(how, "timeout"))
    o.task_timeout = 0.5;
  MUST_OK(mp_pool_create(&p, &o));
  mp_async *busy[16];
  for (int i = 0; i < W; i++) {
    double d = !strcmp(how, "crash") ? 0.3 : 3;
    CHECK_OK(mp_pool_apply_async(p, "t_sl", &d, 8, NULL, NULL, &busy[i]));
  }
  sleep_s(0.1);
  mp_async *q[20];
  double d = 0.01;
  for (int i = 0; i < 20; i++)
    CHECK_OK(mp_pool_apply_async(p, "t_sl", &d, 8, NULL, NULL, &q[i]));
  ps st = {15, 0};
  mp_iter *it = NULL;
  CHECK_OK(mp_pool_imap(p, "t_sl", prod, &st, NULL, &it));
  if (!strcmp(how, "crash")) {
    double c = -1;
    for (int i = 0; i < W; i++)
      CHECK_OK(mp_pool_apply_async(p, "t_sl", &c, 8, NULL, NULL, NULL));
  }
  CHECK_OK(mp_pool_close(p));
  if (!strcmp(how, "cancel"))
    for (int i = 0; i < W; i++)
      CHECK_OK(mp_async_cancel(busy[i]));
  if (!strcmp(how, "kill"))
    for (int i = 0; i < W; i++)
      kill((pid_t)slot[i], SIGKILL);
  double t0 = now_s();
  for (int i = 0; i < 20; i++) {
    int rc = mp_async_wait(q[i], 10);
    const mp_result *r = mp_async_result(q[i]);
    if (rc || !r || r->status) {
      failf("queued job %d after close + worker deaths: wait %s status %s %s", i, mp_err_name(rc),
            r ? mp_err_name(r->status) : "-", r && r->message ? r->message : "");
      break;
    }
  }
  mp_result r = {0};
  int k = 0, rc;
  while ((rc = mp_iter_next(it, 10, NULL, &r)) == MP_OK) {
    mp_result_clear(&r);
    k++;
  }
  if (rc != MP_ECLOSED || k != 15)
    failf("imap after close + worker deaths: %d of 15, then %s", k, mp_err_name(rc));
  rc = mp_pool_join(p, 10);
  if (rc)
    failf("join: %s", mp_err_name(rc));
  infof("done %.2fs after close", now_s() - t0);
  for (int i = 0; i < 20; i++)
    q[i] = mp_async_free(q[i]);
  for (int i = 0; i < W; i++)
    busy[i] = mp_async_free(busy[i]);
  it = mp_iter_free(it);
  p = mp_pool_free(p);
  shm = mp_shm_free(shm);
  return finish();
}
