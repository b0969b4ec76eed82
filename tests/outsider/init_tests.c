/* init_tests: initializers that sleep, crash, exit, fail, hang, or crash once;
 * with task_timeout and max_tasks_per_child 1. Restarts counted in mp_shm.
 * usage: init_tests MODE   (sleep|crash|exit|fail|flaky|hang|abort|sigkill|ok_mtpc) */
#include "common.h"
typedef struct {
  uint32_t init_starts, init_ends, task_starts;
} ctr;
static ctr *C;
static int MODE;
static int t_init(mp_call *c) {
  ctr *k = mp_shm_ptr(mp_call_shm(c, 0));
  uint32_t n = __atomic_fetch_add(&k->init_starts, 1, __ATOMIC_SEQ_CST);
  int mode;
  mp_call_arg_read(c, &mode, sizeof mode);
  switch (mode) {
  case 0:
    sleep_s(1.5);
    break;
  case 1:
    raise(SIGSEGV);
    break;
  case 2:
    exit(5);
  case 3:
    return mp_call_fail(c, "init says no");
  case 4:
    if (n == 1)
      raise(SIGSEGV);
    break; /* the second init crashes once */
  case 5:
    sleep_s(1000);
    break;
  case 6:
    abort();
  case 7:
    raise(SIGKILL);
    break;
  case 8:
    break;
  case 9:
    return 3;
  }
  __atomic_add_fetch(&k->init_ends, 1, __ATOMIC_SEQ_CST);
  return 0;
}
static int t_quick(mp_call *c) {
  ctr *k = mp_shm_ptr(mp_call_shm(c, 0));
  __atomic_add_fetch(&k->task_starts, 1, __ATOMIC_SEQ_CST);
  uint32_t v = 5;
  return mp_call_return(c, &v, 4);
}
static const char *NAMES[] = {"sleep", "crash", "exit",    "fail",    "flaky",
                              "hang",  "abort", "sigkill", "ok_mtpc", "fail_nomsg"};

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_init);
  MP_REGISTER(t_quick);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  MODE = 0;
  if (argc > 1)
    for (int i = 0; i < 10; i++)
      if (!strcmp(argv[1], NAMES[i]))
        MODE = i;
  static char tn[64];
  snprintf(tn, sizeof tn, "init_tests %s", NAMES[MODE]);
  g_test = tn;
  watchdog(60);
  mp_shm *shm = NULL;
  MUST_OK(mp_shm_create(&shm, 4096));
  C = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  int W = argc > 2 ? atoi(argv[2]) : 1;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = W;
  o.objects = objs;
  o.nobjects = 1;
  o.initializer = "t_init";
  o.initarg = &MODE;
  o.initarg_len = sizeof MODE;
  o.task_timeout = 1.0;
  o.max_tasks_per_child = (MODE == 0 || MODE == 4 || MODE == 8) ? 1 : 0;
  PHASE("create");
  double t0 = now_s();
  int rc = mp_pool_create(&p, &o);
  infof("create -> %s in %.2fs (%s)", mp_err_name(rc), now_s() - t0, rc ? mp_last_error() : "");
  if (rc)
    return finish();
  if (MODE == 5) {
    PHASE("hang: async + free");
    mp_async *a = NULL;
    CHECK_OK(mp_pool_apply_async(p, "t_quick", NULL, 0, NULL, NULL, &a));
    sleep_s(1);
    if (mp_async_ready(a))
      failf("task done though initializer hangs");
    t0 = now_s();
    p = mp_pool_free(p);
    infof("free with hanging initializer: %.2fs", now_s() - t0);
    if (now_s() - t0 > 3)
      failf("free took %.2fs", now_s() - t0);
    rc = mp_async_wait(a, 1);
    const mp_result *r = mp_async_result(a);
    if (rc || !r || r->status != MP_ECANCELLED)
      failf("job after free: %s %s", mp_err_name(rc), r ? mp_err_name(r->status) : "NULL");
    a = mp_async_free(a);
    int z;
    int ch = count_children(&z);
    if (ch || z)
      failf("after free: %d children %d zombies", ch, z);
    return finish();
  }
  PHASE("tasks");
  int n = 6;
  int bad = 0;
  for (int i = 0; i < n; i++) {
    mp_result r = {0};
    t0 = now_s();
    rc = mp_pool_apply(p, "t_quick", NULL, 0, &r);
    double dt = now_s() - t0;
    if (i == 0 || i == n - 1)
      infof("apply %d: rc %s status %s in %.2fs msg \"%s\"", i, mp_err_name(rc), mp_err_name(r.status), dt,
            r.message ? r.message : "");
    int want_ok = (MODE == 0 || MODE == 4 || MODE == 8);
    if (want_ok) {
      if (rc || r.status != MP_OK) {
        bad++;
        if (bad < 4)
          failf("apply %d: %s %s: %s", i, mp_err_name(rc), mp_err_name(r.status), r.message ? r.message : "");
      }
    } else if (MODE != 5) {
      if (r.status != MP_ETASK)
        failf("apply %d with broken initializer: status %s (want MP_ETASK): %s", i, mp_err_name(r.status),
              r.message ? r.message : "");
      else if (!r.message || !strstr(r.message, "t_init"))
        failf("apply %d: message does not name the initializer: \"%s\"", i, r.message ? r.message : "");
      else {
        const char *how = MODE == 1   ? "11"
                          : MODE == 2 ? "5"
                          : MODE == 3 ? "init says no"
                          : MODE == 9 ? "3"
                          : MODE == 6 ? "6"
                          : MODE == 7 ? "9"
                                      : "";
        if (!strstr(r.message, how))
          failf("apply %d: message does not say how the initializer ended (%s): \"%s\"", i, how, r.message);
      }
      if (i > 0 && dt > 0.5)
        failf("apply %d on a broken pool took %.2fs (\"fail at once\")", i, dt);
    }
    mp_result_clear(&r);
  }
  if (MODE == 5)
    infof("hang: init_starts %u init_ends %u task_starts %u", C->init_starts, C->init_ends, C->task_starts);
  sleep_s(1.0);
  uint32_t s1 = C->init_starts;
  sleep_s(1.0);
  uint32_t s2 = C->init_starts;
  infof("init starts %u (then %u one second later), ends %u, task starts %u", s1, s2, C->init_ends, C->task_starts);
  if (MODE != 0 && MODE != 4 && MODE != 8 && MODE != 5) {
    if (s2 > (uint32_t)(3 * W + W))
      failf("initializer restarted %u times (want bounded: 3 deaths in a row break the pool)", s2);
    if (C->task_starts)
      failf("a task ran on a pool whose initializer never succeeded");
  }
  if (s2 != s1 && MODE != 0 && MODE != 8 && MODE != 4)
    failf("initializer still being restarted (%u -> %u)", s1, s2);
  /* map on the pool */
  PHASE("map");
  uint32_t in[10] = {0}, out[10];
  mp_result res[10];
  memset(res, 0, sizeof res);
  mp_map_options mo = {0};
  mo.results = res;
  mo.chunksize = 1;
  t0 = now_s();
  rc = mp_pool_map(p, "t_quick", in, 4, 10, out, 4, &mo);
  infof("map -> %s in %.2fs: %s", mp_err_name(rc), now_s() - t0, rc ? mp_last_error() : "");
  for (int i = 0; i < 10; i++)
    mp_result_clear(&res[i]);
  PHASE("close/join");
  CHECK_OK(mp_pool_close(p));
  rc = mp_pool_join(p, 5);
  if (rc != MP_OK)
    failf("join after close: %s", mp_err_name(rc));
  PHASE("free");
  t0 = now_s();
  p = mp_pool_free(p);
  if (now_s() - t0 > 3)
    failf("free took %.2fs", now_s() - t0);
  int z;
  int ch = count_children(&z);
  if (ch || z)
    failf("after free: %d children %d zombies", ch, z);
  shm = mp_shm_free(shm);
  return finish();
}
