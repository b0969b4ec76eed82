/* churn_leaks: 300 pools created and freed (some with work left, some
 * terminated, some closed), 2000 chunks under max_tasks_per_child 1, 300
 * Processes: no descriptor, thread, child, zombie or memory (RSS) growth. */
#include "common.h"
static int count_threads(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.')
      n++;
  if (d)
    closedir(d);
  return n;
}
static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char l[256];
  long v = 0;
  while (f && fgets(l, sizeof l, f))
    if (!strncmp(l, "VmRSS:", 6))
      v = atol(l + 6);
  if (f)
    fclose(f);
  return v;
}
static long maps_count(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char l[512];
  long n = 0;
  while (f && fgets(l, sizeof l, f))
    n++;
  if (f)
    fclose(f);
  return n;
}
static int t_sl(mp_call *c) {
  double s = 0;
  mp_call_arg_read(c, &s, 8);
  sleep_s(s);
  return 0;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_sl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  g_test = "churn_leaks";
  watchdog(120);
  int npools = argc > 1 ? atoi(argv[1]) : 150;
  /* warm up */
  {
    mp_pool *p;
    mp_pool_create(&p, NULL);
    mp_result r = {0};
    mp_pool_apply(p, "t_pid", NULL, 0, &r);
    mp_result_clear(&r);
    mp_pool_free(p);
  }
  int fd0 = count_fds(), th0 = count_threads();
  long rss0 = rss_kb(), mp0 = maps_count();
  PHASE("pools");
  double t0 = now_s();
  for (int i = 0; i < npools; i++) {
    mp_pool *p = NULL;
    mp_pool_options o = {0};
    o.workers = 1 + i % 3;
    if (mp_pool_create(&p, &o)) {
      failf("create %d: %s", i, mp_last_error());
      break;
    }
    double s = (i % 4 == 1) ? 5 : 0;
    mp_async *a = NULL;
    mp_pool_apply_async(p, "t_sl", &s, 8, NULL, NULL, &a);
    if (i % 4 == 0) {
      mp_async_wait(a, 5);
    }
    if (i % 4 == 2) {
      mp_pool_terminate(p);
      mp_pool_join(p, 5);
    }
    if (i % 4 == 3) {
      mp_async_wait(a, 5);
      mp_pool_close(p);
      mp_pool_join(p, 5);
    }
    p = mp_pool_free(p);
    a = mp_async_free(a);
  }
  infof("%d pools in %.2fs", npools, now_s() - t0);
  sleep_s(0.2);
  int fd1 = count_fds(), th1 = count_threads(), z, ch = count_children(&z);
  long rss1 = rss_kb(), mp1 = maps_count();
  infof("after pools: fds %d->%d threads %d->%d rss %ld->%ld kB maps %ld->%ld children %d zombies %d", fd0, fd1, th0,
        th1, rss0, rss1, mp0, mp1, ch, z);
  if (fd1 != fd0)
    failf("pools leaked %d descriptors", fd1 - fd0);
  if (th1 != th0)
    failf("pools leaked %d threads", th1 - th0);
  if (ch || z)
    failf("pools left %d children %d zombies", ch, z);
  if (mp1 > mp0 + 10)
    failf("pools leaked %ld mappings", mp1 - mp0);
  if (rss1 > rss0 + 20000)
    failf("RSS grew by %ld kB over %d pools", rss1 - rss0, npools);
  PHASE("mtpc churn");
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  o.max_tasks_per_child = 1;
  MUST_OK(mp_pool_create(&p, &o));
  t0 = now_s();
  double z0 = 0;
  double in[1000];
  for (int i = 0; i < 1000; i++)
    in[i] = z0;
  mp_map_options mo = {0};
  mo.chunksize = 1;
  static unsigned char dummy[1000];
  CHECK_OK(mp_pool_map(p, "t_sl", in, 8, 1000, dummy, 0, &mo));
  infof("1000 chunks with max_tasks_per_child 1: %.2fs", now_s() - t0);
  sleep_s(0.2);
  int fd2 = count_fds(), th2 = count_threads();
  ch = count_children(&z);
  long mp2 = maps_count();
  if (fd2 > fd1 + 12)
    failf("churn: descriptors %d -> %d", fd1, fd2);
  if (z > 2)
    failf("churn: %d zombies", z);
  if (mp2 > mp1 + 20)
    failf("churn: maps %ld -> %ld", mp1, mp2);
  infof("churn: fds %d threads %d children %d zombies %d maps %ld", fd2, th2, ch, z, mp2);
  p = mp_pool_free(p);
  PHASE("processes");
  for (int i = 0; i < 300; i++) {
    mp_process *pr = NULL;
    if (mp_process_start(&pr, "t_pid", NULL, 0, NULL)) {
      failf("process %d: %s", i, mp_last_error());
      break;
    }
    if (i % 3)
      mp_process_join(pr, 5);
    pr = mp_process_free(pr);
  }
  sleep_s(0.2);
  int fd3 = count_fds(), th3 = count_threads();
  ch = count_children(&z);
  long mp3 = maps_count();
  if (fd3 != fd0)
    failf("processes: descriptors %d -> %d", fd0, fd3);
  if (th3 != th0)
    failf("processes: threads %d -> %d", th0, th3);
  if (ch || z)
    failf("processes: %d children %d zombies", ch, z);
  if (mp3 > mp0 + 10)
    failf("processes: maps %ld -> %ld", mp0, mp3);
  return finish();
}
