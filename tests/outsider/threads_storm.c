/* threads_storm: 8 threads submit apply/apply_async/map/map_slices/imap to one
 * pool at once and cancel each other's jobs; every result is checked, every
 * callback must run exactly once, a cancel that returned MP_OK must leave
 * MP_ECANCELLED. Mode "terminate"/"close": one thread terminates/closes the
 * pool while the others submit, then two threads join it at once.
 * usage: threads_storm [storm|terminate|close] [WORKERS] */
#include "common.h"

#define NT 8
#define MAXJ 20000
typedef struct {
  uint32_t starts[MAXJ];
  uint32_t ends[MAXJ];
} ledger;
static ledger *L;
static mp_pool *P;
static int MODE; /* 0 storm 1 terminate 2 close */
static volatile int stop_flag;
static uint32_t next_id = 1;
static int cb_count[MAXJ];
static int cancel_ok[MAXJ];
static uint64_t want_rs[MAXJ];
static mp_async *jobs[MAXJ]; /* published for other threads to cancel */
static pthread_mutex_t jm = PTHREAD_MUTEX_INITIALIZER;
static int after_stop_ok; /* submissions accepted after terminate/close returned */
static volatile int stopped;
static int OPS = 63, NOCANCEL = 0;
static double in_since[NT];
static int in_op[NT];
static double close_at;
static void *hangwatch(void *x) {
  (void)x;
  for (;;) {
    sleep_s(0.5);
    double t = now_s();
    for (int i = 0; i < NT; i++)
      if (in_since[i] && t - in_since[i] > (getenv("HANG_S") ? atof(getenv("HANG_S")) : 12)) {
        printf("  fail: HANG: thread %d stuck for %.1fs (now %.2fs after close_at) in op %d (0 apply, 1-3 apply_async, "
               "4 map_slices, 5 imap), entered %.3fs %s close\n",
               i, t - in_since[i], t - close_at, in_op[i],
               in_since[i] > close_at ? in_since[i] - close_at : close_at - in_since[i],
               in_since[i] > close_at ? "after" : "before");
        fflush(stdout);
        in_since[i] = 0;
      }
  }
  return NULL;
}
static char had_job[MAXJ];
static int jobs_seen(uint32_t id) {
  return had_job[id];
}

typedef struct {
  uint32_t id, ms;
  uint64_t rsize;
} targ;
static int t_work(mp_call *c) {
  size_t n;
  const unsigned char *a = mp_call_arg(c, &n);
  if (n < sizeof(targ))
    return mp_call_fail(c, "short arg %zu", n);
  targ t;
  memcpy(&t, a, sizeof t);
  ledger *l = mp_shm_ptr(mp_call_shm(c, 0));
  if (t.id < MAXJ)
    __atomic_add_fetch(&l->starts[t.id], 1, __ATOMIC_SEQ_CST);
  if (check_pat(a + sizeof t, n - sizeof t, t.id) != (size_t)-1)
    return mp_call_fail(c, "arg corrupt");
  if (t.ms)
    sleep_s(t.ms / 1000.0);
  unsigned char *b = malloc(t.rsize + 1);
  fill_pat(b, t.rsize, t.id + 7);
  if (t.id < MAXJ)
    __atomic_add_fetch(&l->ends[t.id], 1, __ATOMIC_SEQ_CST);
  int rc = mp_call_return(c, b, t.rsize);
  free(b);
  return rc;
}
static unsigned char *mkarg(uint32_t id, uint32_t ms, uint64_t rsize, size_t extra, size_t *len) {
  *len = sizeof(targ) + extra;
  unsigned char *b = malloc(*len);
  targ t = {id, ms, rsize};
  memcpy(b, &t, sizeof t);
  fill_pat(b + sizeof t, extra, id);
  return b;
}
static int check_res(const mp_result *r, uint32_t id, uint64_t rsize, int allow_cancel, const char *what) {
  if (r->status == MP_OK) {
    if (r->len != rsize || check_pat(r->data, r->len, id + 7) != (size_t)-1) {
      failf("%s id %u: OK but wrong data (len %zu want %llu)", what, id, r->len, (unsigned long long)rsize);
      return 0;
    }
    return 1;
  }
  if (allow_cancel && r->status == MP_ECANCELLED)
    return 1;
  failf("%s id %u: status %s msg %s", what, id, mp_err_name(r->status), r->message ? r->message : "");
  return 0;
}
static void cb(mp_async *a, void *ud) {
  uint32_t id = (uint32_t)(uintptr_t)ud;
  __atomic_add_fetch(&cb_count[id], 1, __ATOMIC_SEQ_CST);
  if (mp_async_ready(a))
    failf("callback: mp_async_ready already 1 inside the callback");
  if (!mp_async_result(a))
    failf("callback: mp_async_result NULL inside callback id %u", id);
}
static uint32_t new_ids(uint32_t n) {
  uint32_t id = __atomic_fetch_add(&next_id, n, __ATOMIC_SEQ_CST);
  return id + n < MAXJ ? id : 0;
}
static uint32_t new_id(void) {
  return new_ids(1);
}

