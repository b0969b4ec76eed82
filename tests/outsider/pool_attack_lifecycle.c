/* pool_attack_lifecycle: pools made and freed in a loop (1 or 2 workers,
 * none, one short or one long job in flight at the free): no fd, zombie
 * or child left (POSIX). Then a pool freed with work in flight (applies, a
 * map_async, an imap; a waiter thread blocked on a job, one on the imap),
 * freed from another thread, terminated then freed: free takes no more
 * than its 2 seconds and a little; the waiters return (the job's MP_OK, the
 * imap's MP_ESTATE); every job outlives the pool: ready, its outcome OK or
 * MP_ECANCELLED, waits answer at once, a cancel is MP_ESTATE; the imap's
 * next is MP_ESTATE and leaves the result empty; no worker remains.
 * usage: pool_attack_lifecycle [CYCLES] */
#include "pool_attack.h"

typedef struct prod {
  int n;
  op cur;
} prod;
static int producer(void *ud, size_t index, mp_slice *item) {
  prod *pr = (prod *)ud;
  if ((int)index >= pr->n)
    return 0;
  pr->cur = mkop((int)index, A_OK, 0.05, 8);
  *item = mkslice(&pr->cur, sizeof pr->cur);
  return 1;
}
static void *freer(void *arg) {
  mp_pool_free((mp_pool *)arg);
  return NULL;
}
static mp_async *g_wait_a;
static int g_wait_rc = 99;
static void *waiter(void *arg) {
  (void)arg;
  g_wait_rc = mp_async_wait(g_wait_a, MP_FOREVER);
  return NULL;
}
static mp_iter *g_wait_it;
static int g_itwait_rc = 99;
static void *itwaiter(void *arg) {
  (void)arg;
  mp_result r;
  memset(&r, 0, sizeof r);
  int rc;
  while ((rc = mp_iter_next(g_wait_it, MP_FOREVER, NULL, &r)) == MP_OK)
    mp_result_clear(&r);
  g_itwait_rc = rc;
  return NULL;
}
static int one_cycle(int i) {
  mp_pool *p = NULL;
  mp_pool_options o;
  memset(&o, 0, sizeof o);
  o.workers = 1 + i % 2;
  int rc = mp_pool_create(&p, &o);
  if (rc) {
    failf("create %d: %s %s", i, mp_err_name(rc), mp_last_error());
    return 0;
  }
  if (i % 3 == 1) {
    op x = mkop(0, A_OK, 0, 8);
    mp_pool_apply_async(p, "t_op", &x, sizeof x, NULL, NULL, NULL);
  }
  if (i % 3 == 2) {
    op x = mkop(0, A_OK, 0.5, 8);
    mp_pool_apply_async(p, "t_op", &x, sizeof x, NULL, NULL, NULL);
  }
  p = mp_pool_free(p);
  return 1;
}

