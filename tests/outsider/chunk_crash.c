/* chunk_crash: a worker death fails exactly the item it ran; the items of
 * its chunk that finished keep their results; the others run once.
 * Counts starts per item in mp_shm. Also: task_timeout per item inside a chunk;
 * mp_last_error after a failed map names the item, status and message; wrong
 * result size names both sizes. usage: chunk_crash WORKERS */
#include "common.h"
#ifdef _WIN32
#define KILLSELF() TerminateProcess(GetCurrentProcess(), 9)
#else
#define KILLSELF() raise(SIGKILL)
#endif
/* arg: u32 mode per item: 0 ok, 1 segv, 2 abort, 3 exit(3), 4 sigkill, 5 sleep 2.5s, 6 fail, 7 wrong size, 8 sigterm */
static int t_mode(mp_call *c) {
  uint32_t m;
  mp_call_arg_read(c, &m, 4);
  mp_shm *s = mp_call_shm(c, 0);
  if (s)
    __atomic_add_fetch(&((uint32_t *)mp_shm_ptr(s))[mp_call_index(c)], 1, __ATOMIC_SEQ_CST);
  uint64_t r = mp_call_index(c) * 10 + 1;
  switch (m) {
  case 1:
    raise(SIGSEGV);
    break;
  case 2:
    abort();
  case 3:
    exit(3);
  case 4:
    KILLSELF();
    break;
  case 5:
    sleep_s(2.5);
    break;
  case 6:
    return mp_call_fail(c, "item %zu says no", mp_call_index(c));
  case 7:
    return mp_call_return(c, &r, 4);
  case 8:
    raise(SIGTERM);
    break;
  }
  return mp_call_return(c, &r, 8);
}
static const char *MODEN[] = {"ok", "segv", "abort", "exit", "sigkill", "sleep", "fail", "wrongsize", "sigterm"};
static const int WANT[] = {MP_OK,        MP_ECRASHED, MP_ECRASHED, MP_ECRASHED, MP_ECRASHED,
                           MP_ETIMEDOUT, MP_ETASK,    MP_EINVAL,   MP_ECRASHED};

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_mode);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "chunk_crash";
  watchdog(120);
  mp_shm *shm = NULL;
  MUST_OK(mp_shm_create(&shm, 4096));
  uint32_t *starts = mp_shm_ptr(shm);
  mp_object *objs[1] = {mp_shm_obj(shm)};
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = argc > 1 ? atoi(argv[1]) : 1;
  o.task_timeout = 1.0;
  o.objects = objs;
  o.nobjects = 1;
  MUST_OK(mp_pool_create(&p, &o));
  for (uint32_t mode = 1; mode <= 8; mode++) {
    for (size_t cs = 1; cs <= 7; cs += (cs == 1 ? 3 : 3)) {
      size_t n = 12;
      uint32_t in[12];
      uint64_t out[12];
      for (size_t i = 0; i < n; i++)
        in[i] = 0;
      in[5] = mode;
      if (mode != 5)
        in[9] = mode;
      memset(starts, 0, 4096);
      memset(out, 0, sizeof out);
      mp_result res[12];
      memset(res, 0, sizeof res);
      mp_map_options mo = {0};
      mo.chunksize = cs;
      mo.results = res;
      char ph[64];
      snprintf(ph, sizeof ph, "%s cs %zu", MODEN[mode], cs);
      PHASE(ph);
      double t0 = now_s();
      int rc = mp_pool_map(p, "t_mode", in, 4, n, out, 8, &mo);
      double dt = now_s() - t0;
      const char *le = mp_last_error();
      if (rc != WANT[mode])
        failf("%s: map rc %s want %s (%s)", ph, mp_err_name(rc), mp_err_name(WANT[mode]), le);
      else {
        char idx[16];
        snprintf(idx, sizeof idx, "5");
        if (!strstr(le, idx) || !strstr(le, mp_err_name(WANT[mode])))
          failf("%s: mp_last_error does not name item 5 and %s: \"%s\"", ph, mp_err_name(WANT[mode]), le);
        if (mode == 6 && !strstr(le, "item 5 says no"))
          failf("%s: mp_last_error lacks the task's message: \"%s\"", ph, le);
        if (mode == 7 && !(strstr(le, "4") && strstr(le, "8")))
          failf("%s: wrong size message lacks sizes: \"%s\"", ph, le);
        if (cs == 1 && mode == 1)
          infof("mp_last_error: %s", le);
      }
      for (size_t i = 0; i < n; i++) {
        int want = in[i] ? WANT[in[i]] : MP_OK;
        if (res[i].status != want)
          failf("%s: item %zu status %s want %s (%s)", ph, i, mp_err_name(res[i].status), mp_err_name(want),
                res[i].message ? res[i].message : "");
        if (want == MP_OK && out[i] != i * 10 + 1)
          failf("%s: item %zu out %llu", ph, i, (unsigned long long)out[i]);
        if (starts[i] != 1)
          failf("%s: item %zu started %u times", ph, i, starts[i]);
        if (want == MP_ECRASHED && (!res[i].message || !*res[i].message))
          failf("%s: item %zu crashed without message", ph, i);
        if (i == 5 && cs == 4 && res[i].message)
          infof("%s item 5: %s", ph, res[i].message);
        mp_result_clear(&res[i]);
      }
      if (mode == 5 && dt > 2.4 * 1.5 + 1)
        failf("%s: took %.2fs", ph, dt);
    }
  }
  PHASE("free");
  p = mp_pool_free(p);
  shm = mp_shm_free(shm);
  return finish();
}
