/* timeout_races.c: waits with tiny timeouts racing with wakes: no lost unit (semaphore), no leaked
   ownership or broken exclusion (lock), no lost or duplicated message (queue get vs put), in threads of 2 processes. */
#include "common.h"
static int kindg;
static mp_lock *L;
static mp_semaphore *S;
static mp_queue *Q;
static volatile int64_t *sh;
static volatile int stop;
static double tiny(unsigned *s) {
  int k = rand_r(s) % 4;
  return k == 0 ? 0 : k == 1 ? 1e-6 : k == 2 ? 1e-4 : 2e-3;
}
static void *worker(void *x) {
  unsigned s = (unsigned)(uintptr_t)x;
  int64_t mine = 0;
  while (!stop) {
    if (kindg == 0) {
      int rc = mp_lock_acquire(L, tiny(&s));
      if (rc == MP_OK || rc == MP_EOWNERDEAD) {
        if (__sync_add_and_fetch(&sh[1], 1) != 1)
          __sync_fetch_and_add(&sh[2], 1);
        sh[0]++;
        __sync_sub_and_fetch(&sh[1], 1);
        mp_lock_release(L);
      } else if (rc != MP_ETIMEDOUT)
        __sync_fetch_and_add(&sh[3], 1);
    } else if (kindg == 1) {
      int rc = mp_semaphore_acquire(S, tiny(&s));
      if (rc == MP_OK) {
        if (__sync_add_and_fetch(&sh[1], 1) > 3)
          __sync_fetch_and_add(&sh[2], 1);
        __sync_sub_and_fetch(&sh[1], 1);
        rc = mp_semaphore_release(S);
        if (rc)
          __sync_fetch_and_add(&sh[3], 1);
      } else if (rc != MP_ETIMEDOUT)
        __sync_fetch_and_add(&sh[3], 1);
    } else {
      if (rand_r(&s) % 2) {
        if (mp_queue_put(Q, "m", 1, tiny(&s)) == MP_OK)
          mine++;
      } else {
        char b[4];
        size_t n;
        int rc = mp_queue_get_into(Q, b, 4, &n, tiny(&s));
        if (rc == MP_OK)
          mine--;
        else if (rc != MP_ETIMEDOUT && rc != MP_EEMPTY)
          __sync_fetch_and_add(&sh[3], 1);
      }
    }
  }
  __sync_fetch_and_add(&sh[4], mine);
  return NULL;
}
static int run(int secs_ms) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(mp_getpid() * 31 + i));
  sleep_s(secs_ms / 1000.0);
  stop = 1;
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  return 0;
}
static int t_race(mp_call *c) {
  kindg = *(const int *)mp_call_arg(c, NULL);
  L = mp_call_lock(c, 0);
  S = mp_call_semaphore(c, 1);
  Q = mp_call_queue(c, 2);
  sh = mp_shm_ptr(mp_call_shm(c, 3));
  run(3000);
  return 0;
}
int main(int argc, char **argv) {
  g_test = "timeout_races";
  MP_REGISTER(t_race);
  MUST_OK(mp_main(argc, argv));
  watchdog(100);
  const char *kn[] = {"lock", "semaphore(3, bounded 3)", "queue(maxsize 8)"};
  for (int kind = 0; kind < 3; kind++) {
    mp_shm *m;
    MUST_OK(mp_shm_create(&m, 4096));
    sh = mp_shm_ptr(m);
    MUST_OK(mp_lock_create(&L, 0));
    MUST_OK(mp_semaphore_create(&S, 3, 3));
    mp_queue_options qo = {0};
    qo.maxsize = 8;
    MUST_OK(mp_queue_create(&Q, &qo));
    mp_object *obs[4] = {mp_lock_obj(L), mp_semaphore_obj(S), mp_queue_obj(Q), mp_shm_obj(m)};
    mp_process_options po = {0};
    po.objects = obs;
    po.nobjects = 4;
    mp_process *p;
    kindg = kind;
    stop = 0;
    MUST_OK(mp_process_start(&p, "t_race", &kind, 4, &po));
    run(3000);
    mp_process_join(p, 20);
    mp_result r = {0};
    mp_process_result(p, &r);
    if (r.status)
      failf("child %s", r.message ? r.message : "?");
    mp_result_clear(&r);
    mp_process_free(p);
    if (sh[2])
      failf("%s: exclusion broken %lld times", kn[kind], (long long)sh[2]);
    if (sh[3])
      failf("%s: %lld unexpected error codes", kn[kind], (long long)sh[3]);
    if (kind == 0) {
      int rc = mp_lock_acquire(L, 0);
      if (rc != MP_OK)
        failf("lock after the races: acquire(0) -> %s (ownership leaked by a timed-out acquire?)", mp_err_name(rc));
      else
        mp_lock_release(L);
      infof("lock: %lld sections", (long long)sh[0]);
    }
    if (kind == 1) {
      unsigned v;
      mp_semaphore_value(S, &v);
      if (v != 3)
        failf("semaphore after the races: value %u want 3", v);
    }
    if (kind == 2) {
      size_t n;
      mp_queue_qsize(Q, &n);
      if ((int64_t)n != sh[4])
        failf("queue after the races: qsize %zu but puts-gets = %lld", n, (long long)sh[4]);
    }
    mp_lock_free(L);
    mp_semaphore_free(S);
    mp_queue_free(Q);
    mp_shm_free(m);
  }
  return finish();
}
