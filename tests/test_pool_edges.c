/* Pool and Process at the edges of their contracts: handles used after
 * their pool is gone, a program that forks behind the library's back,
 * output a worker printed, the sentence a failed call leaves, and a
 * Process that several threads join at once. */
#define _CRT_SECURE_NO_WARNINGS /* fopen is fine here (MSVC deprecates it) */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* kill, fork, posix_spawn under -std=c11 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "platform.h"
#include "testutil.h"

/* ----------------------------------------------------------------- tasks */
static int nap(mp_call *call) {
  double s;
  if (mp_call_arg_read(call, &s, sizeof s) != MP_OK) return mp_call_fail(call, "want a double");
  mp__sleep(s);
  return mp_call_return(call, &s, sizeof s);
}

static int fail_25(mp_call *call) {
  int64_t x;
  mp_call_arg_read(call, &x, sizeof x);
  if (x == 25) return mp_call_fail(call, "twenty-five is right out");
  return mp_call_return(call, &x, sizeof x);
}

static int four_bytes(mp_call *call) { return mp_call_return(call, "abcd", 4); }

static int say(mp_call *call) {
  printf("line %llu from a worker\n", (unsigned long long)mp_call_index(call));
  return 0;
}

static int big_result(mp_call *call) {
  size_t n = (size_t)16 << 20;
  uint8_t *b = malloc(n);
  for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i * 13);
  int rc = mp_call_return(call, b, n);
  free(b);
  return rc;
}

static int worker_pid(mp_call *call) {
  int64_t pid = mp_getpid();
  mp__sleep(0.05);
  return mp_call_return(call, &pid, sizeof pid);
}

/* ------------------------------------------------ handles after the pool */
static int count_to_3(void *ud, size_t index, mp_slice *item) {
  static double s = 5;
  (void)ud;
  if (index >= 3) return 0;
  item->data = &s;
  item->len = sizeof s;
  return 1;
}

static void handles_outlive_their_pool(void **state) {
  (void)state;
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 2;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  double quick = 0, slow = 30;
  mp_async *done, *running;
  TU_CHECK(mp_pool_apply_async(p, "nap", &quick, sizeof quick, NULL, NULL, &done), MP_OK);
  TU_CHECK(mp_async_wait(done, 30), MP_OK);
  TU_CHECK(mp_pool_apply_async(p, "nap", &slow, sizeof slow, NULL, NULL, &running), MP_OK);
  mp_slice items[2] = {{&slow, sizeof slow}, {&quick, sizeof quick}};
  mp_async *mapped;
  TU_CHECK(mp_pool_map_async(p, "nap", items, 2, NULL, NULL, NULL, &mapped), MP_OK);
  mp_iter *it;
  TU_CHECK(mp_pool_imap(p, "nap", count_to_3, NULL, NULL, &it), MP_OK);
  mp_pool_free(p);
  /* The pool is gone. What was done stays readable; the rest was
   * cancelled; nothing may be asked of the pool itself. */
  TU_CHECK(mp_async_wait(done, 0), MP_OK);
  assert_int_equal(mp_async_result(done)->status, MP_OK);
  TU_CHECK(mp_async_wait(running, 0), MP_OK);
  assert_int_equal(mp_async_ready(running), 1);
  assert_int_equal(mp_async_result(running)->status, MP_ECANCELLED);
  TU_CHECK(mp_async_cancel(running), MP_ESTATE);
  size_t n;
  const mp_result *rs = mp_async_results(mapped, &n);
  assert_int_equal(n, 2);
  assert_int_equal(rs[0].status, MP_ECANCELLED);
  mp_result r;
  size_t index;
  TU_CHECK(mp_iter_next(it, 0, &index, &r), MP_ESTATE);
  assert_null(r.data);
  mp_iter_free(it);
  mp_async_free(done);
  mp_async_free(running);
  mp_async_free(mapped);
}

/* ------------------------------------------------- a sentence per failure */
static void failed_maps_say_which_item_and_why(void **state) {
  (void)state;
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 2;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  int64_t in[40], out[40];
  for (int i = 0; i < 40; i++) in[i] = i;
  TU_CHECK(mp_pool_map(p, "fail_25", in, sizeof in[0], 40, out, sizeof out[0], NULL), MP_ETASK);
  const char *e = mp_last_error();
  if (!strstr(e, "item 25") || !strstr(e, "MP_ETASK") || !strstr(e, "twenty-five is right out"))
    fail_msg("mp_last_error: %s", e);
  TU_CHECK(mp_pool_map(p, "four_bytes", in, sizeof in[0], 3, out, sizeof out[0], NULL), MP_EINVAL);
  e = mp_last_error();
  if (!strstr(e, "returned 4 bytes") || !strstr(e, "out_size 8")) fail_msg("mp_last_error: %s", e);
  mp_pool_free(p);
}

