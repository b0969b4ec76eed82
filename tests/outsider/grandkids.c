/* grandkids.c: objects a task got (mp_call_X) handed on to a grandchild; pipe end and queue with MP_MAX_MESSAGE across
 * processes */
#include "common.h"
static int t_gk(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  mp_conn *cn = mp_call_conn(c, 1);
  mp_lock *l = mp_call_lock(c, 2);
  mp_event *e = mp_call_event(c, 3);
  int rc = mp_lock_acquire(l, 5);
  if (rc)
    return mp_call_fail(c, "gk lock %s", mp_err_name(rc));
  mp_lock_release(l);
  rc = mp_queue_put(q, "gk", 2, 1);
  if (rc)
    return mp_call_fail(c, "gk put %s", mp_err_name(rc));
  rc = mp_conn_send(cn, "gk", 2);
  if (rc)
    return mp_call_fail(c, "gk send %s", mp_err_name(rc));
  mp_event_set(e);
  int64_t pid = mp_getpid();
  return mp_call_return(c, &pid, 8);
}
static int t_kid(mp_call *c) {
  mp_object *obs[4] = {mp_queue_obj(mp_call_queue(c, 0)), mp_conn_obj(mp_call_conn(c, 1)),
                       mp_lock_obj(mp_call_lock(c, 2)), mp_event_obj(mp_call_event(c, 3))};
  for (int i = 0; i < 4; i++)
    if (!obs[i])
      return mp_call_fail(c, "obj %d NULL: %s", i, mp_last_error());
  mp_process_options po = {0};
  po.objects = obs;
  po.nobjects = 4;
  mp_process *p;
  int rc = mp_process_start(&p, "t_gk", NULL, 0, &po);
  if (rc)
    return mp_call_fail(c, "start grandchild: %s %s", mp_err_name(rc), mp_last_error());
  mp_process_join(p, 20);
  mp_result r = {0};
  mp_process_result(p, &r);
  int st = r.status;
  char msg[256];
  snprintf(msg, sizeof msg, "%s", r.message ? r.message : "");
  mp_result_clear(&r);
  mp_process_free(p);
  if (st)
    return mp_call_fail(c, "grandchild: %s %s", mp_err_name(st), msg);
  return mp_queue_put(mp_call_queue(c, 0), "kid", 3, 1);
}
static int t_maxsend(mp_call *c) {
  mp_conn *cn = mp_call_conn(c, 0);
  mp_queue *q = mp_call_queue(c, 1);
  unsigned char *b = malloc(MP_MAX_MESSAGE);
  if (!b)
    return mp_call_fail(c, "nomem");
  memset(b, 0x11, MP_MAX_MESSAGE);
  b[0] = 1;
  b[MP_MAX_MESSAGE - 1] = 2;
  int rc = mp_conn_send(cn, b, MP_MAX_MESSAGE);
  if (rc)
    return mp_call_fail(c, "send %s", mp_err_name(rc));
  rc = mp_queue_put(q, b, MP_MAX_MESSAGE, 10);
  free(b);
  if (rc)
    return mp_call_fail(c, "put %s", mp_err_name(rc));
  return 0;
}
int main(int argc, char **argv) {
  g_test = "grandkids";
  MP_REGISTER(t_gk);
  MP_REGISTER(t_kid);
  MP_REGISTER(t_maxsend);
  MUST_OK(mp_main(argc, argv));
  watchdog(110);
  mp_queue *q;
  mp_conn *a, *b;
  mp_lock *l;
  mp_event *e;
  MUST_OK(mp_queue_create(&q, NULL));
  MUST_OK(mp_pipe(&a, &b, 0));
  MUST_OK(mp_lock_create(&l, 0));
  MUST_OK(mp_event_create(&e));
  PHASE("grandchild");
  {
    mp_object *obs[4] = {mp_queue_obj(q), mp_conn_obj(b), mp_lock_obj(l), mp_event_obj(e)};
    mp_process_options po = {0};
    po.objects = obs;
    po.nobjects = 4;
    mp_process *p;
    MUST_OK(mp_process_start(&p, "t_kid", NULL, 0, &po));
    mp_process_join(p, 40);
    mp_result r = {0};
    mp_process_result(p, &r);
    if (r.status)
      failf("kid: %s %s", mp_err_name(r.status), r.message ? r.message : "");
    mp_result_clear(&r);
    mp_process_free(p);
    char buf[8];
    size_t n;
    int rc = mp_queue_get_into(q, buf, 8, &n, 2);
    if (rc || n != 2)
      failf("grandchild's message -> %s", mp_err_name(rc));
    rc = mp_queue_get_into(q, buf, 8, &n, 2);
    if (rc || n != 3)
      failf("kid's message -> %s", mp_err_name(rc));
    rc = mp_conn_recv_into(a, buf, 8, &n, 2);
    if (rc || n != 2)
      failf("grandchild's pipe message -> %s", mp_err_name(rc));
    if (!mp_event_is_set(e))
      failf("grandchild's event");
  }
  PHASE("MP_MAX_MESSAGE across");
  {
    mp_object *obs[2] = {mp_conn_obj(b), mp_queue_obj(q)};
    mp_process_options po = {0};
    po.objects = obs;
    po.nobjects = 2;
    mp_process *p;
    MUST_OK(mp_process_start(&p, "t_maxsend", NULL, 0, &po));
    unsigned char *buf = malloc(MP_MAX_MESSAGE);
    size_t n;
    int rc = mp_conn_recv_into(a, buf, MP_MAX_MESSAGE, &n, 60);
    if (rc || n != MP_MAX_MESSAGE || buf[0] != 1 || buf[n - 1] != 2 || buf[n / 3] != 0x11)
      failf("pipe 1 GiB -> %s n=%zu", mp_err_name(rc), n);
    memset(buf, 0, 16);
    rc = mp_queue_get_into(q, buf, MP_MAX_MESSAGE, &n, 60);
    if (rc || n != MP_MAX_MESSAGE || buf[0] != 1 || buf[n - 1] != 2)
      failf("queue 1 GiB -> %s n=%zu", mp_err_name(rc), n);
    free(buf);
    mp_process_join(p, 20);
    mp_result r = {0};
    mp_process_result(p, &r);
    if (r.status)
      failf("maxsend: %s", r.message ? r.message : "");
    mp_result_clear(&r);
    mp_process_free(p);
  }
  mp_queue_free(q);
  mp_conn_free(a);
  mp_conn_free(b);
  mp_lock_free(l);
  mp_event_free(e);
  return finish();
}
