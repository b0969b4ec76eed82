/* process_threads: several threads call join / is_alive / result / exitcode /
 * kill / terminate on the same mp_process at once; huge results; a child that
 * never ends; is_alive turning 0 with a large result pending; exit codes.
 * Build with -fsanitize=address too. */
#include "common.h"
static int t_big(mp_call *c) {
  uint64_t n;
  mp_call_arg_read(c, &n, 8);
  unsigned char *b = malloc(n ? n : 1);
  fill_pat(b, n, 3);
  int rc = mp_call_return(c, b, n);
  free(b);
  return rc;
}
static int t_forever(mp_call *c) {
  (void)c;
  for (;;)
    sleep_s(1);
  return 0;
}
static int t_none(mp_call *c) {
  (void)c;
  return 0;
}
static int t_fail(mp_call *c) {
  return mp_call_fail(c, "nope %d", 5);
}
static int t_ret9(mp_call *c) {
  (void)c;
  return 9;
}
static int t_sigterm_self(mp_call *c) {
  (void)c;
  raise(SIGTERM);
  sleep_s(5);
  return 0;
}
static int t_closefds(mp_call *c) {
  (void)c;
  for (int fd = 0; fd < 1024; fd++)
    close(fd);
  uint32_t v = 77;
  return mp_call_return(c, &v, 4);
}

