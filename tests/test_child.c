/* What a child is, seen from outside and from inside: the name ps, top and
 * core files give it (Linux: /proc/PID/comm and cmdline of a running pool
 * worker, and of a Process), the argv[0] its main() sees (the parent's,
 * with either start method), and what a fork start copies of the parent's
 * other threads: a lock one of them holds at that moment stays held in the
 * child, with nobody to release it, while a spawned child has its own. */
#define _CRT_SECURE_NO_WARNINGS /* fopen is fine here (MSVC deprecates it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

static const char *program; /* argv[0], saved before mp_main as a program might */

/* Where mproc names its workers (and /proc is the system's own: under Wine
 * a Windows program reads the Linux /proc of the wine processes). */
#if defined(__linux__)
enum { NAMED_HERE = 1 };
#else
enum { NAMED_HERE = 0 };
#endif

/* ---------------------------------------------------------------- tasks */
/* Which process and which worker ran this item (a little slowly, so both
 * workers of a pool get some). */
typedef struct whoami {
  int64_t pid;
  int64_t worker;
} whoami;

static int report_worker(mp_call *call) {
  whoami w = {mp_getpid(), mp_call_worker_id(call)};
  mp__sleep(0.01);
  return mp_call_return(call, &w, sizeof w);
}

static int report_argv0(mp_call *call) { return mp_call_return(call, program, strlen(program)); }

/* n bytes of a /proc file, '\0'-terminated; 0 where there is no such file
 * (not Linux). */
static size_t read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n;
}

static int report_comm(mp_call *call) {
  char comm[64];
  size_t n = read_file("/proc/self/comm", comm, sizeof comm);
  return mp_call_return(call, comm, n);
}

/* A library's own lock, made on first use, as libraries do: in a spawned
 * child that is a new one; a fork child has a copy of the parent's. */
static mp__mutex *library_lock;
static mp__mutex *the_library_lock(void) {
  if (!library_lock && mp__mutex_new(&library_lock) != MP_OK) abort();
  return library_lock;
}

typedef struct attempt {
  mp__mutex *m;
  mp__cond *c;
  int taken;
} attempt;

static void take_it(void *arg) {
  attempt *a = arg;
  mp__mutex_lock(the_library_lock()); /* in a fork child: forever */
  mp__mutex_lock(a->m);
  a->taken = 1;
  mp__cond_signal(a->c);
  mp__mutex_unlock(a->m);
  mp__mutex_unlock(the_library_lock());
}

/* 1 if a thread of this process gets the library's lock within a second,
 * 0 if it does not (it is left waiting, and the process ends around it:
 * what it holds stays reachable from these statics, not lost). */
static attempt the_attempt;
static mp__thread *the_taker;

static int try_library_lock(mp_call *call) {
  attempt *a = &the_attempt;
  if (mp__mutex_new(&a->m) != MP_OK || mp__cond_new(&a->c) != MP_OK ||
      mp__thread_start(&the_taker, take_it, a) != MP_OK)
    return mp_call_fail(call, "setup: %s", mp_last_error());
  double end = mp__now() + 1.0;
  mp__mutex_lock(a->m);
  while (!a->taken && mp__now() < end) mp__cond_wait(a->c, a->m, end - mp__now());
  int taken = a->taken;
  mp__mutex_unlock(a->m);
  if (taken) mp__thread_join(the_taker);
  return mp_call_return(call, &taken, sizeof taken);
}

/* ----------------------------------------------------------- the names */
static const char *basename_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* What the thread name must be, by the rule mp__worker_set_name states:
 * "prog: worker N" or "prog: process" if that fits in 15 bytes, else
 * "prog:wN" or "prog:p" with prog cut to fit. */
