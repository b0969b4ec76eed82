/* q_killed_putlock.c: a tight put (or get) loop SIGKILLed at a random instant never wedges the queue:
   put(0), get, qsize and close right after return at once, and FIFO of what remains holds. */
#include "common.h"
static int t_loop(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  mp_event *e = mp_call_event(c, 1);
  int k;
  mp_call_arg_read(c, &k, 4);
  mp_event_set(e);
  uint32_t i = 0;
  char b[64];
  size_t n;
  for (;;) {
    if (k == 0) {
      mp_queue_put(q, &i, 4, 0);
      i++;
    } else
      mp_queue_get_into(q, b, 64, &n, 0);
  }
  return 0;
}
int main(int argc, char **argv) {
  g_test = "q_killed_putlock";
  MP_REGISTER(t_loop);
  MUST_OK(mp_main(argc, argv));
  watchdog(100);
  for (int k = 0; k < 2; k++) {
    int bad = 0, reps = 25;
    for (int rep = 0; rep < reps; rep++) {
      mp_queue *q;
      mp_event *e;
      mp_queue_options qo = {0};
      qo.maxsize = rep % 2 ? 0 : 1000;
      MUST_OK(mp_queue_create(&q, &qo));
      MUST_OK(mp_event_create(&e));
      if (k == 1)
        for (uint32_t i = 0; i < 1000; i++)
          mp_queue_put(q, &i, 4, 0);
      mp_object *obs[2] = {mp_queue_obj(q), mp_event_obj(e)};
      mp_process_options po = {0};
      po.objects = obs;
      po.nobjects = 2;
      mp_process *p;
      MUST_OK(mp_process_start(&p, "t_loop", &k, 4, &po));
      CHECK_OK(mp_event_wait(e, 20));
      sleep_s(0.001 * (rep % 13));
      mp_process_kill(p);
      mp_process_join(p, 5);
      mp_process_free(p);
      double t0 = now_s();
      int rc = mp_queue_put(q, "END!", 4, 0);
      double el = now_s() - t0;
      if ((rc && rc != MP_EFULL) || el > 0.1) {
        bad++;
        infof("rep %d: put(0) -> %s in %.2fs", rep, mp_err_name(rc), el);
      }
      t0 = now_s();
      mp_queue_close(q);
      el = now_s() - t0;
      if (el > 0.1) {
        bad++;
        infof("rep %d: close %.2fs", rep, el);
      }
      uint32_t last = 0;
      int first = 1, cnt = 0;
      char b[8];
      size_t n;
      t0 = now_s();
      while ((rc = mp_queue_get_into(q, b, 8, &n, 1)) == MP_OK) {
        if (n == 4 && memcmp(b, "END!", 4)) {
          uint32_t v;
          memcpy(&v, b, 4);
          if (!first && v != last + 1 && k == 0) {
            bad++;
            infof("rep %d: FIFO gap %u -> %u", rep, last, v);
          }
          last = v;
          first = 0;
        }
        cnt++;
      }
      if (rc != MP_ECLOSED) {
        bad++;
        infof("rep %d: drain ended %s after %d msgs, %.2fs", rep, mp_err_name(rc), cnt, now_s() - t0);
      }
      mp_queue_free(q);
      mp_event_free(e);
    }
    if (bad)
      failf("%s killed at random: %d problems in %d runs", k ? "getter" : "putter", bad, reps);
  }
  return finish();
}
