/* parent_death: SIGKILL the process that owns a pool at various instants and
 * check no worker (or replacement worker) outlives it. The pool runs in a
 * child (exec of this program with "child MODE"); the wrapper kills it.
 * usage: parent_death [MODE|all] [ROUNDS]  (start method from MPROC_START_METHOD) */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/prctl.h>

static int t_spin(mp_call *c) {
  double s = 0;
  mp_call_arg_read(c, &s, 8);
  double t = now_s();
  while (now_s() - t < s) {
  }
  return 0;
}
static int t_big(mp_call *c) {
  size_t n = 64u << 20;
  unsigned char *b = malloc(n);
  memset(b, 1, n);
  int rc = mp_call_return(c, b, n);
  free(b);
  return rc;
}
static int t_init_sleep(mp_call *c) {
  (void)c;
  sleep_s(3);
  return 0;
}
static int t_forker(mp_call *c) {
  (void)c;
  pid_t k = fork();
  if (k == 0) {
    prctl(PR_SET_NAME, "userkid");
    sleep_s(30);
    _exit(0);
  }
  sleep_s(10);
  return 0;
}
static int t_wid(mp_call *c) {
  int64_t v = mp_getpid();
  sleep_s(0.05);
  return mp_call_return(c, &v, 8);
}

static const char *MODES[] = {"idle",     "running",  "bigresult", "queued",   "replacing",
                              "userfork", "creating", "imap",      "taskfork", "async_cb"};
#define NMODES 10

static int rfd = -1;
static void ready(void) {
  if (rfd >= 0) {
    if (write(rfd, "R", 1) < 0) {
    }
  }
}
static int prod(void *ud, size_t i, mp_slice *it) {
  (void)ud;
  (void)i;
  static double s = 0.5;
  it->data = &s;
  it->len = 8;
  return 1;
}
static void slow_cb(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  sleep_s(10);
}

static int child(int mode) {
  const char *e = getenv("PD_FD");
  rfd = e ? atoi(e) : -1;
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  if (mode == 6) {
    o.initializer = "t_init_sleep";
    ready();
  }
  pid_t uf = 0;
  if (mode == 5) {
    uf = fork();
    if (uf == 0) {
      prctl(PR_SET_NAME, "userkid");
      sleep_s(30);
      _exit(0);
    }
  }
  if (mp_pool_create(&p, &o) != MP_OK) {
    fprintf(stderr, "child: create %s\n", mp_last_error());
    return 1;
  }
  int64_t pids[8];
  mp_map_options mo = {0};
  mo.chunksize = 1;
  mp_pool_map(p, "t_wid", pids, 1, 4, pids, 8, &mo);
  double s = 10;
  switch (mode) {
  case 0:
  case 5:
    ready();
    sleep_s(30);
    break;
  case 1:
    for (int i = 0; i < 4; i++)
      mp_pool_apply_async(p, "t_spin", &s, 8, NULL, NULL, NULL);
    sleep_s(0.2);
    ready();
    sleep_s(30);
    break;
  case 2:
    for (int i = 0; i < 40; i++)
      mp_pool_apply_async(p, "t_big", NULL, 0, NULL, NULL, NULL);
    ready();
    sleep_s(30);
    break;
  case 3: {
    s = 0.01;
    for (int i = 0; i < 1000; i++)
      mp_pool_apply_async(p, "t_spin", &s, 8, NULL, NULL, NULL);
    ready();
    sleep_s(30);
    break;
  }
  case 4: {
    ready();
    double t = now_s();
    while (now_s() - t < 30) {
      mp_pool_map(p, "t_wid", pids, 1, 4, pids, 8, &mo);
      kill((pid_t)pids[0], SIGKILL);
      kill((pid_t)pids[1], SIGKILL);
    }
    break;
  }
  case 6:
    sleep_s(30);
    break;
  case 7: {
    mp_iter *it = NULL;
    mp_imap_options io = {0};
    mp_pool_imap(p, "t_spin", prod, NULL, &io, &it);
    ready();
    mp_result r = {0};
    while (mp_iter_next(it, 30, NULL, &r) == MP_OK)
      mp_result_clear(&r);
    break;
  }
  case 8:
    mp_pool_apply_async(p, "t_forker", NULL, 0, NULL, NULL, NULL);
    sleep_s(0.3);
    ready();
    sleep_s(30);
    break;
  case 9: {
    s = 0.01;
    for (int i = 0; i < 50; i++)
      mp_pool_apply_async(p, "t_spin", &s, 8, slow_cb, NULL, NULL);
    sleep_s(0.3);
    ready();
    sleep_s(30);
    break;
  }
  }
  return 0;
}