static void expected_name(char out[16], const char *prog, int worker) {
  char full[128], tag[16];
  if (worker >= 0) {
    snprintf(full, sizeof full, "%s: worker %d", prog, worker);
    snprintf(tag, sizeof tag, ":w%d", worker);
  } else {
    snprintf(full, sizeof full, "%s: process", prog);
    snprintf(tag, sizeof tag, ":p");
  }
  if (strlen(full) <= 15) {
    memcpy(out, full, strlen(full) + 1);
    return;
  }
  size_t keep = 15 - strlen(tag);
  if (keep > strlen(prog)) keep = strlen(prog);
  memcpy(out, prog, keep);
  memcpy(out + keep, tag, strlen(tag) + 1);
}

static void pool_workers_are_named_after_the_program(void **state) {
  (void)state;
  if (!NAMED_HERE) {
    print_message("the thread names are Linux's\n");
    skip();
  }
  char own[4096];
  size_t own_len = read_file("/proc/self/cmdline", own, sizeof own);
  assert_true(own_len > 0 || tu_under_valgrind());
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 2;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  /* The workers live while the pool does: read what ps would. */
  enum { ITEMS = 16 };
  int64_t in[ITEMS] = {0}, pid_of[2] = {0, 0};
  whoami out[ITEMS];
  mp_map_options mo = {0};
  mo.chunksize = 1;
  TU_CHECK(mp_pool_map(p, "report_worker", in, sizeof in[0], ITEMS, out, sizeof out[0], &mo), MP_OK);
  for (int i = 0; i < ITEMS; i++) {
    assert_true(out[i].worker == 0 || out[i].worker == 1);
    pid_of[out[i].worker] = out[i].pid;
  }
  for (int w = 0; w < 2; w++) {
    char path[64], want[16], cmdline[4096], comm[64];
    assert_true(pid_of[w] != 0); /* both workers ran items */
    expected_name(want, basename_of(program), w);
    snprintf(path, sizeof path, "/proc/%lld/comm", (long long)pid_of[w]);
    read_file(path, comm, sizeof comm);
    comm[strcspn(comm, "\n")] = '\0';
    print_message("worker %d (pid %lld, %s): comm \"%s\"\n", w, (long long)pid_of[w], tu_method(), comm);
    assert_string_equal(comm, want);
    if (tu_under_valgrind()) continue; /* every command line is valgrind's there */
    snprintf(path, sizeof path, "/proc/%lld/cmdline", (long long)pid_of[w]);
    size_t n = read_file(path, cmdline, sizeof cmdline);
    /* argv[0] is the parent's: the program, not /proc/self/exe. */
    assert_true(n > 0);
    assert_string_equal(cmdline, program);
    if (strcmp(tu_method(), "spawn") == 0) {
      /* Then the worker mark, and nothing else. */
      const char *mark = cmdline + strlen(cmdline) + 1;
      assert_true(mark < cmdline + n);
      assert_int_equal(strncmp(mark, "--mproc-worker=", 15), 0);
      assert_true(mark + strlen(mark) + 1 == cmdline + n);
    } else {
      /* A fork child's command line is its parent's. */
      assert_int_equal(n, own_len);
      assert_memory_equal(cmdline, own, n);
    }
  }
  mp_pool_free(p);
}

static void a_process_is_named_after_the_program(void **state) {
  (void)state;
  if (!NAMED_HERE) {
    print_message("the thread names are Linux's\n");
    skip();
  }
  mp_result r = tu_run("report_comm", NULL, 0, NULL);
  assert_int_equal(r.status, MP_OK);
  assert_true(r.len > 0);
  char want[16], comm[64];
  expected_name(want, basename_of(program), -1);
  snprintf(comm, sizeof comm, "%.*s", (int)r.len, (const char *)r.data); /* r.data has no NUL */
  comm[strcspn(comm, "\n")] = '\0';
  mp_result_clear(&r);
  assert_string_equal(comm, want);
}

/* Both start methods, whatever MPROC_START_METHOD says: a spawned child's
 * main() saw the parent's argv[0] before mp_main. */
