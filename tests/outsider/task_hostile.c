/* task_hostile: pool tasks that close all their descriptors, fork children of
 * their own (which keep the worker's descriptors) and then crash / time out /
 * return, raise SIGTERM, exit(0), sleep forever, nest a pool, print a lot.
 * usage: task_hostile [WORKERS] */
#include "common.h"
#include <sys/prctl.h>
static int t_closefds(mp_call *c) {
  (void)c;
  for (int fd = 0; fd < 4096; fd++)
    close(fd);
  uint32_t v = 77;
  return mp_call_return(c, &v, 4);
}
static int64_t *KIDS; /* in shm: pids of the tasks' own children, killed at the end */
static void note_kid(mp_call *c, pid_t k) {
  int64_t *ks = mp_shm_ptr(mp_call_shm(c, 0));
  for (int i = 0; i < 64; i++) {
    int64_t z = 0;
    if (__atomic_compare_exchange_n(&ks[i], &z, (int64_t)k, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      break;
  }
}
static void kid_(mp_call *c, double s) {
  pid_t k = fork();
  if (k == 0) {
    prctl(PR_SET_NAME, "userkid");
    sleep_s(s);
    _exit(0);
  }
  note_kid(c, k);
}
#define kid(s) kid_(c, s)
static int t_fork_crash(mp_call *c) {
  kid(8);
  raise(SIGSEGV);
  return 0;
}
static int t_fork_ret(mp_call *c) {
  kid(8);
  uint32_t v = 78;
  return mp_call_return(c, &v, 4);
}
static int t_fork_hang(mp_call *c) {
  kid(8);
  sleep_s(100);
  return 0;
}
static int t_fork_exec(mp_call *c) {
  (void)c;
  pid_t k = fork();
  if (k == 0) {
    execlp("sleep", "sleep", "8", (char *)NULL);
    _exit(127);
  }
  note_kid(c, k);
  uint32_t v = 79;
  return mp_call_return(c, &v, 4);
}
static int t_exit0(mp_call *c) {
  (void)c;
  exit(0);
}
static int t_sigterm(mp_call *c) {
  (void)c;
  raise(SIGTERM);
  return 0;
}
static int t_ignterm_hang(mp_call *c) {
  (void)c;
  signal(SIGTERM, SIG_IGN);
  sleep_s(100);
  return 0;
}
static int t_nested(mp_call *c) {
  mp_pool *p = NULL;
  int rc = mp_pool_create(&p, NULL);
  int32_t v = rc;
  if (p) {
    mp_result r = {0};
    rc = mp_pool_apply(p, "t_pid", NULL, 0, &r);
    v = rc ? rc : r.status;
    mp_result_clear(&r);
    mp_pool_free(p);
  }
  return mp_call_return(c, &v, 4);
}
static int t_mpmain(mp_call *c) {
  char *av[] = {"x", NULL};
  int32_t v = mp_main(1, av);
  return mp_call_return(c, &v, 4);
}
static int t_chatty(mp_call *c) {
  (void)c;
  for (int i = 0; i < 20000; i++)
    fprintf(stderr, "chatty line %d of a task writing a lot to stderr\n", i);
  return 0;
}

static int run1(mp_pool *p, const char *task, double limit, int want, uint32_t wantv, mp_result *keep) {
  mp_async *a = NULL;
  double t0 = now_s();
  int rc = mp_pool_apply_async(p, task, NULL, 0, NULL, NULL, &a);
  if (rc) {
    failf("%s: submit %s", task, mp_err_name(rc));
    return -1;
  }
  rc = mp_async_wait(a, limit);
  double dt = now_s() - t0;
  if (rc) {
    failf("%s: not done after %.1fs", task, limit);
    a = mp_async_free(a);
    return -1;
  }
  const mp_result *r = mp_async_result(a);
  if (r->status != want)
    failf("%s: status %s want %s (%s) after %.2fs", task, mp_err_name(r->status), mp_err_name(want),
          r->message ? r->message : "", dt);
  else if (want == MP_OK && wantv && (r->len != 4 || *(uint32_t *)r->data != wantv))
    failf("%s: wrong result", task);
  else
    infof("%s: %s in %.2fs %s", task, mp_err_name(r->status), dt, r->message ? r->message : "");
  if (keep) {
    keep->status = r->status;
  }
  a = mp_async_free(a);
  return 0;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_closefds);
  MP_REGISTER(t_fork_crash);
  MP_REGISTER(t_fork_ret);
  MP_REGISTER(t_fork_hang);
  MP_REGISTER(t_fork_exec);
  MP_REGISTER(t_exit0);
  MP_REGISTER(t_sigterm);
  MP_REGISTER(t_ignterm_hang);
  MP_REGISTER(t_nested);
  MP_REGISTER(t_mpmain);
  MP_REGISTER(t_chatty);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "task_hostile";
  watchdog(120);
  mp_shm *shm = NULL;
  MUST_OK(mp_shm_create(&shm, 4096));
  KIDS = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = argc > 1 ? atoi(argv[1]) : 1;
  o.task_timeout = 2.0;
  o.objects = objs;
  o.nobjects = 1;
  MUST_OK(mp_pool_create(&p, &o));
  PHASE("closefds");
  run1(p, "t_closefds", 5, MP_OK, 77, NULL);
  PHASE("after closefds");
  run1(p, "t_pid", 5, MP_OK, 0, NULL);
  PHASE("fork_crash");
  run1(p, "t_fork_crash", 5, MP_ECRASHED, 0, NULL);
  PHASE("fork_ret");
  run1(p, "t_fork_ret", 5, MP_OK, 78, NULL);
  PHASE("fork_hang");
  run1(p, "t_fork_hang", 5, MP_ETIMEDOUT, 0, NULL);
  PHASE("fork_exec");
  run1(p, "t_fork_exec", 5, MP_OK, 79, NULL);
  PHASE("exit0");
  run1(p, "t_exit0", 5, MP_ECRASHED, 0, NULL);
  PHASE("sigterm");
  run1(p, "t_sigterm", 5, MP_ECRASHED, 0, NULL);
  PHASE("ignterm_hang");
  run1(p, "t_ignterm_hang", 5, MP_ETIMEDOUT, 0, NULL);
  PHASE("nested");
  {
    mp_result r = {0};
    int rc = mp_pool_apply(p, "t_nested", NULL, 0, &r);
    int32_t v = r.len == 4 ? *(int32_t *)r.data : 12345;
    infof("nested pool in a task: rc %s status %s value %s", mp_err_name(rc), mp_err_name(r.status), mp_err_name(v));
    mp_result_clear(&r);
  }
  PHASE("mpmain");
  {
    mp_result r = {0};
    int rc = mp_pool_apply(p, "t_mpmain", NULL, 0, &r);
    int32_t v = r.len == 4 ? *(int32_t *)r.data : 12345;
    if (v != MP_EBOOTSTRAP)
      failf("mp_main inside a task: %s (want MP_EBOOTSTRAP)", mp_err_name(v));
    mp_result_clear(&r);
    (void)rc;
  }
  PHASE("chatty");
  run1(p, "t_chatty", 10, MP_OK, 0, NULL);
  PHASE("final");
  run1(p, "t_pid", 5, MP_OK, 0, NULL);
  PHASE("close/join");
  double t0 = now_s();
  CHECK_OK(mp_pool_close(p));
  int rc = mp_pool_join(p, 5);
  if (rc)
    failf("join with task grandchildren alive: %s after %.2fs", mp_err_name(rc), now_s() - t0);
  t0 = now_s();
  p = mp_pool_free(p);
  if (now_s() - t0 > 3)
    failf("free took %.2fs", now_s() - t0);
  for (int i = 0; i < 64; i++)
    if (KIDS[i] > 0)
      kill((pid_t)KIDS[i], SIGKILL);
  shm = mp_shm_free(shm);
  return finish();
}