/* ---------------------------------------------------- output of workers */
typedef struct redirect {
  int saved;
#ifdef _WIN32
  HANDLE saved_handle;
#endif
} redirect;

static void stdout_to(const char *path, redirect *r) {
  fflush(stdout);
#ifdef _WIN32
  r->saved = _dup(1);
  r->saved_handle = GetStdHandle(STD_OUTPUT_HANDLE);
  int fd = _open(path, _O_WRONLY | _O_CREAT | _O_TRUNC, 0600);
  _dup2(fd, 1);
  _close(fd);
  /* Spawned workers get the handle, not the descriptor. */
  SetStdHandle(STD_OUTPUT_HANDLE, (HANDLE)_get_osfhandle(1));
#else
  r->saved = dup(1);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 1);
  close(fd);
#endif
}

static void stdout_back(redirect *r) {
  fflush(stdout);
#ifdef _WIN32
  _dup2(r->saved, 1);
  _close(r->saved);
  SetStdHandle(STD_OUTPUT_HANDLE, r->saved_handle);
#else
  dup2(r->saved, 1);
  close(r->saved);
#endif
}

static void workers_output_is_never_lost(void **state) {
  (void)state;
  char path[64];
  snprintf(path, sizeof path, "mproc-output-%lld.txt", (long long)mp_getpid());
  redirect r;
  stdout_to(path, &r);
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 2;
  int rc = mp_pool_create(&p, &o);
  mp_slice none[6];
  mp_result out[6];
  memset(none, 0, sizeof none);
  if (rc == MP_OK) rc = mp_pool_map_slices(p, "say", none, 6, out, NULL);
  mp_pool_free(p);
  stdout_back(&r);
  TU_CHECK(rc, MP_OK);
  for (int i = 0; i < 6; i++) mp_result_clear(&out[i]);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[128];
  int lines = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, "from a worker")) lines++;
  fclose(f);
  remove(path);
  assert_int_equal(lines, 6);
}

/* ------------------------------------------- a Process, many threads */
typedef struct joiner {
  mp_process *p;
  int rc;
} joiner;

static void join_it(void *arg) {
  joiner *j = arg;
  j->rc = mp_process_join(j->p, 60);
}

static void a_process_joined_by_many_threads(void **state) {
  (void)state;
  mp_process *p;
  TU_CHECK(mp_process_start(&p, "big_result", NULL, 0, NULL), MP_OK);
  /* It ends once its task has, with nobody reading its 16 MiB. */
  double t0 = mp__now();
  while (mp_process_is_alive(p) && mp__now() - t0 < 30) mp__sleep(0.01);
  assert_int_equal(mp_process_is_alive(p), 0);
  mp_process_free(p);
  for (int round = 0; round < 3; round++) {
    TU_CHECK(mp_process_start(&p, "big_result", NULL, 0, NULL), MP_OK);
    enum { N = 4 };
    joiner js[N];
    mp__thread *ts[N];
    for (int i = 0; i < N; i++) {
      js[i].p = p;
      js[i].rc = -100;
      TU_CHECK(mp__thread_start(&ts[i], join_it, &js[i]), MP_OK);
    }
    while (mp_process_is_alive(p)) {
      int code;
      mp_process_exitcode(p, &code);
      mp__yield();
    }
    for (int i = 0; i < N; i++) {
      mp__thread_join(ts[i]);
      TU_CHECK(js[i].rc, MP_OK);
    }
    mp_result r;
    TU_CHECK(mp_process_result(p, &r), MP_OK);
    assert_int_equal(r.status, MP_OK);
    assert_int_equal(r.len, (size_t)16 << 20);
    for (size_t i = 0; i < r.len; i += 4093) assert_int_equal(((uint8_t *)r.data)[i], (uint8_t)(i * 13));
    mp_result_clear(&r);
    mp_process_free(p);
  }
}

