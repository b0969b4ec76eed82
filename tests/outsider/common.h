/* common.h: helpers shared by the attack programs (header-only). */
#ifndef ATTACK_COMMON_H
#define ATTACK_COMMON_H
#define _GNU_SOURCE 1
#pragma GCC diagnostic ignored "-Wunused-function"
#ifdef _WIN32
#define __USE_MINGW_ANSI_STDIO 1
#endif
#include "mproc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#ifdef _WIN32
#include <windows.h>
#include <process.h>
#include <pthread.h>
static int rand_r(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (int)((*s >> 1) & 0x7fffffff);
}
#else
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <dirent.h>
#include <sys/types.h>
#include <sys/wait.h>
#endif

static const char *g_test = "test";
static int g_fail = 0;

static double now_s(void) {
#ifdef _WIN32
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart / (double)f.QuadPart;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
#endif
}
static void sleep_s(double s) {
#ifdef _WIN32
  Sleep((DWORD)(s * 1000));
#else
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0) {
  }
#endif
}

/* note a failure but go on */
static void failf(const char *fmt, ...) MPROC_PRINTF(1, 2);
static void failf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stdout, "  fail: ");
  vfprintf(stdout, fmt, ap);
  fprintf(stdout, "\n");
  fflush(stdout);
  va_end(ap);
  g_fail++;
}
static void infof(const char *fmt, ...) MPROC_PRINTF(1, 2);
static void infof(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stdout, "  info: ");
  vfprintf(stdout, fmt, ap);
  fprintf(stdout, "\n");
  fflush(stdout);
  va_end(ap);
}
static int finish(void) {
  if (g_fail)
    printf("FAIL: %s: %d check(s) failed\n", g_test, g_fail);
  else
    printf("PASS: %s\n", g_test);
  fflush(stdout);
  return g_fail ? 1 : 0;
}

/* watchdog: a hang is a FAIL */
static double g_wd_secs;
static volatile const char *g_phase = "start";
#ifdef _WIN32
static DWORD WINAPI wd_thread(LPVOID x) {
  (void)x;
  Sleep((DWORD)(g_wd_secs * 1000));
  printf("FAIL: %s: HANG (watchdog %.0fs, phase: %s)\n", g_test, g_wd_secs, (const char *)g_phase);
  fflush(stdout);
  TerminateProcess(GetCurrentProcess(), 3);
  return 0;
}
static void watchdog(double secs) {
  g_wd_secs = secs;
  CreateThread(NULL, 0, wd_thread, NULL, 0, NULL);
}
#else
static void *wd_thread(void *x) {
  (void)x;
  sleep_s(g_wd_secs);
  printf("FAIL: %s: HANG (watchdog %.0fs, phase: %s)\n", g_test, g_wd_secs, (const char *)g_phase);
  fflush(stdout);
  _exit(3);
  return NULL;
}
static void watchdog(double secs) {
  pthread_t t;
  g_wd_secs = secs;
  pthread_create(&t, NULL, wd_thread, NULL);
  pthread_detach(t);
}
#endif
#define PHASE(s)                                                                                                       \
  do {                                                                                                                 \
    g_phase = (s);                                                                                                     \
  } while (0)

