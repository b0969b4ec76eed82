#define _CRT_SECURE_NO_WARNINGS /* getenv is fine here (MSVC deprecates it) */
#include "soak.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>
#endif
#if defined(__APPLE__)
#include <libproc.h>
#include <sys/proc_info.h>
#endif

/* ----------------------------------------------------------- config */
int soak_config_read(soak_config *c, const char *program) {
  memset(c, 0, sizeof *c);
  const char *s = getenv("MPROC_SOAK_SECONDS");
  if (!s || !*s) {
    printf("%s: skipped: set MPROC_SOAK_SECONDS (scripts/test --only soak does)\n", program);
    return SOAK_SKIP;
  }
  c->seconds = atof(s);
  if (c->seconds <= 0) c->seconds = 1;
  const char *r = getenv("MPROC_SOAK_REDUCED");
  c->reduced = r && *r && strcmp(r, "0") != 0;
  const char *seed = getenv("MPROC_SOAK_SEED");
  c->seed = seed && *seed ? strtoull(seed, NULL, 0) : (uint64_t)(mp__now() * 1e9) ^ (uint64_t)mp_getpid() << 32;
  if (!c->seed) c->seed = 1;
  const char *m = getenv("MPROC_START_METHOD");
  c->method = m && *m ? m : "default";
  /* A round normally shows progress every few milliseconds. Minutes of
   * none is a hang even on a loaded 2-core machine, or under Wine, whose
   * process starts are some fifty times slower. */
  c->hang = c->reduced ? 300 : 120;
  printf("%s: %s start method, %.0f s, seed 0x%llx%s\n", program, c->method, c->seconds,
         (unsigned long long)c->seed, c->reduced ? ", reduced" : "");
  fflush(stdout);
  return 0;
}

/* ----------------------------------------------------------- random */
uint64_t soak_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

double soak_uniform(uint64_t *state, double lo, double hi) {
  return lo + (hi - lo) * (double)(soak_rand(state) >> 11) / 9007199254740992.0;
}

uint64_t soak_mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t soak_checksum(const void *p, size_t n, uint64_t seed) {
  const unsigned char *b = p;
  uint64_t h = soak_mix(seed ^ n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
  return soak_mix(h);
}

/* ---------------------------------------------------------- killing */
#if defined(_WIN32)
/* The image path of a process we hold a handle to; the handle pins the
 * pid, so what we check is what we kill. */
static int same_program(HANDLE h) {
  wchar_t mine[1024], theirs[1024];
  DWORD n = 1024;
  DWORD m = GetModuleFileNameW(NULL, mine, 1024);
  if (!m || m >= 1024 || !QueryFullProcessImageNameW(h, 0, theirs, &n)) return 0;
  return _wcsicmp(mine, theirs) == 0;
}

int soak_kill_ours(int64_t pid) {
  if (pid <= 0 || pid == mp_getpid()) return 0;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
  if (!h) return 0;
  int killed = 0;
  /* While h is open the pid cannot be given to another process, so the
   * kill by pid below reaches the process just checked. */
  if (WaitForSingleObject(h, 0) == WAIT_TIMEOUT && same_program(h)) killed = mp__pid_kill(pid) == MP_OK;
  CloseHandle(h);
  return killed;
}

size_t soak_children(int64_t *out, size_t cap) {
  (void)out;
  (void)cap;
  return 0;
}
#else
/* Linux: state and parent from /proc/<pid>/stat ("pid (comm) S ppid ...";
 * comm may hold spaces and parentheses, so parse after the last ')'). */
#if defined(__linux__)
static int stat_of(int64_t pid, char *state, int64_t *ppid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')');
  long long pp = 0;
  if (!paren || sscanf(paren + 1, " %c %lld", state, &pp) != 2) return 0;
  *ppid = pp;
  return 1;
}
#endif

static int is_live_child(int64_t pid) {
#if defined(__linux__)
  char state = 0;
  int64_t ppid = 0;
  return stat_of(pid, &state, &ppid) && ppid == (int64_t)getpid() && state != 'Z' && state != 'X';
#elif defined(__APPLE__)
  struct proc_bsdinfo bi;
  if (proc_pidinfo((int)pid, PROC_PIDTBSDINFO, 0, &bi, (int)sizeof bi) != (int)sizeof bi) return 0;
  return (pid_t)bi.pbi_ppid == getpid();
#else
  /* No cheap way to ask here: trust the caller, which only names pids its
   * workers published moments ago (pids are handed out in sequence, so a
   * reuse needs the whole range to go round within that moment). */
  (void)pid;
  return 1;
#endif
}

/* Between the check and the kill the child could end and be reaped, and
 * its pid taken by a newcomer: only after the system has handed out every
 * other pid first (Linux and macOS give them in sequence), which does not
 * happen in the microseconds between two system calls. */
int soak_kill_ours(int64_t pid) {
  if (pid <= 0 || pid == mp_getpid() || !is_live_child(pid)) return 0;
  return mp__pid_kill(pid) == MP_OK;
}

size_t soak_children(int64_t *out, size_t cap) {
#if defined(__linux__)
  DIR *d = opendir("/proc");
  if (!d) return 0;
  size_t n = 0;
  struct dirent *e;
  int64_t me = (int64_t)getpid();
  while (n < cap && (e = readdir(d))) {
    char *end;
    long long pid = strtoll(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    char state;
    int64_t ppid;
    if (stat_of(pid, &state, &ppid) && ppid == me && state != 'Z') out[n++] = pid;
  }
  closedir(d);
  return n;
#else
  (void)out;
  (void)cap;
  return 0;
#endif
}
#endif

/* --------------------------------------------------------- failures */
static volatile uint32_t failures;

void soak_fail(const char *fmt, ...) {
  /* The first few say what broke; after that, only the count matters. */
  if (mp__atomic_add32(&failures, 1) <= 20) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
  }
}

int soak_failures(void) { return (int)mp__atomic_load32(&failures); }

/* --------------------------------------------------------- watchdog */
static struct {
  mp__thread *thread;
  volatile uint32_t stop;
  soak_progress_fn progress;
  void *ud;
  double hang;
} dog;

static void watchdog_main(void *arg) {
  (void)arg;
  char state[1024];
  state[0] = '\0';
  uint64_t last = dog.progress(dog.ud, state, sizeof state);
  double since = mp__now(), said = since;
  while (!mp__atomic_load32(&dog.stop)) {
    mp__sleep(0.5);
    uint64_t now = dog.progress(dog.ud, state, sizeof state);
    /* A line every half minute, so a long log shows the pace. */
    if (mp__now() - said >= 30) {
      said = mp__now();
      printf("    ... %s\n", state);
      fflush(stdout);
    }
    if (now != last) {
      last = now;
      since = mp__now();
    } else if (mp__now() - since > dog.hang) {
      printf("HANG: no progress for %.0f s: %s\n", dog.hang, state);
      fflush(stdout);
      /* Children die with us (parent-liveness pipe, job object). */
      _Exit(SOAK_HANG);
    }
  }
}

void soak_watchdog_start(const soak_config *c, soak_progress_fn progress, void *ud) {
  dog.progress = progress;
  dog.ud = ud;
  dog.hang = c->hang;
  mp__atomic_store32(&dog.stop, 0);
  if (mp__thread_start(&dog.thread, watchdog_main, NULL) != MP_OK) {
    printf("watchdog: %s\n", mp_last_error());
    exit(1);
  }
}

void soak_watchdog_stop(void) {
  if (!dog.thread) return;
  mp__atomic_store32(&dog.stop, 1);
  mp__thread_join(dog.thread);
  dog.thread = NULL;
}
