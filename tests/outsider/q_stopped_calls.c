/* q_stopped_calls.c: with another process SIGSTOPped at a random instant inside a put or get loop,
   every queue call keeps its word: never-blocking ones return at once, timed ones within timeout+0.5 s. */
#include "common.h"
static int t_loop(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  mp_event *e = mp_call_event(c, 1);
  int kind;
  mp_call_arg_read(c, &kind, 4);
  mp_event_set(e);
  char b[64];
  size_t n;
  for (;;) {
    if (kind == 0)
      mp_queue_put(q, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1 + (rand() % 30), 0);
    else if (kind == 1) {
      if (mp_queue_get_into(q, b, 64, &n, 0) == MP_OK)
        mp_queue_task_done(q);
    } else {
      mp_queue_put(q, "y", 1, 0);
      if (mp_queue_get_into(q, b, 64, &n, 0) == MP_OK)
        mp_queue_task_done(q);
    }
  }
  return 0;
}
static mp_queue *q;
static volatile int done;
static int op, res;
static const char *opn[] = {"put(0)", "put(0.3)",  "get(0)",    "get(0.3)", "get_into(0.3)",
                            "qsize",  "task_done", "join(0.3)", "close"};
static double lim[] = {0.1, 0.8, 0.1, 0.8, 0.8, 0.1, 0.1, 0.8, 0.1};
static void *runop(void *x) {
  (void)x;
  void *d;
  size_t n;
  char b[64];
  switch (op) {
  case 0:
    res = mp_queue_put(q, "z", 1, 0);
    break;
  case 1:
    res = mp_queue_put(q, "z", 1, 0.3);
    break;
  case 2:
    res = mp_queue_get(q, &d, &n, 0);
    if (!res)
      mp_free(d);
    break;
  case 3:
    res = mp_queue_get(q, &d, &n, 0.3);
    if (!res)
      mp_free(d);
    break;
  case 4:
    res = mp_queue_get_into(q, b, 64, &n, 0.3);
    break;
  case 5:
    res = mp_queue_qsize(q, &n);
    break;
  case 6:
    res = mp_queue_task_done(q);
    break;
  case 7:
    res = mp_queue_join(q, 0.3);
    break;
  case 8:
    res = mp_queue_close(q);
    break;
  }
  done = 1;
  return NULL;
}
int main(int argc, char **argv) {
  g_test = "q_stopped_calls";
  MP_REGISTER(t_loop);
  MUST_OK(mp_main(argc, argv));
  watchdog(110);
  const char *kn[] = {"putter", "getter", "put+getter"};
  int reps = argc > 1 ? atoi(argv[1]) : 6;
  for (int kind = 0; kind < 3; kind++) {
    int slow[9] = {0}, stuck[9] = {0};
    double worst[9] = {0};
    for (int rep = 0; rep < reps; rep++)
      for (op = 0; op < 9; op++) {
        mp_queue_options qo = {0};
        qo.joinable = 1;
        qo.maxsize = rep % 2 ? 0 : 100000;
        MUST_OK(mp_queue_create(&q, &qo));
        mp_event *e;
        MUST_OK(mp_event_create(&e));
        for (int i = 0; i < 1000; i++)
          mp_queue_put(q, "p", 1, 0);
        mp_object *obs[2] = {mp_queue_obj(q), mp_event_obj(e)};
        mp_process_options po = {0};
        po.objects = obs;
        po.nobjects = 2;
        mp_process *p;
        MUST_OK(mp_process_start(&p, "t_loop", &kind, 4, &po));
        CHECK_OK(mp_event_wait(e, 20));
        sleep_s(0.001 * ((rep * 9 + op) % 30) + 0.001);
        kill((pid_t)mp_process_pid(p), SIGSTOP);
        sleep_s(0.005);
        done = 0;
        pthread_t t;
        double t0 = now_s();
        pthread_create(&t, NULL, runop, NULL);
        while (!done && now_s() - t0 < 2.0)
          sleep_s(0.0005);
        double el = now_s() - t0;
        if (el > worst[op])
          worst[op] = el;
        if (!done)
          stuck[op]++;
        else if (el > lim[op])
          slow[op]++;
        kill((pid_t)mp_process_pid(p), SIGKILL); /* lets go? a killed holder must not wedge */
        double t1 = now_s();
        while (!done && now_s() - t1 < 5)
          sleep_s(0.001);
        if (!done) {
          failf("%s %s: still blocked 5 s after the stopped process was KILLED (queue wedged)", kn[kind], opn[op]);
          return finish();
        }
        pthread_join(t, NULL);
        mp_process_join(p, 5);
        mp_process_free(p);
        mp_queue_free(q);
        mp_event_free(e);
      }
    for (op = 0; op < 9; op++)
      if (stuck[op] || slow[op])
        failf("stopped %s: %s blocked >2 s in %d of %d runs, over its limit (%.1fs) in %d more; worst %.2fs", kn[kind],
              opn[op], stuck[op], reps, lim[op], slow[op], worst[op]);
  }
  return finish();
}
