/* api_edges.c: mp_main misuse (wrong argv with spawn must not start processes without end), predicates, error texts */
#include "common.h"
static int t_nop(mp_call *c) {
  (void)c;
  return 0;
}
int main(int argc, char **argv) {
  g_test = "api_edges";
  MP_REGISTER(t_nop);
  /* Set for the misbooted run only, and named after the run that starts
   * it: the fork and spawn runs of this suite may go at once. */
  const char *log = getenv("ATTACK_LOG");
  char *fake[] = {argv[0], NULL};
  int wrong = argc > 1 && !strcmp(argv[1], "wrong");
  int rc = wrong || getenv("ATTACK_WRONG") ? mp_main(1, fake) : mp_main(argc, argv);
  FILE *f = log ? fopen(log, "a") : NULL;
  if (f) {
    fprintf(f, "%d %d\n", (int)getpid(), rc);
    fclose(f);
  }
  if (getenv("ATTACK_WRONG")) { /* as the naive user program: go on regardless */
    mp_process *p;
    int r2 = mp_process_start(&p, "t_nop", NULL, 0, NULL);
    if (r2 == MP_OK) {
      mp_process_join(p, 5);
      mp_process_free(p);
    }
    mp_queue *q;
    int r3 = mp_queue_create(&q, NULL);
    if (!r3)
      mp_queue_free(q);
    f = log ? fopen(log, "a") : NULL;
    if (f) {
      fprintf(f, "%d after: start %s queue %s\n", (int)getpid(), mp_err_name(r2), mp_err_name(r3));
      fclose(f);
    }
    if (rc != MP_OK)
      return 0;
    sleep_s(3);
    return 0;
  }
  if (rc) {
    printf("mp_main -> %s\n", mp_err_name(rc));
    return 1;
  }
  watchdog(60);
  PHASE("twice");
  rc = mp_main(argc, argv);
  if (rc != MP_EBOOTSTRAP)
    failf("mp_main twice -> %s", mp_err_name(rc));
  PHASE("predicates");
  if (mp_process_is_alive(NULL) != 0)
    failf("is_alive(NULL)");
  if (mp_async_ready(NULL) != 0)
    failf("async_ready(NULL)");
  if (mp_event_is_set(NULL) != 0)
    failf("event_is_set(NULL)");
  if (mp_conn_poll(NULL, 0) != 1)
    failf("conn_poll(NULL)");
  if (mp_is_worker() != 0)
    failf("is_worker in parent");
  PHASE("texts");
  {
    mp_queue *q;
    MUST_OK(mp_queue_create(&q, NULL));
    void *d;
    size_t n;
    rc = mp_queue_get(q, &d, &n, 0.01);
    if (strncmp(mp_last_error(), "mp_queue_get:", 13))
      failf("get timeout text: '%s'", mp_last_error());
    rc = mp_queue_get_into(q, NULL, 0, &n, 0);
    if (strncmp(mp_last_error(), "mp_queue_get_into:", 18))
      failf("get_into text: '%s'", mp_last_error());
    mp_queue_free(q);
    mp_pool *p;
    mp_pool_options po = {0};
    po.workers = 1;
    MUST_OK(mp_pool_create(&p, &po));
    mp_pool_close(p);
    mp_result r = {0};
    rc = mp_pool_apply(p, "t_nop", NULL, 0, &r);
    if (rc != MP_ESTATE || strncmp(mp_last_error(), "mp_pool_apply:", 14))
      failf("apply closed: %s '%s'", mp_err_name(rc), mp_last_error());
    mp_pool_join(p, 10);
    mp_pool_free(p);
    mp_lock *l;
    MUST_OK(mp_lock_create(&l, 0));
    rc = mp_lock_release(l);
    if (strncmp(mp_last_error(), "mp_lock_release:", 16))
      failf("release text: '%s'", mp_last_error());
    mp_lock_free(l);
    mp_condition *c;
    MUST_OK(mp_condition_create(&c, NULL));
    rc = mp_condition_notify(c, 1);
    if (strncmp(mp_last_error(), "mp_condition_notify:", 20))
      failf("notify text: '%s'", mp_last_error());
    rc = mp_condition_wait(c, 0);
    if (strncmp(mp_last_error(), "mp_condition_wait:", 18))
      failf("cond wait text: '%s'", mp_last_error());
    mp_condition_free(c);
    mp_barrier *b;
    MUST_OK(mp_barrier_create(&b, 2));
    rc = mp_barrier_wait(b, 0);
    if (strncmp(mp_last_error(), "mp_barrier_wait:", 16))
      failf("barrier text: '%s'", mp_last_error());
    rc = mp_barrier_wait_index(b, 0, NULL);
    if (strncmp(mp_last_error(), "mp_barrier_wait_index:", 22))
      failf("barrier_wait_index text: '%s'", mp_last_error());
    mp_barrier_free(b);
    mp_conn *a, *bb;
    MUST_OK(mp_pipe(&a, &bb, 0));
    rc = mp_conn_recv(a, &d, &n, 0);
    if (strncmp(mp_last_error(), "mp_conn_recv:", 13))
      failf("recv text: '%s'", mp_last_error());
    rc = mp_conn_send(a, "x", 1);
    if (strncmp(mp_last_error(), "mp_conn_send:", 13))
      failf("send text: '%s'", mp_last_error());
    mp_conn_free(a);
    mp_conn_free(bb);
    mp_semaphore *s;
    MUST_OK(mp_semaphore_create(&s, 1, 1));
    rc = mp_semaphore_release(s);
    if (strncmp(mp_last_error(), "mp_semaphore_release:", 21))
      failf("sem text: '%s'", mp_last_error());
    mp_semaphore_free(s);
    mp_shm *sh;
    rc = mp_shm_create(&sh, 0);
    if (strncmp(mp_last_error(), "mp_shm_create:", 14))
      failf("shm text: '%s'", mp_last_error());
  }
#ifndef _WIN32
  PHASE("wrong argv, spawn");
  {
    char named[100];
    snprintf(named, sizeof named, "/tmp/attack11_api_edges.%d.log", (int)getpid());
    log = named;
    remove(log);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "MPROC_START_METHOD=spawn ATTACK_WRONG=1 ATTACK_LOG=%s timeout 8 %s >/dev/null 2>&1", log,
             argv[0]);
    int st = system(cmd);
    (void)st;
    sleep_s(1);
    f = fopen(log, "r");
    int lines = 0;
    char buf[200];
    if (f) {
      while (fgets(buf, sizeof buf, f)) {
        lines++;
        if (lines < 6)
          infof("log: %s", strtok(buf, "\n"));
      }
      fclose(f);
    }
    if (lines > 4)
      failf("wrong argv with spawn: %d mp_main/after lines: processes kept starting", lines);
    f = fopen(log, "r");
    int child_ok = 0;
    if (f) {
      while (fgets(buf, sizeof buf, f))
        if (strstr(buf, "after: start MP_EBOOTSTRAP queue MP_EBOOTSTRAP"))
          child_ok++;
      fclose(f);
    }
    if (!child_ok)
      failf("the misbooted child could still create processes or queues");
    remove(log);
  }
#endif
  return finish();
}
