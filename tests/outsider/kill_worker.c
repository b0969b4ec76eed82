/* kill_worker: kill -9 workers at every instant: idle (then submit at once),
 * while running, while returning a big result, while many items are queued.
 * Ledger in mp_shm: every item has exactly one outcome, started once, and
 * only killed items read MP_ECRASHED.  usage: kill_worker WORKERS [ROUNDS] */
#include "common.h"
#include <errno.h>

#define SLOTS 4096
typedef struct {
  int64_t pid[SLOTS];
  uint32_t starts[SLOTS];
  uint32_t ends[SLOTS];
} ledger;
static ledger *L;

/* arg: u32 item id, u32 ms to sleep, u64 result size */
typedef struct {
  uint32_t id, ms;
  uint64_t rsize;
} job_arg;
static int t_job(mp_call *c) {
  job_arg a;
  if (mp_call_arg_read(c, &a, sizeof a))
    return mp_call_fail(c, "bad arg");
  ledger *l = mp_shm_ptr(mp_call_shm(c, 0));
  __atomic_store_n(&l->pid[a.id], mp_getpid(), __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&l->starts[a.id], 1, __ATOMIC_SEQ_CST);
  if (a.ms)
    sleep_s(a.ms / 1000.0);
  unsigned char *b = malloc(a.rsize + 8);
  fill_pat(b, a.rsize, a.id);
  __atomic_add_fetch(&l->ends[a.id], 1, __ATOMIC_SEQ_CST);
  int rc = mp_call_return(c, b, a.rsize);
  free(b);
  return rc;
}
static int t_wid(mp_call *c) {
  int64_t v[2] = {mp_getpid(), mp_call_worker_id(c)};
  sleep_s(0.05);
  return mp_call_return(c, v, sizeof v);
}

