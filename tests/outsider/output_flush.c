/* output_flush: what tasks print reaches a file/pipe stdout: after map + free;
 * after map + close + join; after map then kill -9 of idle workers ("flushed
 * when its chunk ends"); Process too. Run as: output_flush child MODE > file, the
 * wrapper (no args) does that and counts lines. */
#include "common.h"
#include <fcntl.h>
static int t_print(mp_call *c) {
  printf("task-line %zu\n", mp_call_index(c));
  fprintf(stderr, "err-line %zu\n", mp_call_index(c));
  int64_t pid = mp_getpid();
  return mp_call_return(c, &pid, 8);
}
static int t_print_nonl(mp_call *c) {
  printf("task-line %zu", mp_call_index(c));
  printf("\n");
  int64_t pid = mp_getpid();
  return mp_call_return(c, &pid, 8);
}
static int child(int mode) {
  mp_pool *p = NULL;
  mp_pool_options o = {0};
  o.workers = 2;
  if (mp_pool_create(&p, &o))
    return 1;
  if (mode == 4) { /* Process */
    for (int i = 0; i < 6; i++) {
      mp_process *pr = NULL;
      mp_process_start(&pr, "t_print", NULL, 0, NULL);
      mp_process_join(pr, 5);
      mp_process_free(pr);
    }
    mp_pool_free(p);
    return 0;
  }
  int64_t pids[6];
  uint8_t in[6] = {0};
  mp_map_options mo = {0};
  mo.chunksize = mode == 3 ? 6 : 1;
  mp_pool_map(p, mode == 3 ? "t_print_nonl" : "t_print", in, 1, 6, pids, 8, &mo);
  switch (mode) {
  case 0:
    mp_pool_free(p);
    break;
  case 1:
    mp_pool_close(p);
    mp_pool_join(p, 5);
    mp_pool_free(p);
    break;
  case 2:
  case 3:
    sleep_s(0.1);
    for (int i = 0; i < 6; i++)
      kill((pid_t)pids[i], SIGKILL);
    sleep_s(0.2);
    mp_pool_free(p);
    break;
  }
  return 0;
}
int main(int argc, char **argv) {
  common_register();
  MP_REGISTER(t_print);
  MP_REGISTER(t_print_nonl);
  if (mp_main(argc, argv) != MP_OK) {
    printf("FAIL: mp_main\n");
    return 1;
  }
  if (argc > 2 && !strcmp(argv[1], "child"))
    return child(atoi(argv[2]));
  g_test = "output_flush";
  watchdog(60);
  const char *names[] = {"free", "close+join", "kill idle after map", "kill idle, one chunk", "process"};
  for (int mode = 0; mode < 5; mode++)
    for (int kind = 0; kind < 2; kind++) { /* file, pipe */
      PHASE(names[mode]);
      char path[] = "/tmp/attack10_outXXXXXX";
      int fd = mkstemp(path);
      int pfd[2] = {-1, -1};
      if (kind == 1) {
        if (pipe(pfd))
          return 1;
      }
      pid_t c = fork();
      if (c == 0) {
        int o = kind ? pfd[1] : fd;
        dup2(o, 1);
        dup2(o, 2);
        if (kind) {
          close(pfd[0]);
          close(pfd[1]);
        }
        char m[8];
        snprintf(m, sizeof m, "%d", mode);
        execl("/proc/self/exe", argv[0], "child", m, (char *)NULL);
        _exit(127);
      }
      if (kind == 1) {
        close(pfd[1]);
        char buf[65536];
        ssize_t k;
        while ((k = read(pfd[0], buf, sizeof buf)) > 0) {
          if (write(fd, buf, k) < 0) {
          }
        }
        close(pfd[0]);
      }
      int st;
      waitpid(c, &st, 0);
      FILE *f = fopen(path, "r");
      char line[256];
      int nl = 0, ne = 0;
      while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "task-line", 9))
          nl++;
        if (!strncmp(line, "err-line", 8))
          ne++;
      }
      if (f)
        fclose(f);
      close(fd);
      unlink(path);
      int want_e = mode == 3 ? 0 : 6;
      if (nl != 6 || ne != want_e)
        failf("%s, stdout a %s: %d/6 stdout lines, %d/%d stderr lines", names[mode], kind ? "pipe" : "file", nl, ne,
              want_e);
    }
  return finish();
}
