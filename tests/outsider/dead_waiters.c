/* dead_waiters.c: a process killed while WAITING (not holding) in get/put/acquire/wait must not
   steal a wake-up or leave the object odd (e.g. a lock waiter's death is no EOWNERDEAD). */
#include "common.h"
static int t_block(mp_call *c) {
  int kind;
  mp_call_arg_read(c, &kind, 4);
  mp_event *ready = mp_call_event(c, 1);
  mp_event_set(ready);
  switch (kind) {
  case 0: {
    void *d;
    size_t n;
    mp_queue_get(mp_call_queue(c, 0), &d, &n, MP_FOREVER);
    break;
  }
  case 1: {
    char b[8];
    size_t n;
    mp_queue_get_into(mp_call_queue(c, 0), b, 8, &n, MP_FOREVER);
    break;
  }
  case 2:
    mp_queue_put(mp_call_queue(c, 0), "p", 1, MP_FOREVER);
    break;
  case 3:
    mp_lock_acquire(mp_call_lock(c, 0), MP_FOREVER);
    break;
  case 4:
    mp_semaphore_acquire(mp_call_semaphore(c, 0), MP_FOREVER);
    break;
  case 5:
    mp_event_wait(mp_call_event(c, 0), MP_FOREVER);
    break;
  case 6:
    mp_queue_join(mp_call_queue(c, 0), MP_FOREVER);
    break;
  }
  sleep_s(60);
  return 0;
}
static const char *kn[] = {"queue_get",         "queue_get_into", "queue_put(full)", "lock_acquire",
                           "semaphore_acquire", "event_wait",     "queue_join"};
struct th {
  int kind;
  void *o;
  int rc;
  double el;
};
static void *thr(void *x) {
  struct th *t = x;
  double t0 = now_s();
  switch (t->kind) {
  case 0:
  case 1: {
    void *d;
    size_t n;
    t->rc = mp_queue_get(t->o, &d, &n, 3);
    if (!t->rc)
      mp_free(d);
    break;
  }
  case 2:
    t->rc = mp_queue_put(t->o, "t", 1, 3);
    break;
  case 3:
    t->rc = mp_lock_acquire(t->o, 3);
    if (t->rc == MP_OK || t->rc == MP_EOWNERDEAD)
      mp_lock_release(t->o);
    break;
  case 4:
    t->rc = mp_semaphore_acquire(t->o, 3);
    break;
  case 5:
    t->rc = mp_event_wait(t->o, 3);
    break;
  case 6:
    t->rc = mp_queue_join(t->o, 3);
    break;
  }
  t->el = now_s() - t0;
  return NULL;
}
int main(int argc, char **argv) {
  g_test = "dead_waiters";
  MP_REGISTER(t_block);
  MUST_OK(mp_main(argc, argv));
  watchdog(110);
  for (int kind = 0; kind < 7; kind++)
    for (int rep = 0; rep < 3; rep++) {
      PHASE(kn[kind]);
      mp_queue *q = NULL;
      mp_lock *l = NULL;
      mp_semaphore *s = NULL;
      mp_event *ev = NULL, *ready;
      mp_object *o0 = NULL;
      void *obj = NULL;
      MUST_OK(mp_event_create(&ready));
      if (kind <= 2 || kind == 6) {
        mp_queue_options qo = {0};
        qo.maxsize = kind == 2 ? 1 : 0;
        qo.joinable = kind == 6;
        MUST_OK(mp_queue_create(&q, &qo));
        if (kind == 2)
          mp_queue_put(q, "f", 1, 0);
        if (kind == 6)
          mp_queue_put(q, "j", 1, 0);
        o0 = mp_queue_obj(q);
        obj = q;
      }
      if (kind == 3) {
        MUST_OK(mp_lock_create(&l, 0));
        mp_lock_acquire(l, 0);
        o0 = mp_lock_obj(l);
        obj = l;
      }
      if (kind == 4) {
        MUST_OK(mp_semaphore_create(&s, 0, 0));
        o0 = mp_semaphore_obj(s);
        obj = s;
      }
      if (kind == 5) {
        MUST_OK(mp_event_create(&ev));
        o0 = mp_event_obj(ev);
        obj = ev;
      }
      mp_object *obs[2] = {o0, mp_event_obj(ready)};
      mp_process_options po = {0};
      po.objects = obs;
      po.nobjects = 2;
      mp_process *p;
      MUST_OK(mp_process_start(&p, "t_block", &kind, 4, &po));
      CHECK_OK(mp_event_wait(ready, 20));
      sleep_s(0.1 + 0.05 * rep);
      mp_process_kill(p);
      mp_process_join(p, 5);
      mp_process_free(p);
      struct th t = {kind, obj, 99, 0};
      pthread_t th;
      pthread_create(&th, NULL, thr, &t);
      sleep_s(0.1);
      /* the wake */
      double t0 = now_s();
      switch (kind) {
      case 0:
      case 1:
        mp_queue_put(q, "w", 1, 0);
        break;
      case 2: {
        char b[4];
        size_t n;
        mp_queue_get_into(q, b, 4, &n, 0);
        break;
      }
      case 3:
        mp_lock_release(l);
        break;
      case 4:
        mp_semaphore_release(s);
        break;
      case 5:
        mp_event_set(ev);
        break;
      case 6: {
        char b[4];
        size_t n;
        mp_queue_get_into(q, b, 4, &n, 0);
        mp_queue_task_done(q);
        break;
      }
      }
      pthread_join(th, NULL);
      double el = now_s() - t0;
      if (t.rc != MP_OK || el > 0.5)
        failf("%s rep %d: after a waiter in another process was killed, a live waiter got %s after %.2fs", kn[kind],
              rep, mp_err_name(t.rc), el);
      mp_queue_free(q);
      mp_lock_free(l);
      mp_semaphore_free(s);
      mp_event_free(ev);
      mp_event_free(ready);
    }
  return finish();
}