static int get_pids(mp_pool *p, int w, int64_t *pids) {
  /* a map of w items of 50ms with chunksize 1 lands one on each worker, mostly */
  /* (Generous: a worker killed in the last round may still be starting
   * again on a loaded machine.) */
  for (int tries = 0; tries < 200; tries++) {
    int64_t out[64][2];
    int n = w * 2;
    memset(pids, 0, sizeof(int64_t) * w);
    mp_map_options mo = {0};
    mo.chunksize = 1;
    if (mp_pool_map(p, "t_wid", out, 1, n, out, 16, &mo) != MP_OK) {
      failf("t_wid map: %s", mp_last_error());
      return 0;
    }
    int got = 0;
    for (int i = 0; i < n; i++)
      if (out[i][1] >= 0 && out[i][1] < w && !pids[out[i][1]]) {
        pids[out[i][1]] = out[i][0];
        got++;
      }
    if (got == w)
      return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_job);
  MP_REGISTER(t_wid);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  int w = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 20;
  g_test = "kill_worker";
  watchdog(150);
  mp_shm *shm = NULL;
  MUST_OK(mp_shm_create(&shm, sizeof(ledger)));
  L = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = w;
  o.objects = objs;
  o.nobjects = 1;
  MUST_OK(mp_pool_create(&p, &o));
  int64_t pids[64];

  /* A: kill all while idle, then submit at once */
  PHASE("idle kill");
  int crashedA = 0;
  for (int r = 0; r < rounds; r++) {
    if (!get_pids(p, w, pids)) {
      failf("could not learn worker pids");
      break;
    }
    for (int i = 0; i < w; i++)
      kill((pid_t)pids[i], SIGKILL);
    memset(L, 0, sizeof *L);
    mp_async *js[16];
    for (int i = 0; i < 16; i++) {
      job_arg a = {(uint32_t)i, 0, 16};
      CHECK_OK(mp_pool_apply_async(p, "t_job", &a, sizeof a, NULL, NULL, &js[i]));
    }
    for (int i = 0; i < 16; i++) {
      if (mp_async_wait(js[i], 10) != MP_OK) {
        failf("idle kill: job %d never ready", i);
        continue;
      }
      const mp_result *res = mp_async_result(js[i]);
      if (res->status != MP_OK) {
        crashedA++;
        if (crashedA < 4)
          failf("idle kill round %d: job %d (started %u) reads %s: %s", r, i, L->starts[i], mp_err_name(res->status),
                res->message ? res->message : "");
      } else if (L->starts[i] != 1)
        failf("idle kill: job %d started %u", i, L->starts[i]);
      js[i] = mp_async_free(js[i]);
    }
  }
  if (crashedA)
    failf("idle kill: %d jobs that were submitted after the kill failed", crashedA);

  /* B: kill while running: expect exactly that item MP_ECRASHED with signal 9 */
  PHASE("running kill");
  for (int r = 0; r < rounds / 2 + 1; r++) {
    memset(L, 0, sizeof *L);
    job_arg a = {0, 2000, 8};
    mp_async *j = NULL;
    CHECK_OK(mp_pool_apply_async(p, "t_job", &a, sizeof a, NULL, NULL, &j));
    double t0 = now_s();
    while (!__atomic_load_n(&L->pid[0], __ATOMIC_SEQ_CST) && now_s() - t0 < 5)
      sleep_s(0.001);
    kill((pid_t)L->pid[0], SIGKILL);
    if (mp_async_wait(j, 10) != MP_OK)
      failf("running kill: never ready");
    else {
      const mp_result *res = mp_async_result(j);
      if (res->status != MP_ECRASHED || !res->message || !strstr(res->message, "9"))
        failf("running kill: %s %s", mp_err_name(res->status), res->message ? res->message : "");
      if (now_s() - t0 > 1.5)
        failf("running kill: took %.2fs to notice", now_s() - t0);
    }
    j = mp_async_free(j);
  }

  /* C: kill while returning a 64 MiB result */
  PHASE("returning kill");
  int okC = 0, crC = 0;
  for (int r = 0; r < rounds / 2 + 1; r++) {
    memset(L, 0, sizeof *L);
    job_arg a = {0, 0, 64u << 20};
    mp_async *j = NULL;
    CHECK_OK(mp_pool_apply_async(p, "t_job", &a, sizeof a, NULL, NULL, &j));
    double t0 = now_s();
    while (!__atomic_load_n(&L->ends[0], __ATOMIC_SEQ_CST) && now_s() - t0 < 5)
      sleep_s(0.0002);
    sleep_s(getenv("KDELAY") ? atof(getenv("KDELAY")) * (r % 10) / 10.0 : (r % 10) * 0.004);
    kill((pid_t)L->pid[0], SIGKILL);
    if (mp_async_wait(j, 20) != MP_OK) {
      failf("returning kill: never ready");
      j = mp_async_free(j);
      continue;
    }
    const mp_result *res = mp_async_result(j);
    if (res->status == MP_OK) {
      okC++;
      if (res->len != (64u << 20) || check_pat(res->data, res->len, 0) != (size_t)-1)
        failf("returning kill: OK but wrong data len %zu", res->len);
    } else if (res->status == MP_ECRASHED)
      crC++;
    else
      failf("returning kill: status %s %s", mp_err_name(res->status), res->message ? res->message : "");
    j = mp_async_free(j);
  }
  infof("returning kill: %d ok, %d crashed", okC, crC);

  /* D: many queued, random kills */
  PHASE("queued kill");
  memset(L, 0, sizeof *L);
  int N = 400;
  mp_async **js = calloc(N, sizeof *js);
  for (int i = 0; i < N; i++) {
    job_arg a = {(uint32_t)i, (uint32_t)(i % 5), (uint64_t)((i % 7) * 30000)};
    CHECK_OK(mp_pool_apply_async(p, "t_job", &a, sizeof a, NULL, NULL, &js[i]));
  }
  int kills = 0;
  double t0 = now_s();
  srand(1234);
  while (now_s() - t0 < 1.0) {
    int start = rand() % N;
    for (int k = 0; k < N; k++) {
      int v = (start + k) % N;
      int64_t pid = __atomic_load_n(&L->pid[v], __ATOMIC_SEQ_CST);
      if (pid && __atomic_load_n(&L->ends[v], __ATOMIC_SEQ_CST) == 0) {
        if (kill((pid_t)pid, SIGKILL) == 0)
          kills++;
        break;
      }
    }
    sleep_s(0.02);
  }
  int okD = 0, crD = 0, other = 0;
  for (int i = 0; i < N; i++) {
    if (mp_async_wait(js[i], 20) != MP_OK) {
      failf("queued: job %d never ready", i);
      continue;
    }
    const mp_result *res = mp_async_result(js[i]);
    if (res->status == MP_OK) {
      okD++;
      if (res->len != (size_t)((i % 7) * 30000) || check_pat(res->data, res->len, i) != (size_t)-1)
        failf("queued: job %d wrong data", i);
    } else if (res->status == MP_ECRASHED)
      crD++;
    else
      other++;
    if (L->starts[i] != 1)
      failf("queued: job %d started %u times (status %s)", i, L->starts[i], mp_err_name(res->status));
    js[i] = mp_async_free(js[i]);
  }
  infof("queued: %d kills, %d ok, %d crashed, %d other", kills, okD, crD, other);
  if (crD > kills)
    failf("queued: %d crashed but only %d kills", crD, kills);
  if (other)
    failf("queued: %d other statuses", other);
  free(js);
  PHASE("close");
  CHECK_OK(mp_pool_close(p));
  CHECK_OK(mp_pool_join(p, 10));
  p = mp_pool_free(p);
  int z;
  int ch = count_children(&z);
  if (ch || z)
    failf("after free: %d children, %d zombies", ch, z);
  shm = mp_shm_free(shm);
  return finish();
}