typedef struct {
  size_t n;
  uint32_t base;
} pstate;
static int producer(void *ud, size_t i, mp_slice *it) {
  pstate *s = ud;
  if (i >= s->n)
    return 0;
  static __thread unsigned char buf[64];
  size_t len;
  unsigned char *a = mkarg(s->base + (uint32_t)i, 0, 8, 16, &len);
  memcpy(buf, a, len);
  free(a);
  it->data = buf;
  it->len = len;
  return 1;
}

static void *worker(void *x) {
  int me = (int)(intptr_t)x;
  unsigned seed = 77 + me;
  while (!stop_flag) {
    int op;
    do
      op = rand_r(&seed) % 6;
    while (!(OPS & (1 << op)));
    size_t nmap = 1 + rand_r(&seed) % 40;
    uint32_t id = new_ids((uint32_t)nmap);
    if (!id)
      break;
    uint32_t ms = rand_r(&seed) % 3 == 0 ? rand_r(&seed) % 50 : 0;
    uint64_t rs = (rand_r(&seed) % 4 == 0) ? rand_r(&seed) % 300000 : rand_r(&seed) % 100;
    size_t extra = (rand_r(&seed) % 4 == 0) ? rand_r(&seed) % 200000 : rand_r(&seed) % 64;
    size_t len;
    unsigned char *arg = mkarg(id, ms, rs, extra, &len);
    int was_stopped = stopped;
    in_op[me] = op;
    in_since[me] = now_s();
    if (op == 0) {
      mp_result r = {0};
      int rc = mp_pool_apply(P, "t_work", arg, len, &r);
      if (rc == MP_OK) {
        if (was_stopped)
          after_stop_ok++;
        check_res(&r, id, rs, MODE == 1, "apply");
      } else if (!(MODE && rc == MP_ESTATE))
        failf("apply: %s %s", mp_err_name(rc), mp_last_error());
      mp_result_clear(&r);
    } else if (op <= 3) {
      mp_async *a = NULL;
      int rc = mp_pool_apply_async(P, "t_work", arg, len, cb, (void *)(uintptr_t)id, &a);
      if (rc != MP_OK) {
        if (!(MODE && rc == MP_ESTATE))
          failf("apply_async: %s %s", mp_err_name(rc), mp_last_error());
        free(arg);
        in_since[me] = 0;
        continue;
      }
      if (was_stopped)
        after_stop_ok++;
      pthread_mutex_lock(&jm);
      want_rs[id] = rs;
      jobs[id] = a;
      pthread_mutex_unlock(&jm);
      /* cancel someone's job now and then */
      if (!NOCANCEL && rand_r(&seed) % 5 == 0) {
        uint32_t v = 1 + rand_r(&seed) % id;
        pthread_mutex_lock(&jm);
        mp_async *va = jobs[v];
        if (va) {
          int c = mp_async_cancel(va);
          if (c == MP_OK)
            cancel_ok[v] = 1;
          else if (c != MP_ESTATE)
            failf("cancel: %s", mp_err_name(c));
        }
        pthread_mutex_unlock(&jm);
      }
    } else if (op == 4) {
      size_t n = nmap;
      mp_slice *sl = calloc(n, sizeof *sl);
      unsigned char **bs = calloc(n, sizeof *bs);
      uint32_t base = id;
      for (size_t i = 0; i < n; i++) {
        size_t l;
        bs[i] = mkarg(base + (uint32_t)i, 0, (i * 977) % 5000, i * 13, &l);
        sl[i].data = bs[i];
        sl[i].len = l;
      }
      mp_result *res = calloc(n, sizeof *res);
      mp_map_options mo = {0};
      mo.chunksize = 1 + rand_r(&seed) % 5;
      int rc = mp_pool_map_slices(P, "t_work", sl, n, res, &mo);
      if (rc == MP_OK || rc == MP_ECANCELLED) {
        for (size_t i = 0; i < n; i++) {
          if (base + i < MAXJ)
            check_res(&res[i], base + (uint32_t)i, (i * 977) % 5000, MODE == 1, "map_slices");
          mp_result_clear(&res[i]);
        }
      } else if (!(MODE && rc == MP_ESTATE))
        failf("map_slices: %s %s", mp_err_name(rc), mp_last_error());
      for (size_t i = 0; i < n; i++)
        free(bs[i]);
      free(bs);
      free(sl);
      free(res);
    } else {
      pstate s = {nmap, id};
      mp_iter *it = NULL;
      mp_imap_options io = {0};
      io.chunksize = 1 + rand_r(&seed) % 3;
      io.unordered = rand_r(&seed) % 2;
      int rc = mp_pool_imap(P, "t_work", producer, &s, &io, &it);
      if (rc != MP_OK) {
        if (!(MODE && rc == MP_ESTATE))
          failf("imap: %s %s", mp_err_name(rc), mp_last_error());
      } else {
        size_t got = 0;
        char *seen = calloc(s.n, 1);
        mp_result r = {0};
        size_t idx;
        for (;;) {
          rc = mp_iter_next(it, 10, &idx, &r);
          if (rc != MP_OK)
            break;
          if (idx >= s.n || seen[idx]++)
            failf("imap: index %zu twice/out of range", idx);
          else
            check_res(&r, s.base + (uint32_t)idx, 8, MODE == 1, "imap");
          mp_result_clear(&r);
          got++;
        }
        if (rc == MP_ECLOSED) {
          if (got != s.n)
            failf("imap: %zu of %zu results then ECLOSED", got, s.n);
        } else if (!(MODE == 1 && rc == MP_ESTATE))
          failf("imap next: %s after %zu/%zu (%s)", mp_err_name(rc), got, s.n, mp_last_error());
        if (r.data || r.message)
          failf("imap: error with filled result");
        free(seen);
        it = mp_iter_free(it);
      }
    }
    in_since[me] = 0;
    free(arg);
  }
  return NULL;
}
static void dump_children(void) {
  static int64_t pids[CHILDREN_MAX];
  static char states[CHILDREN_MAX];
  int n = list_children(pids, states, CHILDREN_MAX);
  for (int i = 0; i < n; i++) {
    char path[300], comm[64] = "", wchan[64] = "";
    snprintf(path, sizeof path, "/proc/%lld/comm", (long long)pids[i]);
    FILE *f = fopen(path, "r");
    if (f) {
      if (!fgets(comm, sizeof comm, f)) {
      }
      fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%lld/wchan", (long long)pids[i]);
    f = fopen(path, "r");
    if (f) {
      if (!fgets(wchan, sizeof wchan, f)) {
      }
      fclose(f);
    }
    comm[strcspn(comm, "\n")] = 0;
    printf("  info: child %lld %s state %c wchan %s\n", (long long)pids[i], comm, states[i], wchan);
  }
  printf("  info: %d children\n", n);
  fflush(stdout);
}
static void *joiner(void *x) {
  (void)x;
  int rc = mp_pool_join(P, 10);
  if (rc != MP_OK) {
    failf("joiner thread: join %s", mp_err_name(rc));
    if (x)
      dump_children();
  }
  return NULL;
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_work);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  MODE = argc > 1 ? (!strcmp(argv[1], "terminate") ? 1 : !strcmp(argv[1], "close") ? 2 : 0) : 0;
  g_test = MODE == 0 ? "threads_storm" : MODE == 1 ? "threads_storm terminate" : "threads_storm close";
  watchdog(getenv("STORM_WD") ? atof(getenv("STORM_WD")) : 90);
  if (getenv("STORM_OPS"))
    OPS = (int)strtol(getenv("STORM_OPS"), NULL, 0);
  if (getenv("STORM_NOCANCEL"))
    NOCANCEL = 1;
  double secs = getenv("STORM_SECS") ? atof(getenv("STORM_SECS")) : 1.5;
  mp_shm *shm = NULL;
  MUST_OK(mp_shm_create(&shm, sizeof(ledger)));
  L = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  mp_pool_options o = {0};
  o.workers = argc > 2 ? atoi(argv[2]) : 2;
  o.objects = objs;
  o.nobjects = 1;
  MUST_OK(mp_pool_create(&P, &o));
  pthread_t th[NT];
  int nt = MODE ? NT - 1 : NT;
  close_at = 1e18;
  pthread_t hw;
  pthread_create(&hw, NULL, hangwatch, NULL);
  PHASE("storm");
  for (int i = 0; i < nt; i++)
    pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
  sleep_s(secs);
  if (MODE == 1) {
    PHASE("terminate");
    CHECK_OK(mp_pool_terminate(P));
    stopped = 1;
  }
  if (MODE == 2) {
    PHASE("close");
    close_at = now_s();
    CHECK_OK(mp_pool_close(P));
    stopped = 1;
  }
  sleep_s(MODE ? 0.5 : 0);
  stop_flag = 1;
  PHASE("thread join");
  for (int i = 0; i < nt; i++)
    pthread_join(th[i], NULL);
  if (after_stop_ok)
    failf("%d submissions were accepted after close/terminate returned", after_stop_ok);
  PHASE("jobs");
  int nj = 0, ncanc = 0, ncb_bad = 0;
  for (uint32_t id = 1; id < MAXJ; id++) {
    if (!jobs[id])
      continue;
    nj++;
    had_job[id] = 1;
    int rc = mp_async_wait(jobs[id], 30);
    if (rc != MP_OK) {
      failf("job %u: wait %s", id, mp_err_name(rc));
      continue;
    }
    const mp_result *r = mp_async_result(jobs[id]);
    if (!r) {
      failf("job %u: ready but NULL result", id);
      continue;
    }
    if (cancel_ok[id]) {
      ncanc++;
      if (r->status != MP_ECANCELLED)
        failf("job %u: cancel said OK but status %s", id, mp_err_name(r->status));
      if (L->starts[id] > 1)
        failf("job %u started %u", id, L->starts[id]);
    } else
      check_res(r, id, want_rs[id], MODE == 1, "async");
    jobs[id] = mp_async_free(jobs[id]);
  }
  if (MODE) {
    PHASE("two joiners");
    pthread_t j1, j2;
    pthread_create(&j1, NULL, joiner, (void *)1);
    pthread_create(&j2, NULL, joiner, NULL);
    pthread_join(j1, NULL);
    pthread_join(j2, NULL);
  }
  sleep_s(0.3);
  for (uint32_t id = 1; id < MAXJ; id++)
    if (cb_count[id] > 1 || (want_rs[id] + 1 && jobs_seen(id) && cb_count[id] != 1))
      ncb_bad++;
  if (ncb_bad)
    failf("%d jobs whose callback did not run exactly once", ncb_bad);
  for (uint32_t id = 1; id < MAXJ; id++)
    if (L->starts[id] > 1) {
      failf("item %u started %u times", id, L->starts[id]);
      break;
    }
  infof("ids used %u, async jobs %d, cancelled OK %d", next_id, nj, ncanc);
  PHASE("free");
  P = mp_pool_free(P);
  shm = mp_shm_free(shm);
  return finish();
}
