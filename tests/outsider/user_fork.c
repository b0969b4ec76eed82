/* user_fork: the program fork()s (child lives on, holding every inherited
 * descriptor), posix_spawn()s and system()s while a pool runs; close + join
 * and free must not block, workers must be gone, results fine. Also worker
 * crash detection while such a child lives. */
#include "common.h"
#include <spawn.h>
extern char **environ;
static int t_crash_later(mp_call *c) {
  double s;
  mp_call_arg_read(c, &s, 8);
  sleep_s(s);
  raise(SIGSEGV);
  return 0;
}
static int t_wid(mp_call *c) {
  int64_t v = mp_getpid();
  sleep_s(0.05);
  return mp_call_return(c, &v, 8);
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_crash_later);
  MP_REGISTER(t_wid);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "user_fork";
  watchdog(60);
  for (int variant = 0; variant < 3; variant++) {
    mp_pool *p = NULL;
    mp_pool_options o = {0};
    o.workers = 2;
    MUST_OK(mp_pool_create(&p, &o));
    int64_t pids[4];
    mp_map_options mo = {0};
    mo.chunksize = 1;
    CHECK_OK(mp_pool_map(p, "t_wid", pids, 1, 4, pids, 8, &mo));
    pid_t kid = -1;
    if (variant == 0) {
      kid = fork();
      if (kid == 0) {
        sleep_s(6);
        _exit(0);
      }
    } else if (variant == 1) {
      char *av[] = {"sleep", "6", NULL};
      if (posix_spawnp(&kid, "sleep", NULL, NULL, av, environ))
        failf("posix_spawn");
    } else {
      if (system("true") != 0)
        infof("system() nonzero");
    }
    /* a worker dies while the kid lives: noticed promptly? */
    PHASE("crash with kid");
    double s = 0.1;
    mp_result r = {0};
    double t0 = now_s();
    CHECK_OK(mp_pool_apply(p, "t_crash_later", &s, 8, &r));
    if (r.status != MP_ECRASHED)
      failf("variant %d: crash read %s", variant, mp_err_name(r.status));
    if (now_s() - t0 > 1.0)
      failf("variant %d: crash noticed after %.2fs", variant, now_s() - t0);
    mp_result_clear(&r);
    CHECK_OK(mp_pool_apply(p, "t_pid", NULL, 0, &r));
    if (r.status)
      failf("variant %d: after crash %s", variant, mp_err_name(r.status));
    mp_result_clear(&r);
    PHASE("close/join with kid");
    CHECK_OK(mp_pool_close(p));
    t0 = now_s();
    int rc = mp_pool_join(p, 4);
    if (rc)
      failf("variant %d: join with a user child alive: %s after %.2fs", variant, mp_err_name(rc), now_s() - t0);
    for (int i = 0; i < 4; i++)
      if (pid_alive(pids[i])) {
        failf("variant %d: worker %lld alive after join", variant, (long long)pids[i]);
        break;
      }
    p = mp_pool_free(p);
    if (kid > 0) {
      kill(kid, SIGKILL);
      waitpid(kid, NULL, 0);
    }
    int z;
    int ch = count_children(&z);
    if (ch || z)
      failf("variant %d: %d children %d zombies left", variant, ch, z);
  }
  return finish();
}