/* processes running our executable, other than us */
static int list_ours(pid_t *out, int cap, pid_t except) {
  char self[512];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k < 0)
    return 0;
  self[k] = 0;
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    pid_t pid = atoi(de->d_name);
    if (pid == getpid() || pid == except)
      continue;
    char path[300], exe[512];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t m = readlink(path, exe, sizeof exe - 1);
    if (m < 0)
      continue;
    exe[m] = 0;
    if (strcmp(exe, self) != 0)
      continue;
    char comm[64] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *f = fopen(path, "r");
    if (f) {
      if (!fgets(comm, sizeof comm, f))
        comm[0] = 0;
      fclose(f);
    }
    if (!strncmp(comm, "userkid", 7)) {
      if (except == -1)
        kill(pid, SIGKILL);
      continue;
    }
    if (n < cap)
      out[n++] = pid;
  }
  if (d)
    closedir(d);
  return n;
}

int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_spin);
  MP_REGISTER(t_big);
  MP_REGISTER(t_init_sleep);
  MP_REGISTER(t_forker);
  MP_REGISTER(t_wid);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  if (argc > 2 && !strcmp(argv[1], "child"))
    return child(atoi(argv[2]));
  g_test = "parent_death";
  watchdog(240);
  int lo = 0, hi = NMODES - 1, rounds = argc > 2 ? atoi(argv[2]) : 3;
  if (argc > 1 && strcmp(argv[1], "all")) {
    lo = hi = atoi(argv[1]);
  }
  pid_t pre[64];
  if (list_ours(pre, 64, 0)) {
    failf("stale processes of this program exist before the test");
    return finish();
  }
  for (int mode = lo; mode <= hi; mode++)
    for (int r = 0; r < rounds; r++) {
      PHASE(MODES[mode]);
      int fds[2];
      if (pipe(fds))
        return 1;
      pid_t c = fork();
      if (c == 0) {
        close(fds[0]);
        char b[16];
        snprintf(b, sizeof b, "%d", fds[1]);
        setenv("PD_FD", b, 1);
        char m[8];
        snprintf(m, sizeof m, "%d", mode);
        execl("/proc/self/exe", argv[0], "child", m, (char *)NULL);
        _exit(127);
      }
      close(fds[1]);
      char ch;
      double t0 = now_s();
      ssize_t got = read(fds[0], &ch, 1);
      close(fds[0]);
      if (got != 1) {
        failf("%s: child never got ready", MODES[mode]);
      }
      sleep_s(0.05 + 0.15 * r);
      kill(c, SIGKILL);
      int st;
      waitpid(c, &st, 0);
      /* workers must go with it */
      pid_t left[64];
      int nl = 0;
      double tk = now_s();
      do {
        nl = list_ours(left, 64, 0);
        if (!nl)
          break;
        sleep_s(0.02);
      } while (now_s() - tk < 3.0);
      if (nl) {
        failf("%s round %d: %d process(es) of this program outlived the killed parent by 3 s (pids %d %d ...)",
              MODES[mode], r, nl, left[0], nl > 1 ? left[1] : 0);
        for (int i = 0; i < nl; i++)
          kill(left[i], SIGKILL);
        sleep_s(0.2);
      } else if (now_s() - tk > 1.0)
        infof("%s: workers took %.2fs to go", MODES[mode], now_s() - tk);
      (void)t0;
      /* the user's own fork()ed children live on by design: kill them now */
      list_ours(left, 64, -1);
    }
  return finish();
}