int main(int argc, char **argv) {
  PA_BOOT("pool_attack_lifecycle", 120);
  int loops = argc > 1 ? atoi(argv[1]) : 200;
  PHASE("create/free loop");
  one_cycle(0); /* whatever the library keeps once made, before counting */
#ifndef _WIN32
  int fds0 = count_fds();
#endif
  double t0 = now_s();
  for (int i = 1; i <= loops; i++)
    if (!one_cycle(i))
      break;
  infof("%d create/free in %.1f s", loops, now_s() - t0);
#ifndef _WIN32
  {
    int fds = count_fds(), z = 0, live = 0;
    for (int k = 0; k < 50; k++) {
      live = count_children(&z);
      if (live + z == 0)
        break;
      sleep_s(0.1);
    }
    infof("open fds: %d before the loop, %d after", fds0, fds);
    CHECK(fds <= fds0 + 2, "fd leak: %d fds before %d cycles, %d after", fds0, loops, fds);
    CHECK(z == 0, "%d zombies after the loop", z);
    CHECK(live == 0, "%d children after the loop", live);
  }
#endif
  for (int variant = 0; variant < 4; variant++) {
    static const char *VN[] = {"free", "free from another thread", "terminate then free", "free, waiter on the imap"};
    char ph[64];
    snprintf(ph, sizeof ph, "variant %d (%s)", variant, VN[variant]);
    PHASE(ph);
    mp_pool *p = NULL;
    if (mkpool(&p, 2, 0, 0, NULL, NULL, 0))
      break;
    enum { M = 12 };
    mp_async *as[M];
    for (int i = 0; i < M; i++) {
      op x = mkop(i, A_OK, 0.2, 8);
      as[i] = NULL;
      CHECK(mp_pool_apply_async(p, "t_op", &x, sizeof x, NULL, NULL, &as[i]) == MP_OK, "%s: apply_async", ph);
    }
    op in[20];
    mp_slice sl[20];
    for (int i = 0; i < 20; i++) {
      in[i] = mkop(100 + i, A_OK, 0.1, 8);
      sl[i] = mkslice(&in[i], sizeof in[i]);
    }
    mp_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.chunksize = 4;
    mp_async *ma = NULL;
    CHECK(mp_pool_map_async(p, "t_op", sl, 20, &mo, NULL, NULL, &ma) == MP_OK, "%s: map_async", ph);
    prod pr;
    memset(&pr, 0, sizeof pr);
    pr.n = 50;
    mp_imap_options io;
    memset(&io, 0, sizeof io);
    io.chunksize = 3;
    mp_iter *it = NULL;
    CHECK(mp_pool_imap(p, "t_op", producer, &pr, &io, &it) == MP_OK, "%s: imap", ph);
    if (!ma || !it) {
      mp_pool_free(p);
      break;
    }
    mp_result r;
    memset(&r, 0, sizeof r);
    if (variant != 3) {
      CHECK(mp_iter_next(it, 30, NULL, &r) == MP_OK, "%s: first next", ph);
      mp_result_clear(&r);
    }
    pthread_t th, tw, ti;
    g_wait_a = as[M - 1];
    g_wait_rc = 99;
    pthread_create(&tw, NULL, waiter, NULL);
    if (variant == 3) {
      g_wait_it = it;
      g_itwait_rc = 99;
      pthread_create(&ti, NULL, itwaiter, NULL);
    }
    sleep_s(0.3);
    double tf = now_s();
    if (variant == 1) {
      pthread_create(&th, NULL, freer, p);
      pthread_join(th, NULL);
    } else if (variant == 2) {
      mp_pool_terminate(p);
      mp_pool_free(p);
    } else
      mp_pool_free(p);
    p = NULL;
    double tfe = now_s();
    CHECK(tfe - tf < 10, "%s: free took %.2f s", ph, tfe - tf);
    pthread_join(tw, NULL);
    CHECK(g_wait_rc == MP_OK, "%s: waiter: %s", ph, mp_err_name(g_wait_rc));
    if (variant == 3) {
      pthread_join(ti, NULL);
      CHECK(g_itwait_rc == MP_ESTATE, "%s: imap waiter: %s", ph, mp_err_name(g_itwait_rc));
    }
    for (int i = 0; i < M; i++) {
      CHECK(mp_async_wait(as[i], 0) == MP_OK, "%s: wait(0) after free %d", ph, i);
      CHECK(mp_async_wait(as[i], MP_FOREVER) == MP_OK, "%s: wait(FOREVER) after free %d", ph, i);
      CHECK(mp_async_ready(as[i]) == 1, "%s: not ready after free", ph);
      const mp_result *rr = mp_async_result(as[i]);
      CHECK(rr && (rr->status == MP_ECANCELLED || check_result(rr, i)), "%s: result after free %d: %s", ph, i,
            rr ? mp_err_name(rr->status) : "NULL");
      CHECK(mp_async_cancel(as[i]) == MP_ESTATE, "%s: cancel after free %d", ph, i);
      as[i] = mp_async_free(as[i]);
    }
    size_t n = 0;
    const mp_result *mr = mp_async_results(ma, &n);
    CHECK(mr && n == 20, "%s: map results after free: %zu", ph, n);
    for (size_t i = 0; mr && i < n; i++)
      CHECK(mr[i].status == MP_ECANCELLED || check_result(&mr[i], 100 + (int)i), "%s: map item %zu %s", ph, i,
            mp_err_name(mr[i].status));
    CHECK(mp_async_cancel(ma) == MP_ESTATE, "%s: cancel of the map after free", ph);
    ma = mp_async_free(ma);
    int rc = mp_iter_next(it, 0, NULL, &r);
    CHECK(rc == MP_ESTATE, "%s: iter_next after free: %s", ph, mp_err_name(rc));
    rc = mp_iter_next(it, MP_FOREVER, NULL, &r);
    CHECK(rc == MP_ESTATE, "%s: iter_next(FOREVER) after free: %s", ph, mp_err_name(rc));
    CHECK(r.data == NULL && r.message == NULL, "%s: result not left empty", ph);
    it = mp_iter_free(it);
#ifndef _WIN32
    {
      int live = 0, z = 0;
      for (int k = 0; k < 50; k++) {
        live = count_children(&z);
        if (live + z == 0)
          break;
        sleep_s(0.1);
      }
      CHECK(live + z == 0, "%s: %d children (%d zombies) remain after free", ph, live + z, z);
    }
#endif
  }
  PA_DONE();
}