static mp_process *P;
static uint64_t WANT;
static volatile int go;
static int joined_ok, result_ok;
static void *th(void *x) {
  int me = (int)(intptr_t)x;
  while (!go) {
  }
  for (int k = 0; k < 200; k++) {
    switch ((me + k) % 4) {
    case 0: {
      int rc = mp_process_join(P, 0.01);
      if (rc == MP_OK)
        __atomic_add_fetch(&joined_ok, 1, __ATOMIC_SEQ_CST);
      else if (rc != MP_ETIMEDOUT)
        failf("join: %s", mp_err_name(rc));
      break;
    }
    case 1:
      mp_process_is_alive(P);
      break;
    case 2: {
      mp_result r = {0};
      int rc = mp_process_result(P, &r);
      if (rc == MP_OK) {
        __atomic_add_fetch(&result_ok, 1, __ATOMIC_SEQ_CST);
        if (WANT != (uint64_t)-1 && (r.status != MP_OK || r.len != WANT || check_pat(r.data, r.len, 3) != (size_t)-1))
          failf("result from thread %d: status %s len %zu (want %llu)%s", me, mp_err_name(r.status), r.len,
                (unsigned long long)WANT, r.status == MP_OK && r.len == WANT ? " wrong bytes" : "");
      } else if (rc != MP_ESTATE)
        failf("result: %s", mp_err_name(rc));
      mp_result_clear(&r);
      break;
    }
    case 3: {
      int code;
      int rc = mp_process_exitcode(P, &code);
      if (rc != MP_OK && rc != MP_ESTATE)
        failf("exitcode: %s", mp_err_name(rc));
      break;
    }
    }
  }
  int rc = mp_process_join(P, 20);
  if (rc != MP_OK)
    failf("final join thread %d: %s", me, mp_err_name(rc));
  return NULL;
}
static void run_threads(int nt) {
  pthread_t t[8];
  go = 0;
  for (int i = 0; i < nt; i++)
    pthread_create(&t[i], NULL, th, (void *)(intptr_t)i);
  go = 1;
  for (int i = 0; i < nt; i++)
    pthread_join(t[i], NULL);
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_big);
  MP_REGISTER(t_forever);
  MP_REGISTER(t_none);
  MP_REGISTER(t_fail);
  MP_REGISTER(t_ret9);
  MP_REGISTER(t_sigterm_self);
  MP_REGISTER(t_closefds);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "process_threads";
  watchdog(120);
  int fd0 = count_fds();
  /* 1: 8 threads on one process with results of many sizes */
  static const uint64_t SZ[] = {0, 1, 4096, 65536, 65537, 1u << 20, 16u << 20, 64u << 20};
  for (size_t i = 0; i < sizeof SZ / sizeof SZ[0]; i++) {
    char ph[64];
    snprintf(ph, sizeof ph, "threads size %llu", (unsigned long long)SZ[i]);
    PHASE(ph);
    WANT = SZ[i];
    MUST_OK(mp_process_start(&P, "t_big", &WANT, 8, NULL));
    run_threads(8);
    mp_result r = {0};
    CHECK_OK(mp_process_result(P, &r));
    if (r.status != MP_OK || r.len != WANT || check_pat(r.data, r.len, 3) != (size_t)-1)
      failf("size %llu: final result status %s len %zu", (unsigned long long)WANT, mp_err_name(r.status), r.len);
    if (WANT == 0 && r.data)
      infof("0-byte result: data non-NULL");
    mp_result_clear(&r);
    int code = -100;
    CHECK_OK(mp_process_exitcode(P, &code));
    if (code != 0)
      failf("size %llu: exit code %d", (unsigned long long)WANT, code);
    P = mp_process_free(P);
  }
  /* 2: is_alive turns 0 when a child with a 64 MiB result ends, without join */
  PHASE("is_alive big");
  WANT = 64u << 20;
  MUST_OK(mp_process_start(&P, "t_big", &WANT, 8, NULL));
  double t0 = now_s();
  while (mp_process_is_alive(P) && now_s() - t0 < 10)
    sleep_s(0.01);
  if (mp_process_is_alive(P))
    failf("is_alive still 1 after 10 s for a child with a 64 MiB result");
  else
    infof("is_alive -> 0 after %.2fs", now_s() - t0);
  {
    mp_result r = {0};
    int rc = mp_process_result(P, &r);
    if (rc != MP_OK)
      failf("result after is_alive 0 (no join): %s", mp_err_name(rc));
    else if (r.status != MP_OK || r.len != WANT)
      failf("result after is_alive 0: %s len %zu", mp_err_name(r.status), r.len);
    mp_result_clear(&r);
  }
  CHECK_OK(mp_process_join(P, 5));
  P = mp_process_free(P);
  /* 3: a child that never ends: threads join with timeouts, one kills it */
  PHASE("forever + kill");
  WANT = (uint64_t)-1;
  MUST_OK(mp_process_start(&P, "t_forever", NULL, 0, NULL));
  {
    pthread_t t[6];
    go = 0;
    for (int i = 0; i < 6; i++)
      pthread_create(&t[i], NULL, th, (void *)(intptr_t)i);
    go = 1;
    sleep_s(0.5);
    CHECK_OK(mp_process_kill(P));
    CHECK_OK(mp_process_kill(P));
    CHECK_OK(mp_process_terminate(P));
    for (int i = 0; i < 6; i++)
      pthread_join(t[i], NULL);
  }
  {
    int code = 0;
    CHECK_OK(mp_process_exitcode(P, &code));
    if (code != -9)
      failf("killed child exit code %d want -9", code);
    mp_result r = {0};
    CHECK_OK(mp_process_result(P, &r));
    if (r.status != MP_ECRASHED || !r.message)
      failf("killed child: status %s", mp_err_name(r.status));
    else
      infof("killed: %s", r.message);
    mp_result_clear(&r);
    CHECK_OK(mp_process_kill(P));
  }
  P = mp_process_free(P);
  /* 4: free a running child: killed and reaped */
  PHASE("free running");
  MUST_OK(mp_process_start(&P, "t_forever", NULL, 0, NULL));
  int64_t pid = mp_process_pid(P);
  t0 = now_s();
  P = mp_process_free(P);
  if (now_s() - t0 > 2)
    failf("free running took %.2fs", now_s() - t0);
  if (pid_alive(pid))
    failf("freed process %lld still alive", (long long)pid);
  /* 5: outcomes */
  PHASE("outcomes");
  struct {
    const char *task;
    int st;
    int code;
  } cases[] = {{"t_none", MP_OK, 0},
               {"t_fail", MP_ETASK, 1},
               {"t_ret9", MP_ETASK, 1},
               {"t_segv", MP_ECRASHED, -11},
               {"t_abort", MP_ECRASHED, -6},
               {"t_exit", MP_ECRASHED, 7},
               {"t_sigterm_self", MP_ECRASHED, -15},
               {"t_closefds", MP_OK, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    MUST_OK(mp_process_start(&P, cases[i].task, NULL, 0, NULL));
    int rc = mp_process_join(P, 10);
    if (rc)
      failf("%s: join %s", cases[i].task, mp_err_name(rc));
    mp_result r = {0};
    CHECK_OK(mp_process_result(P, &r));
    int code = -1000;
    CHECK_OK(mp_process_exitcode(P, &code));
    if (r.status != cases[i].st || code != cases[i].code)
      failf("%s: status %s code %d (want %s %d) msg %s", cases[i].task, mp_err_name(r.status), code,
            mp_err_name(cases[i].st), cases[i].code, r.message ? r.message : "");
    if (!strcmp(cases[i].task, "t_none") && (r.data || r.len))
      failf("t_none: data %p len %zu (header: NULL if the task gave none)", r.data, r.len);
    if (!strcmp(cases[i].task, "t_ret9") && r.task_code != 9)
      failf("t_ret9: task_code %d", r.task_code);
    if (!strcmp(cases[i].task, "t_fail") && (!r.message || strcmp(r.message, "nope 5")))
      failf("t_fail message: %s", r.message ? r.message : "NULL");
    if (!strcmp(cases[i].task, "t_closefds") && (r.len != 4 || *(uint32_t *)r.data != 77))
      failf("t_closefds: result lost (len %zu)", r.len);
    mp_result_clear(&r);
    P = mp_process_free(P);
  }
  /* result before join on a running child: ESTATE */
  MUST_OK(mp_process_start(&P, "t_forever", NULL, 0, NULL));
  {
    mp_result r = {0};
    int rc = mp_process_result(P, &r);
    if (rc != MP_ESTATE)
      failf("result on running child: %s", mp_err_name(rc));
    int code;
    rc = mp_process_exitcode(P, &code);
    if (rc != MP_ESTATE)
      failf("exitcode on running child: %s", mp_err_name(rc));
    rc = mp_process_join(P, 0);
    if (rc != MP_ETIMEDOUT)
      failf("join 0 on running: %s", mp_err_name(rc));
  }
  P = mp_process_free(P);
  sleep_s(0.1);
  int z;
  int ch = count_children(&z);
  if (ch || z)
    failf("leftover: %d children %d zombies", ch, z);
  int fd1 = count_fds();
  if (fd1 != fd0)
    failf("descriptors: %d before, %d after", fd0, fd1);
  return finish();
}