static void a_child_sees_the_parents_argv0(void **state) {
  (void)state;
  for (int method = MP_START_FORK; method <= MP_START_SPAWN; method++) {
    /* Valgrind cannot follow an exec of /proc/self/exe (it would load its
     * own tool as the program): spawn is checked in every other leg. */
    if (method == MP_START_SPAWN && tu_under_valgrind()) continue;
    mp_process_options o = {0};
    o.start_method = method;
    mp_process *p;
    int rc = mp_process_start(&p, "report_argv0", NULL, 0, &o);
    if (rc == MP_ENOTSUP) continue; /* no fork on Windows */
    TU_CHECK(rc, MP_OK);
    mp_result r = tu_finish(p, 60);
    char seen[4096];
    snprintf(seen, sizeof seen, "%.*s", (int)r.len, (const char *)r.data);
    mp_result_clear(&r);
    assert_string_equal(seen, program);
  }
}

/* ----------------------------------------------- fork and other threads */
typedef struct holder {
  mp__mutex *m;
  mp__cond *c;
  int holding, release;
} holder;

static void hold_the_library_lock(void *arg) {
  holder *h = arg;
  mp__mutex_lock(the_library_lock());
  mp__mutex_lock(h->m);
  h->holding = 1;
  mp__cond_broadcast(h->c);
  while (!h->release) mp__cond_wait(h->c, h->m, MP_FOREVER);
  mp__mutex_unlock(h->m);
  mp__mutex_unlock(the_library_lock());
}

/* Whether a child started by method while another thread of this process
 * holds the library's lock can take that lock. */
static int child_gets_the_lock(int method) {
  mp_process_options o = {0};
  o.start_method = method;
  mp_process *p;
  int rc = mp_process_start(&p, "try_library_lock", NULL, 0, &o);
  if (rc == MP_ENOTSUP) return -1;
  TU_CHECK(rc, MP_OK);
  return tu_finish_int(p, 60);
}

static void a_lock_another_thread_holds_stays_held_after_a_fork(void **state) {
  (void)state;
  holder h = {NULL, NULL, 0, 0};
  mp__thread *t;
  TU_CHECK(mp__mutex_new(&h.m), MP_OK);
  TU_CHECK(mp__cond_new(&h.c), MP_OK);
  TU_CHECK(mp__thread_start(&t, hold_the_library_lock, &h), MP_OK);
  mp__mutex_lock(h.m);
  while (!h.holding) mp__cond_wait(h.c, h.m, MP_FOREVER);
  mp__mutex_unlock(h.m);

  int forked = child_gets_the_lock(MP_START_FORK);
  int spawned = tu_under_valgrind() ? 1 : child_gets_the_lock(MP_START_SPAWN); /* as above */
  print_message("a lock another thread holds: the fork child %s it, the spawned child %s it\n",
                forked < 0 ? "(no fork here)" : forked ? "took" : "never got", spawned ? "took" : "never got");
  if (forked >= 0) assert_int_equal(forked, 0); /* a copy, locked, with no holder to release it */
  assert_int_equal(spawned, 1);                 /* a fresh run of the program: its own lock */

  mp__mutex_lock(h.m);
  h.release = 1;
  mp__cond_broadcast(h.c);
  mp__mutex_unlock(h.m);
  mp__thread_join(t);
  mp__cond_free(h.c);
  mp__mutex_free(h.m);
}

int main(int argc, char **argv) {
  program = argv[0];
  MP_REGISTER(report_worker);
  MP_REGISTER(report_argv0);
  MP_REGISTER(report_comm);
  MP_REGISTER(try_library_lock);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(pool_workers_are_named_after_the_program),
      TU_TEST(a_process_is_named_after_the_program),
      TU_TEST(a_child_sees_the_parents_argv0),
      TU_TEST(a_lock_another_thread_holds_stays_held_after_a_fork),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
