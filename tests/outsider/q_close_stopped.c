/* q_close_stopped.c: mp_queue_close ("Never blocks") while another process that puts in a loop is SIGSTOPped */
#include "common.h"
static int t_smallput_loop(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  mp_event *e = mp_call_event(c, 1);
  mp_event_set(e);
  for (;;)
    mp_queue_put(q, "x", 1, 0);
  return 0;
}
static int t_getloop(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  mp_event *e = mp_call_event(c, 1);
  mp_event_set(e);
  char b[8];
  size_t n;
  for (;;)
    mp_queue_get_into(q, b, 8, &n, 0);
  return 0;
}
static mp_queue *cq;
static volatile int closed_done;
static void *closer(void *x) {
  (void)x;
  mp_queue_close(cq);
  closed_done = 1;
  return NULL;
}
int main(int argc, char **argv) {
  g_test = "q_close_stopped";
  MP_REGISTER(t_smallput_loop);
  MP_REGISTER(t_getloop);
  MUST_OK(mp_main(argc, argv));
  watchdog(100);
  const char *tasks[2] = {"t_smallput_loop", "t_getloop"};
  for (int k = 0; k < 2; k++) {
    int hung = 0, slow = 0, reps = 20;
    for (int rep = 0; rep < reps; rep++) {
      MUST_OK(mp_queue_create(&cq, NULL));
      mp_event *e;
      MUST_OK(mp_event_create(&e));
      if (k == 1)
        for (int i = 0; i < 100000; i++)
          mp_queue_put(cq, "y", 1, 0);
      mp_object *obs[2] = {mp_queue_obj(cq), mp_event_obj(e)};
      mp_process_options po = {0};
      po.objects = obs;
      po.nobjects = 2;
      mp_process *p;
      MUST_OK(mp_process_start(&p, tasks[k], NULL, 0, &po));
      CHECK_OK(mp_event_wait(e, 20));
      sleep_s(0.003 * (rep % 7 + 1));
      kill((pid_t)mp_process_pid(p), SIGSTOP);
      sleep_s(0.01);
      closed_done = 0;
      pthread_t t;
      double t0 = now_s();
      pthread_create(&t, NULL, closer, NULL);
      while (!closed_done && now_s() - t0 < 2.0)
        sleep_s(0.001);
      double el = now_s() - t0;
      if (!closed_done)
        hung++;
      else if (el > 0.1)
        slow++;
      kill((pid_t)mp_process_pid(p), SIGCONT); /* lets the close finish */
      while (!closed_done && now_s() - t0 < 10)
        sleep_s(0.01);
      if (!closed_done) {
        failf("%s: close still blocked 8 s after the process was continued", tasks[k]);
      } else
        pthread_join(t, NULL);
      mp_process_kill(p);
      mp_process_join(p, 5);
      mp_process_free(p);
      if (closed_done)
        mp_queue_free(cq);
      mp_event_free(e);
      if (!closed_done)
        break;
    }
    if (hung || slow)
      failf(
          "%s stopped: mp_queue_close blocked > 2 s in %d of %d runs, > 0.1 s in %d more (header: close never blocks)",
          tasks[k], hung, reps, slow);
    else
      infof("%s: close ok in %d runs", tasks[k], reps);
  }
  return finish();
}
