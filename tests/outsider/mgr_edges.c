/* mgr_edges.c: Manager dict/list edges, concurrency from many processes and threads, server death */
#include "common.h"
static int t_adder(mp_call *c) {
  mp_manager *m = mp_call_manager(c, 0);
  mp_dict *d;
  int rc = mp_manager_dict(m, "cnt", &d);
  if (rc)
    return mp_call_fail(c, "dict %s %s", mp_err_name(rc), mp_last_error());
  mp_list *l;
  rc = mp_manager_list(m, "L", &l);
  if (rc)
    return mp_call_fail(c, "list %s", mp_err_name(rc));
  for (int i = 0; i < 500; i++) {
    rc = mp_dict_add_i64(d, "k", 1, NULL);
    if (rc)
      return mp_call_fail(c, "add %s %s", mp_err_name(rc), mp_last_error());
    int64_t pid = mp_getpid();
    rc = mp_list_append(l, &pid, 8);
    if (rc)
      return mp_call_fail(c, "append %s", mp_err_name(rc));
  }
  rc = mp_manager_shutdown(m);
  int r2 = rc;
  mp_dict_free(d);
  mp_list_free(l);
  return mp_call_return(c, &r2, 4);
}
static int t_after(mp_call *c) {
  mp_manager *m = mp_call_manager(c, 0);
  mp_dict *d;
  double t0 = now_s();
  int rc = mp_manager_dict(m, "cnt", &d);
  if (!rc) {
    void *v;
    size_t n;
    rc = mp_dict_get(d, "k", &v, &n);
    if (!rc)
      mp_free(v);
    mp_dict_free(d);
  }
  double el = now_s() - t0;
  if (el > 3)
    return mp_call_fail(c, "took %.2fs", el);
  return mp_call_return(c, &rc, 4);
}
static mp_manager *gm;
static volatile int thr_bad;
static void *thr_adder(void *x) {
  (void)x;
  mp_dict *d;
  if (mp_manager_dict(gm, "cnt", &d)) {
    thr_bad++;
    return NULL;
  }
  for (int i = 0; i < 500; i++)
    if (mp_dict_add_i64(d, "k", 1, NULL)) {
      thr_bad++;
      break;
    }
  mp_dict_free(d);
  return NULL;
}
#ifndef _WIN32
static int my_children(int64_t *pids, int max) {
  int64_t all[CHILDREN_MAX];
  char states[CHILDREN_MAX];
  int found = list_children(all, states, CHILDREN_MAX), n = 0;
  for (int i = 0; i < found && n < max; i++)
    if (states[i] != 'Z')
      pids[n++] = all[i];
  return n;
}
#endif
int main(int argc, char **argv) {
  g_test = "mgr_edges";
  MP_REGISTER(t_adder);
  MP_REGISTER(t_after);
  MUST_OK(mp_main(argc, argv));
  watchdog(110);
  int rc;
  void *v;
  size_t n;
  PHASE("start");
  MUST_OK(mp_manager_start(&gm));
  mp_dict *d;
  mp_list *l;
  MUST_OK(mp_manager_dict(gm, "d", &d));
  MUST_OK(mp_manager_list(gm, "d", &l));
  PHASE("dict edges");
  CHECK_OK(mp_dict_set(d, "empty", "", 0));
  rc = mp_dict_get(d, "empty", &v, &n);
  if (rc || !v || n)
    failf("0-byte value -> %s v=%p n=%zu", mp_err_name(rc), v, n);
  mp_free(v);
  CHECK_OK(mp_dict_set(d, "", "e", 1));
  rc = mp_dict_get(d, "", &v, &n);
  if (rc || n != 1)
    failf("empty key -> %s", mp_err_name(rc));
  else
    mp_free(v);
  char key[MP_MANAGER_KEY_MAX + 2];
  memset(key, 'k', sizeof key);
  key[MP_MANAGER_KEY_MAX] = 0;
  rc = mp_dict_set(d, key, "x", 1);
  if (rc)
    failf("1024-byte key -> %s %s", mp_err_name(rc), mp_last_error());
  rc = mp_dict_get(d, key, &v, &n);
  if (rc)
    failf("get 1024-byte key -> %s", mp_err_name(rc));
  else
    mp_free(v);
  key[MP_MANAGER_KEY_MAX] = 'k';
  key[MP_MANAGER_KEY_MAX + 1] = 0;
  rc = mp_dict_set(d, key, "x", 1);
  if (rc != MP_EINVAL)
    failf("1025-byte key -> %s", mp_err_name(rc));
  rc = mp_dict_get(d, key, &v, &n);
  if (rc != MP_EINVAL)
    failf("get 1025-byte key -> %s", mp_err_name(rc));
  {
    mp_dict *d2;
    rc = mp_manager_dict(gm, key, &d2);
    if (rc != MP_EINVAL)
      failf("dict name 1025 -> %s", mp_err_name(rc));
  }
  rc = mp_dict_get(d, "nope", &v, &n);
  if (rc != MP_ENOTFOUND)
    failf("get missing -> %s", mp_err_name(rc));
  rc = mp_dict_del(d, "nope");
  if (rc != MP_ENOTFOUND)
    failf("del missing -> %s", mp_err_name(rc));
  CHECK_OK(mp_dict_del(d, "empty"));
  CHECK_OK(mp_dict_len(d, &n));
  if (n != 2)
    failf("len %zu want 2", n);
  {
    static char one;
    rc = mp_dict_set(d, "big", &one, MP_MAX_MESSAGE + 1);
    if (rc != MP_ETOOBIG)
      failf("set MAX+1 -> %s", mp_err_name(rc));
  }
  rc = mp_dict_set(d, "nul", NULL, 4);
  if (rc != MP_EINVAL)
    failf("set NULL,4 -> %s", mp_err_name(rc));
  {
    size_t L = 64u << 20;
    unsigned char *b = malloc(L);
    fill_pat(b, L, 3);
    CHECK_OK(mp_dict_set(d, "big", b, L));
    free(b);
    rc = mp_dict_get(d, "big", &v, &n);
    if (rc || n != L || check_pat(v, n, 3) != (size_t)-1)
      failf("64MiB value -> %s", mp_err_name(rc));
    if (!rc)
      mp_free(v);
  }
  PHASE("add_i64");
  {
    int64_t now;
    CHECK_OK(mp_dict_add_i64(d, "c", 5, &now));
    if (now != 5)
      failf("add from missing -> %lld", (long long)now);
    rc = mp_dict_add_i64(d, "c", INT64_MAX, &now);
    if (rc != MP_EINVAL)
      failf("overflow add -> %s", mp_err_name(rc));
    CHECK_OK(mp_dict_add_i64(d, "c", 0, &now));
    if (now != 5)
      failf("after refused overflow -> %lld", (long long)now);
    CHECK_OK(mp_dict_add_i64(d, "c", -5, &now));
    CHECK_OK(mp_dict_add_i64(d, "c", INT64_MIN, &now));
    if (now != INT64_MIN)
      failf("INT64_MIN");
    rc = mp_dict_add_i64(d, "c", -1, &now);
    if (rc != MP_EINVAL)
      failf("underflow past INT64_MIN -> %s (%lld)", mp_err_name(rc), (long long)now);
    rc = mp_dict_add_i64(d, "", 1, &now);
    if (rc != MP_EINVAL)
      failf("add on 1-byte value -> %s", mp_err_name(rc));
  }
  PHASE("list edges");
  CHECK_OK(mp_list_append(l, NULL, 0));
  CHECK_OK(mp_list_append(l, "ab", 2));
  CHECK_OK(mp_list_len(l, &n));
  if (n != 2)
    failf("list len %zu", n);
  rc = mp_list_get(l, 2, &v, &n);
  if (rc != MP_ENOTFOUND)
    failf("list get 2 -> %s", mp_err_name(rc));
  rc = mp_list_get(l, SIZE_MAX, &v, &n);
  if (rc != MP_ENOTFOUND)
    failf("list get SIZE_MAX -> %s", mp_err_name(rc));
  rc = mp_list_get(l, 1, &v, &n);
  if (rc || n != 2 || memcmp(v, "ab", 2))
    failf("list get 1");
  else
    mp_free(v);
  PHASE("many processes and threads");
  {
    mp_object *o = mp_manager_obj(gm);
    mp_process_options po = {0};
    po.objects = &o;
    po.nobjects = 1;
    mp_process *ps[8];
    for (int i = 0; i < 8; i++)
      MUST_OK(mp_process_start(&ps[i], "t_adder", NULL, 0, &po));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
      pthread_create(&t[i], NULL, thr_adder, NULL);
    for (int i = 0; i < 4; i++)
      pthread_join(t[i], NULL);
    if (thr_bad)
      failf("thread adders failed %d", thr_bad);
    for (int i = 0; i < 8; i++) {
      mp_process_join(ps[i], 40);
      mp_result r = {0};
      mp_process_result(ps[i], &r);
      int g = 99;
      if (r.status)
        failf("adder %d: %s", i, r.message ? r.message : "?");
      else if (r.len == 4)
        memcpy(&g, r.data, 4);
      if (!r.status && g != MP_ESTATE)
        failf("shutdown from a child -> %s want ESTATE", mp_err_name(g));
      mp_result_clear(&r);
      mp_process_free(ps[i]);
    }
    mp_dict *c;
    MUST_OK(mp_manager_dict(gm, "cnt", &c));
    int64_t now = 0;
    CHECK_OK(mp_dict_add_i64(c, "k", 0, &now));
    if (now != 8 * 500 + 4 * 500)
      failf("counter %lld want 6000", (long long)now);
    mp_list *L;
    MUST_OK(mp_manager_list(gm, "L", &L));
    CHECK_OK(mp_list_len(L, &n));
    if (n != 4000)
      failf("list len %zu want 4000", n);
    mp_list_free(L);
    mp_dict_free(c);
  }
#ifndef _WIN32
  PHASE("server killed");
  {
    int64_t kids[16];
    int nk = my_children(kids, 16);
    infof("children of the parent now: %d", nk);
    if (nk != 1)
      failf("expected exactly the server as child, found %d", nk);
    else {
      kill((pid_t)kids[0], SIGKILL);
      sleep_s(0.2);
      double t0 = now_s();
      rc = mp_dict_set(d, "x", "y", 1);
      if (rc != MP_ECLOSED || now_s() - t0 > 2)
        failf("set after server killed -> %s %.2fs", mp_err_name(rc), now_s() - t0);
      t0 = now_s();
      rc = mp_list_len(l, &n);
      if (rc != MP_ECLOSED || now_s() - t0 > 2)
        failf("list_len after server killed -> %s", mp_err_name(rc));
      mp_dict *d3;
      rc = mp_manager_dict(gm, "new", &d3);
      if (rc != MP_ECLOSED)
        failf("dict open after server killed -> %s", mp_err_name(rc));
      mp_object *o = mp_manager_obj(gm);
      mp_process_options po = {0};
      po.objects = &o;
      po.nobjects = 1;
      mp_process *p;
      if (mp_process_start(&p, "t_after", NULL, 0, &po) == MP_OK) {
        mp_process_join(p, 10);
        mp_result r = {0};
        mp_process_result(p, &r);
        int g = 99;
        if (r.len == 4)
          memcpy(&g, r.data, 4);
        if (g != MP_ECLOSED)
          failf("child call after server died -> %s %s", mp_err_name(g), r.message ? r.message : "");
        mp_result_clear(&r);
        mp_process_free(p);
      }
      t0 = now_s();
      rc = mp_manager_shutdown(gm);
      if (now_s() - t0 > 5)
        failf("shutdown of a dead server took %.2fs", now_s() - t0);
      infof("shutdown after death -> %s", mp_err_name(rc));
    }
  }
#endif
  mp_manager_free(gm);
  rc = mp_dict_get(d, "d", &v, &n);
  if (rc != MP_ECLOSED)
    failf("proxy after manager freed -> %s", mp_err_name(rc));
  mp_dict_free(d);
  mp_list_free(l);
#ifndef _WIN32
  PHASE("killed mid large call");
  {
    MUST_OK(mp_manager_start(&gm));
    MUST_OK(mp_manager_dict(gm, "z", &d));
    int64_t kids[16];
    int nk = my_children(kids, 16);
    size_t L = 512u << 20;
    unsigned char *b = calloc(1, L);
    if (nk == 1) {
      pid_t sp = (pid_t)kids[0];
      pid_t k = fork();
      if (k == 0) {
        usleep(100000);
        kill(sp, SIGKILL);
        _exit(0);
      }
      double t0 = now_s();
      rc = mp_dict_set(d, "big", b, L);
      double el = now_s() - t0;
      waitpid(k, NULL, 0);
      if (rc != MP_ECLOSED && rc != MP_OK)
        failf("set cut off by server death -> %s", mp_err_name(rc));
      infof("set cut off -> %s after %.2fs", mp_err_name(rc), el);
      rc = mp_dict_get(d, "big", &v, &n);
      if (rc != MP_ECLOSED)
        failf("get after -> %s", mp_err_name(rc));
    }
    free(b);
    mp_dict_free(d);
    double t1 = now_s();
    mp_manager_free(gm);
    if (now_s() - t1 > 5)
      failf("manager_free after death slow");
  }
  {
    int z;
    int nk = count_children(&z);
    if (nk || z)
      failf("after all freed: %d children, %d zombies", nk, z);
  }
#endif
  return finish();
}