/* check a call */
#define CHECK_OK(expr)                                                                                                 \
  do {                                                                                                                 \
    int rc_ = (expr);                                                                                                  \
    if (rc_ != MP_OK)                                                                                                  \
      failf("%s:%d %s -> %s (%s)", __FILE__, __LINE__, #expr, mp_err_name(rc_), mp_last_error());                      \
  } while (0)
#define MUST_OK(expr)                                                                                                  \
  do {                                                                                                                 \
    int rc_ = (expr);                                                                                                  \
    if (rc_ != MP_OK) {                                                                                                \
      failf("%s:%d %s -> %s (%s)", __FILE__, __LINE__, #expr, mp_err_name(rc_), mp_last_error());                      \
      return finish();                                                                                                 \
    }                                                                                                                  \
  } while (0)

/* pattern */
static inline unsigned char pat(uint64_t seed, size_t i) {
  return (unsigned char)((i * 131u) ^ (seed * 7u) ^ (i >> 12));
}
static void fill_pat(unsigned char *p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = pat(seed, i);
}
static size_t check_pat(const unsigned char *p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != pat(seed, i))
      return i;
  return (size_t)-1;
}

/* -------- common tasks -------- */
static int t_echo(mp_call *c) {
  size_t n;
  const void *a = mp_call_arg(c, &n);
  return mp_call_return(c, a, n);
}
static int t_pid(mp_call *c) {
  int64_t pid = mp_getpid();
  return mp_call_return(c, &pid, sizeof pid);
}
/* arg: u64 out_len, u64 seed, then pattern(seed) bytes; returns out_len bytes of pattern(seed+1) */
static int t_sized(mp_call *c) {
  size_t n;
  const unsigned char *a = (const unsigned char *)mp_call_arg(c, &n);
  if (n < 16)
    return mp_call_fail(c, "t_sized: arg %zu < 16", n);
  uint64_t out_len, seed;
  memcpy(&out_len, a, 8);
  memcpy(&seed, a + 8, 8);
  size_t bad = check_pat(a + 16, n - 16, seed);
  if (bad != (size_t)-1)
    return mp_call_fail(c, "t_sized: arg byte %zu wrong", bad + 16);
  unsigned char *o = (unsigned char *)malloc(out_len ? out_len : 1);
  if (!o)
    return mp_call_fail(c, "t_sized: no mem for %llu", (unsigned long long)out_len);
  fill_pat(o, out_len, seed + 1);
  int rc = mp_call_return(c, o, out_len);
  free(o);
  return rc;
}
static unsigned char *make_sized_arg(size_t arg_len, uint64_t out_len, uint64_t seed) {
  if (arg_len < 16)
    arg_len = 16;
  unsigned char *a = (unsigned char *)malloc(arg_len);
  memcpy(a, &out_len, 8);
  memcpy(a + 8, &seed, 8);
  fill_pat(a + 16, arg_len - 16, seed);
  return a;
}
/* arg: double seconds; returns pid */
static int t_sleep(mp_call *c) {
  double s = 0;
  mp_call_arg_read(c, &s, sizeof s);
  sleep_s(s);
  int64_t pid = mp_getpid();
  return mp_call_return(c, &pid, sizeof pid);
}
static int t_segv(mp_call *c) {
  (void)c;
  raise(SIGSEGV);
  return 0;
}
static int t_abort(mp_call *c) {
  (void)c;
  abort();
}
static int t_exit(mp_call *c) {
  (void)c;
  exit(7);
}
static int t_failtask(mp_call *c) {
  return mp_call_fail(c, "failed on purpose idx %zu", mp_call_index(c));
}

static void common_register(void) {
  MP_REGISTER(t_echo);
  MP_REGISTER(t_pid);
  MP_REGISTER(t_sized);
  MP_REGISTER(t_sleep);
  MP_REGISTER(t_segv);
  MP_REGISTER(t_abort);
  MP_REGISTER(t_exit);
  MP_REGISTER(t_failtask);
}

#ifndef _WIN32
/* The children of this process, up to max: pids[i] and states[i] (the
 * letter of /proc/PID/stat, 'Z' for a zombie). Returns how many. */
static int list_children(int64_t *pids, char *states, int max) {
  int n = 0;
  pid_t me = getpid();
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d)) && n < max) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = 0;
    char *rp = strrchr(buf, ')');
    char st;
    int ppid;
    if (!rp || sscanf(rp + 2, "%c %d", &st, &ppid) != 2 || ppid != me)
      continue;
    pids[n] = atoll(e->d_name);
    states[n++] = st;
  }
  if (d)
    closedir(d);
  return n;
}
enum { CHILDREN_MAX = 4096 };
/* children of this process: returns count of live (non-zombie) children, zombies in *z */
static int count_children(int *zombies) {
  static int64_t pids[CHILDREN_MAX];
  static char states[CHILDREN_MAX];
  int all = list_children(pids, states, CHILDREN_MAX), n = 0, z = 0;
  for (int i = 0; i < all; i++) {
    if (states[i] == 'Z')
      z++;
    else
      n++;
  }
  if (zombies)
    *zombies = z;
  return n;
}
static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.')
      n++;
  if (d)
    closedir(d);
  return n - 1; /* the dir's own */
}
static int pid_alive(int64_t pid) {
  if (pid <= 0)
    return 0;
  if (kill((pid_t)pid, 0) != 0)
    return 0;
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t k = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[k] = 0;
  char *rp = strrchr(buf, ')');
  if (!rp)
    return 1;
  return rp[2] != 'Z';
}
#endif

static const char *start_method_name(void) {
  const char *s = getenv("MPROC_START_METHOD");
  return s ? s : "default";
}

#endif
