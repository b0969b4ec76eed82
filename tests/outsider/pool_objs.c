/* pool_objs.c: objects given to a pool and freed at once by the parent live as long as the pool
   (replacement workers with max_tasks_per_child 1 included). */
#include "common.h"
static int t_use(mp_call *c) {
  mp_queue *q = mp_call_queue(c, 0);
  mp_lock *l = mp_call_lock(c, 1);
  mp_event *e = mp_call_event(c, 2);
  mp_shm *s = mp_call_shm(c, 3);
  mp_manager *m = mp_call_manager(c, 4);
  mp_conn *cn = mp_call_conn(c, 5);
  mp_condition *cv = mp_call_condition(c, 6);
  if (!q || !l || !e || !s || !m || !cn || !cv)
    return mp_call_fail(c, "missing: %s", mp_last_error());
  int rc = mp_queue_put(q, "w", 1, 1);
  if (rc)
    return mp_call_fail(c, "put %s", mp_err_name(rc));
  rc = mp_lock_acquire(l, 5);
  if (rc && rc != MP_EOWNERDEAD)
    return mp_call_fail(c, "lock %s", mp_err_name(rc));
  int64_t *v = mp_shm_ptr(s);
  v[0]++;
  mp_lock_release(l);
  mp_dict *d;
  rc = mp_manager_dict(m, "d", &d);
  if (rc)
    return mp_call_fail(c, "dict %s %s", mp_err_name(rc), mp_last_error());
  rc = mp_dict_add_i64(d, "n", 1, NULL);
  mp_dict_free(d);
  if (rc)
    return mp_call_fail(c, "add %s %s", mp_err_name(rc), mp_last_error());
  rc = mp_conn_send(cn, "c", 1);
  if (rc)
    return mp_call_fail(c, "send %s", mp_err_name(rc));
  rc = mp_condition_acquire(cv, 5);
  if (rc && rc != MP_EOWNERDEAD)
    return mp_call_fail(c, "cv %s", mp_err_name(rc));
  mp_condition_notify_all(cv);
  mp_condition_release(cv);
  mp_event_set(e);
  return 0;
}
int main(int argc, char **argv) {
  g_test = "pool_objs";
  MP_REGISTER(t_use);
  MUST_OK(mp_main(argc, argv));
  watchdog(100);
  mp_queue *q;
  mp_lock *l;
  mp_event *e;
  mp_shm *s;
  mp_manager *m;
  mp_conn *a, *b;
  mp_condition *cv;
  MUST_OK(mp_queue_create(&q, NULL));
  MUST_OK(mp_lock_create(&l, 0));
  MUST_OK(mp_event_create(&e));
  MUST_OK(mp_shm_create(&s, 4096));
  MUST_OK(mp_manager_start(&m));
  MUST_OK(mp_pipe(&a, &b, 0));
  MUST_OK(mp_condition_create(&cv, NULL));
  mp_object *obs[7] = {mp_queue_obj(q),   mp_lock_obj(l), mp_event_obj(e),     mp_shm_obj(s),
                       mp_manager_obj(m), mp_conn_obj(b), mp_condition_obj(cv)};
  mp_pool *p;
  mp_pool_options po = {0};
  po.workers = 2;
  po.max_tasks_per_child = 1;
  po.objects = obs;
  po.nobjects = 7;
  MUST_OK(mp_pool_create(&p, &po));
  /* the parent lets go of everything but the receiving end and the queue's reading side via... we keep a and q copies?
   * no: free all we gave */
  mp_lock_free(l);
  mp_event_free(e);
  mp_shm_free(s);
  mp_manager_free(m);
  mp_conn_free(b);
  mp_condition_free(cv);
  /* keep q for reading; but free a second handle? a queue cannot be duplicated; keep q */
  int N = 12;
  mp_slice in[12];
  for (int i = 0; i < N; i++) {
    in[i].data = NULL;
    in[i].len = 0;
  }
  mp_result out[12];
  memset(out, 0, sizeof out);
  mp_map_options mo = {0};
  mo.chunksize = 1;
  int rc = mp_pool_map_slices(p, "t_use", in, N, out, &mo);
  if (rc)
    failf("map over replacement workers -> %s: %s", mp_err_name(rc), mp_last_error());
  for (int i = 0; i < N; i++) {
    if (out[i].status)
      failf("item %d: %s %s", i, mp_err_name(out[i].status), out[i].message ? out[i].message : "");
    mp_result_clear(&out[i]);
  }
  int got = 0;
  void *d;
  size_t n;
  while (mp_queue_get(q, &d, &n, 0.5) == MP_OK) {
    mp_free(d);
    got++;
  }
  if (got != N)
    failf("queue got %d want %d", got, N);
  int cg = 0;
  while (mp_conn_recv(a, &d, &n, 0.5) == MP_OK) {
    mp_free(d);
    cg++;
  }
  if (cg != N)
    failf("conn got %d want %d", cg, N);
  /* free the queue too while the pool lives, then run more */
  mp_queue_free(q);
  rc = mp_pool_map_slices(p, "t_use", in, N, out, &mo);
  if (rc)
    failf("second map after freeing the queue too -> %s: %s", mp_err_name(rc), mp_last_error());
  for (int i = 0; i < N; i++)
    mp_result_clear(&out[i]);
  mp_pool_free(p);
  rc = mp_conn_recv(a, &d, &n, 2);
  int k = 0;
  while (rc == MP_OK) {
    mp_free(d);
    k++;
    rc = mp_conn_recv(a, &d, &n, 2);
  }
  if (k != N || rc != MP_ECLOSED)
    failf("after pool freed, the conn drained %d then %s (want %d, ECLOSED)", k, mp_err_name(rc), N);
  mp_conn_free(a);
#ifndef _WIN32
  int z, kids = count_children(&z);
  if (kids || z)
    failf("children %d zombies %d left (manager server kept after the pool?)", kids, z);
#endif
  return finish();
}