/* --------------------------------------- a program that forks by itself */
#ifndef _WIN32
static void a_plain_fork_blocks_no_close(void **state) {
  (void)state;
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 2;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    sleep(5);
    _exit(0);
  }
  assert_true(child > 0);
  char *argv[] = {"sleep", "5", NULL};
  pid_t spawned = 0;
  assert_int_equal(posix_spawnp(&spawned, "sleep", NULL, NULL, argv, NULL), 0);
  double t0 = mp__now();
  TU_CHECK(mp_pool_close(p), MP_OK);
  TU_CHECK(mp_pool_join(p, 4), MP_OK);
  assert_true(mp__now() - t0 < 3);
  mp_pool_free(p);
  kill(child, SIGKILL);
  kill(spawned, SIGKILL);
  waitpid(child, NULL, 0);
  waitpid(spawned, NULL, 0);
}

/* In a child of ours: a pool whose workers are replacements (forked by
 * its scheduler thread), then a plain fork and a posix_spawn that live
 * on; it sends the pids and waits to be killed. */
static int pool_then_fork(mp_call *call) {
  mp_conn *c = mp_call_conn(call, 0);
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 2;
  o.max_tasks_per_child = 1;
  if (mp_pool_create(&p, &o) != MP_OK) return 1;
  int64_t pids[10];
  mp_slice none[8];
  mp_result out[8];
  memset(none, 0, sizeof none);
  if (mp_pool_map_slices(p, "worker_pid", none, 8, out, NULL) != MP_OK) return 2;
  for (int i = 0; i < 8; i++) mp_result_clear(&out[i]);
  /* Now running: replacements. Their pids: */
  if (mp_pool_map_slices(p, "worker_pid", none, 2, out, NULL) != MP_OK) return 3;
  for (int i = 0; i < 2; i++) {
    pids[i] = *(int64_t *)out[i].data;
    mp_result_clear(&out[i]);
  }
  pid_t child = fork();
  if (child == 0) {
    sleep(30);
    _exit(0);
  }
  char *argv[] = {"sleep", "30", NULL};
  pid_t spawned = 0;
  posix_spawnp(&spawned, "sleep", NULL, NULL, argv, NULL);
  pids[2] = child;
  pids[3] = spawned;
  mp_conn_send(c, pids, 4 * sizeof pids[0]);
  mp__sleep(60);
  return 0;
}

static void a_plain_fork_keeps_no_worker_alive(void **state) {
  (void)state;
  /* valgrind charges a fork child with what its parent allocated after
   * its own fork, which here is a child too: the nested pool's workers
   * would read as leaking their parent's blocks. */
  if (tu_under_valgrind()) skip();
  mp_conn *rd, *wr;
  TU_CHECK(mp_pipe(&rd, &wr, 0), MP_OK);
  mp_object *obj = mp_conn_obj(wr);
  mp_process *proc = tu_start("pool_then_fork", &obj, 1, NULL, 0);
  void *data = NULL;
  size_t len = 0;
  TU_CHECK(mp_conn_recv(rd, &data, &len, 60), MP_OK);
  assert_int_equal(len, 4 * sizeof(int64_t));
  int64_t pids[4];
  memcpy(pids, data, sizeof pids);
  mp_free(data);
  TU_CHECK(mp_process_kill(proc), MP_OK);
  TU_CHECK(mp_process_join(proc, 30), MP_OK);
  /* Its workers die with it, though the plain children live on. */
  assert_true(tu_wait_gone(pids[0], 5));
  assert_true(tu_wait_gone(pids[1], 5));
  assert_true(mp__pid_alive(pids[2]) || mp__pid_alive(pids[3]));
  kill((pid_t)pids[2], SIGKILL);
  kill((pid_t)pids[3], SIGKILL);
  assert_true(tu_wait_gone(pids[2], 10) && tu_wait_gone(pids[3], 10));
  mp_process_free(proc);
  mp_conn_free(rd);
  mp_conn_free(wr);
}
#endif

/* A blocking map's progress reports never wait behind another job's slow
 * callback: the callback below holds the callback thread until the map
 * has returned (or 20 s pass, which the old design took). */
/* A cancel that comes as its item ends: the worker's kill is on its way
 * while the worker moves on to the next job's item, which must not be
 * taken down for it (it read MP_ECRASHED, "killed by signal 9", about once
 * in a CI run of threads_storm). The cancel lands at moments around the
 * end of the item, over and over. */
