/* fork_stdio_dup: the parent has unflushed stdout (a file/pipe, so fully
 * buffered) and atexit handlers when it creates a pool / starts a Process with
 * fork. Workers leaving (close, free, max_tasks_per_child, killed by timeout)
 * must not print the parent's buffered text again nor run its atexit handlers
 * (nothing of the parent's code runs in a child). */
#include "common.h"
static int t_hello(mp_call *c) {
  printf("task-output %zu\n", mp_call_index(c));
  return 0;
}
static int t_sl(mp_call *c) {
  (void)c;
  sleep_s(5);
  return 0;
}
static int t_exit0(mp_call *c) {
  (void)c;
  exit(0);
}
static void on_exit_parent(void) {
  printf("ATEXIT-RAN pid %lld\n", (long long)mp_getpid());
  fflush(stdout);
}
static int child(int mode) {
  atexit(on_exit_parent);
  printf("PARENT-BUFFERED-LINE\n"); /* not flushed: stdout is a file */
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  o.max_tasks_per_child = mode == 1 ? 1 : 0;
  o.task_timeout = mode == 2 ? 0.3 : 0;
  if (mode == 3) {
    mp_process *pr = NULL;
    mp_process_start(&pr, "t_hello", NULL, 0, NULL);
    mp_process_join(pr, 5);
    mp_process_free(pr);
    return 0;
  }
  if (mode == 4) {
    mp_process *pr = NULL;
    mp_process_start(&pr, "t_exit0", NULL, 0, NULL);
    mp_process_join(pr, 5);
    mp_process_free(pr);
    return 0;
  }
  if (mp_pool_create(&p, &o))
    return 1;
  uint8_t in[6] = {0};
  mp_map_options mo = {0};
  mo.chunksize = 1;
  mp_pool_map(p, "t_hello", in, 1, 6, NULL, 0, &mo);
  if (mode == 2) {
    mp_result r = {0};
    mp_pool_apply(p, "t_sl", NULL, 0, &r);
    mp_result_clear(&r);
  }
  if (mode == 5) {
    mp_result r = {0};
    mp_pool_apply(p, "t_exit0", NULL, 0, &r);
    mp_result_clear(&r);
  }
  mp_pool_close(p);
  mp_pool_join(p, 5);
  mp_pool_free(p);
  return 0;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_hello);
  MP_REGISTER(t_sl);
  MP_REGISTER(t_exit0);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  if (argc > 2 && !strcmp(argv[1], "child"))
    return child(atoi(argv[2]));
  g_test = "fork_stdio_dup";
  watchdog(60);
  const char *names[] = {"pool close/join", "pool max_tasks_per_child 1", "pool task_timeout kill",
                         "process",         "process task exit(0)",       "pool task exit(0)"};
  for (int mode = 0; mode < 6; mode++) {
    PHASE(names[mode]);
    char path[] = "/tmp/attack10_dupXXXXXX";
    int fd = mkstemp(path);
    pid_t c = fork();
    if (c == 0) {
      dup2(fd, 1);
      char m[8];
      snprintf(m, sizeof m, "%d", mode);
      execl("/proc/self/exe", argv[0], "child", m, (char *)NULL);
      _exit(127);
    }
    int st;
    waitpid(c, &st, 0);
    FILE *f = fopen(path, "r");
    char line[256];
    int np = 0, na = 0, nt = 0;
    while (f && fgets(line, sizeof line, f)) {
      if (strstr(line, "PARENT-BUFFERED-LINE"))
        np++;
      if (strstr(line, "ATEXIT-RAN"))
        na++;
      if (strstr(line, "task-output"))
        nt++;
    }
    if (f)
      fclose(f);
    close(fd);
    if (np != 1 || na != 1)
      failf("%s: parent's buffered line appears %d times, parent's atexit ran %d times (want 1 and 1; %d task lines)",
            names[mode], np, na, nt);
    else
      unlink(path);
    if (np != 1 || na != 1)
      infof("  output kept in %s", path);
  }
  return finish();
}
