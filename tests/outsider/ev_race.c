/* ev_race.c: Event: set immediately followed by clear must wake every waiter (thread or process) with MP_OK */
#include "common.h"
static mp_event *ge;
static volatile int arrived;
static void *thr_ewait(void *x) {
  int *rc = x;
  __sync_fetch_and_add(&arrived, 1);
  *rc = mp_event_wait(ge, 4);
  return NULL;
}
static int t_ewait(mp_call *c) {
  mp_event *e = mp_call_event(c, 0);
  mp_semaphore *s = mp_call_semaphore(c, 1);
  mp_semaphore_release(s);
  int rc = mp_event_wait(e, 4);
  return mp_call_return(c, &rc, 4);
}
int main(int argc, char **argv) {
  g_test = "ev_race";
  MP_REGISTER(t_ewait);
  MUST_OK(mp_main(argc, argv));
  watchdog(100);
  int mode = argc > 1 ? atoi(argv[1]) : 2; /* 0 threads only, 1 processes only, 2 both */
  MUST_OK(mp_event_create(&ge));
  int badt = 0, badp = 0, tott = 0, totp = 0, rounds = 12;
  int codes[32] = {0};
  for (int round = 0; round < rounds; round++) {
    mp_semaphore *s;
    MUST_OK(mp_semaphore_create(&s, 0, 0));
    mp_object *obs[2] = {mp_event_obj(ge), mp_semaphore_obj(s)};
    mp_process_options po = {0};
    po.objects = obs;
    po.nobjects = 2;
    int np = mode == 0 ? 0 : 2, nt = mode == 1 ? 0 : 4;
    mp_process *ps[2];
    for (int i = 0; i < np; i++)
      MUST_OK(mp_process_start(&ps[i], "t_ewait", NULL, 0, &po));
    int rcs[4];
    pthread_t t[4];
    arrived = 0;
    for (int i = 0; i < nt; i++)
      pthread_create(&t[i], NULL, thr_ewait, &rcs[i]);
    for (int i = 0; i < np; i++)
      mp_semaphore_acquire(s, 20);
    while (arrived < nt)
      sleep_s(0.001);
    sleep_s(argc > 2 ? atof(argv[2]) : 0.2); /* all are in their wait */
    if (round % 2) {
      mp_event_set(ge);
      mp_event_clear(ge);
    } else {
      mp_event_set(ge);
      sleep_s(0.001);
      mp_event_clear(ge);
    }
    for (int i = 0; i < nt; i++) {
      pthread_join(t[i], NULL);
      tott++;
      if (rcs[i] != MP_OK) {
        badt++;
        codes[-rcs[i] & 31]++;
      }
    }
    for (int i = 0; i < np; i++) {
      mp_process_join(ps[i], 12);
      mp_result r = {0};
      mp_process_result(ps[i], &r);
      int g = 99;
      if (r.len == 4)
        memcpy(&g, r.data, 4);
      totp++;
      if (g != MP_OK) {
        badp++;
        codes[-g & 31]++;
      }
      mp_result_clear(&r);
      mp_process_free(ps[i]);
    }
    mp_semaphore_free(s);
  }
  if (badt || badp)
    failf("set-then-clear: %d of %d thread waiters and %d of %d process waiters missed the set (ETIMEDOUT x%d)", badt,
          tott, badp, totp, codes[3]);
  mp_event_free(ge);
  return finish();
}