static void a_late_cancel_kills_no_other_job(void **state) {
  (void)state;
  mp_pool *p;
  mp_pool_options o = {0};
  o.workers = 1;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  double warm = 0;
  mp_result warmed = {0};
  TU_CHECK(mp_pool_apply(p, "nap", &warm, sizeof warm, &warmed), MP_OK);
  mp_result_clear(&warmed);
  int light = getenv("MPROC_TEST_LIGHT") || getenv("MPROC_TEST_VALGRIND");
  int rounds = light ? 10 : 60;
  for (int i = 0; i < rounds; i++) {
    double first = 0.02, second = 0.005;
    mp_async *a, *b;
    TU_CHECK(mp_pool_apply_async(p, "nap", &first, sizeof first, NULL, NULL, &a), MP_OK);
    TU_CHECK(mp_pool_apply_async(p, "nap", &second, sizeof second, NULL, NULL, &b), MP_OK);
    mp__sleep(0.018 + 0.0001 * (i % 40)); /* 18 to 22 ms: before, at and after its end */
    int rc = mp_async_cancel(a);
    assert_true(rc == MP_OK || rc == MP_ESTATE);
    TU_CHECK(mp_async_wait(a, 60), MP_OK);
    TU_CHECK(mp_async_wait(b, 60), MP_OK);
    const mp_result *ra = mp_async_result(a), *rb = mp_async_result(b);
    assert_true(ra->status == MP_OK || ra->status == MP_ECANCELLED);
    if (rb->status != MP_OK) fail_msg("round %d: the other job read %s: %s", i, mp_err_name(rb->status), rb->message);
    mp_async_free(a);
    mp_async_free(b);
  }
  mp_pool_free(p);
}

static volatile uint32_t cb_started, map_done, cb_saw_map_done;
static size_t reports, last_report;
static void slow_callback(mp_async *a, void *ud) {
  (void)a;
  (void)ud;
  mp__atomic_store32(&cb_started, 1);
  double until = mp__now() + 20;
  while (!mp__atomic_load32(&map_done) && mp__now() < until) mp__sleep(0.001);
  mp__atomic_store32(&cb_saw_map_done, mp__atomic_load32(&map_done));
}
static void count_report(size_t done, size_t total, void *ud) {
  (void)ud;
  assert_true(done <= total && done >= last_report);
  last_report = done;
  reports++;
}

static void a_blocking_map_reports_progress_past_a_slow_callback(void **state) {
  (void)state;
  mp_pool *p;
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 2;
  TU_CHECK(mp_pool_create(&p, &po), MP_OK);
  mp_async *slow;
  TU_CHECK(mp_pool_apply_async(p, "four_bytes", NULL, 0, slow_callback, NULL, &slow), MP_OK);
  while (!mp__atomic_load32(&cb_started)) mp__sleep(0.001);
  char in[8] = {0}, out[8 * 4];
  mp_map_options mo;
  memset(&mo, 0, sizeof mo);
  mo.chunksize = 1;
  mo.progress = count_report;
  TU_CHECK(mp_pool_map(p, "four_bytes", in, 1, 8, out, 4, &mo), MP_OK);
  assert_int_equal(last_report, 8); /* the last report came before the map returned */
  assert_true(reports >= 1);
  mp__atomic_store32(&map_done, 1);
  TU_CHECK(mp_async_wait(slow, 30), MP_OK);
  assert_int_equal(cb_saw_map_done, 1);
  mp_async_free(slow);
  mp_pool_free(p);
}

int main(int argc, char **argv) {
  MP_REGISTER(nap);
  MP_REGISTER(fail_25);
  MP_REGISTER(four_bytes);
  MP_REGISTER(say);
  MP_REGISTER(big_result);
  MP_REGISTER(worker_pid);
#ifndef _WIN32
  MP_REGISTER(pool_then_fork);
#endif
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(handles_outlive_their_pool),
      TU_TEST(a_blocking_map_reports_progress_past_a_slow_callback),
      TU_TEST(failed_maps_say_which_item_and_why),
      TU_TEST(workers_output_is_never_lost),
      TU_TEST(a_process_joined_by_many_threads),
      TU_TEST(a_late_cancel_kills_no_other_job),
#ifndef _WIN32
      TU_TEST(a_plain_fork_blocks_no_close),
      TU_TEST(a_plain_fork_keeps_no_worker_alive),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
