/* OS handles handed to children: pipes and (POSIX) files and a listening
 * socket reach exactly the children they are listed for, survive the
 * parent closing its copies, reach replacement workers; bad input fails
 * with a clear error. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

#if !defined(_WIN32)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

typedef struct write_job {
  uint32_t nhandles; /* objects 0..nhandles-1 are handles */
  char text[16];
} write_job;

/* Writes its text to every handle it was given. */
static int write_text(mp_call *call) {
  write_job j;
  if (mp_call_arg_read(call, &j, sizeof j) != MP_OK) return 1;
  for (uint32_t i = 0; i < j.nhandles; i++) {
    mp_os_handle h;
    if (mp_call_oshandle(call, i, &h) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
    if (mp__write_all((mp__handle)h, j.text, strlen(j.text)) != MP_OK)
      return mp_call_fail(call, "write %u: %s", i, mp_last_error());
  }
  int done = 0;
  return mp_call_return(call, &done, sizeof done);
}

/* 1 if the handle value in its argument is open in this child, else 0. */
static int is_open(mp_call *call) {
  int64_t v;
  if (mp_call_arg_read(call, &v, sizeof v) != MP_OK) return 2;
  int open = mp__handle_valid((mp__handle)v);
  return mp_call_return(call, &open, sizeof open);
}

/* Asks for object 0 as a handle and returns the message it got. */
static int wrong_kind(mp_call *call) {
  mp_os_handle h;
  int rc = mp_call_oshandle(call, 0, &h);
  if (rc != MP_EINVAL || (mp__handle)h != MP__NO_HANDLE) return mp_call_fail(call, "rc %d", rc);
  return mp_call_return(call, mp_last_error(), strlen(mp_last_error()) + 1);
}

static void read_exactly(mp__handle rd, const char *want) {
  char buf[256];
  size_t have = 0, n = strlen(want);
  while (have < n) {
    size_t got = 0;
    TU_CHECK(mp__read(rd, buf + have, n - have, &got, 30), MP_OK);
    have += got;
  }
  assert_memory_equal(buf, want, n);
}

static void start_writer(mp_object *const *objs, uint32_t n, const char *text) {
  write_job j;
  memset(&j, 0, sizeof j);
  j.nhandles = n;
  snprintf(j.text, sizeof j.text, "%s", text);
  mp_process *p = tu_start("write_text", objs, n, &j, sizeof j);
  assert_int_equal(tu_finish_int(p, 60), 0);
}

/* A pipe's write end handed over; the parent closes both its copies
 * right after wrapping, and the child's still writes. */
static void pipe_reaches_child_after_parent_closes(void **state) {
  (void)state;
  mp__handle rd, wr;
  TU_CHECK(mp__pipe(&rd, &wr), MP_OK);
  mp_oshandle *x = NULL;
  TU_CHECK(mp_oshandle_create(&x, (mp_os_handle)wr), MP_OK);
  mp__handle_close(wr); /* the library holds its own copy */
  assert_true(mp__handle_valid((mp__handle)mp_oshandle_get(x)));
  mp_object *o = mp_oshandle_obj(x);
  write_job j;
  memset(&j, 0, sizeof j);
  j.nhandles = 1;
  snprintf(j.text, sizeof j.text, "hello");
  mp_process *p = tu_start("write_text", &o, 1, &j, sizeof j);
  mp_oshandle_free(x); /* right after the start: the child's copy is its own */
  assert_int_equal(tu_finish_int(p, 60), 0);
  read_exactly(rd, "hello");
  size_t got = 0;
  char c;
  TU_CHECK(mp__read(rd, &c, 1, &got, 30), MP_ECLOSED); /* no writer left anywhere */
  mp__handle_close(rd);
}

/* A handle not listed does not reach a child; a listed one does. */
static void unlisted_handle_stays_home(void **state) {
  (void)state;
  mp__handle rd, wr;
  TU_CHECK(mp__pipe(&rd, &wr), MP_OK);
  mp_oshandle *x = NULL;
  TU_CHECK(mp_oshandle_create(&x, (mp_os_handle)wr), MP_OK);
  int64_t v = (int64_t)(mp__handle)mp_oshandle_get(x);
  mp_process *p = tu_start("is_open", NULL, 0, &v, sizeof v);
  assert_int_equal(tu_finish_int(p, 60), 0);
  mp_oshandle_free(x);
  mp__handle_close(rd);
  mp__handle_close(wr);
}

/* Many handles to one child, each written. */
/* 120, or what fits the descriptor limit (the portable leg runs under
 * macOS's 256): the parent holds two descriptors a handle, and a spawned
 * child places its copies above those it inherited. */
static int handles_that_fit(void) {
#ifndef _WIN32
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 520) {
    long n = ((long)rl.rlim_cur - 40) / 4;
    return n < 8 ? 8 : (int)n;
  }
#endif
  return 120;
}

static void many_handles(void **state) {
  (void)state;
  enum { MOST = 120 };
  mp__handle rd[MOST], wr[MOST];
  mp_oshandle *x[MOST];
  mp_object *objs[MOST];
  const int N = handles_that_fit();
  for (int i = 0; i < N; i++) {
    TU_CHECK(mp__pipe(&rd[i], &wr[i]), MP_OK);
    TU_CHECK(mp_oshandle_create(&x[i], (mp_os_handle)wr[i]), MP_OK);
    mp__handle_close(wr[i]);
    objs[i] = mp_oshandle_obj(x[i]);
  }
  start_writer(objs, (uint32_t)N, "m");
  for (int i = 0; i < N; i++) {
    read_exactly(rd[i], "m");
    mp_oshandle_free(x[i]);
    mp__handle_close(rd[i]);
  }
}

/* A pool whose workers leave after every task: each replacement gets the
 * handle too. */
static void replacement_workers_get_it(void **state) {
  (void)state;
  mp__handle rd, wr;
  TU_CHECK(mp__pipe(&rd, &wr), MP_OK);
  mp_oshandle *x = NULL;
  TU_CHECK(mp_oshandle_create(&x, (mp_os_handle)wr), MP_OK);
  mp__handle_close(wr);
  mp_object *o = mp_oshandle_obj(x);
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 2;
  po.max_tasks_per_child = 1;
  po.objects = &o;
  po.nobjects = 1;
  mp_pool *pool = NULL;
  TU_CHECK(mp_pool_create(&pool, &po), MP_OK);
  x = mp_oshandle_free(x); /* the pool keeps it for its replacements */
  write_job j;
  memset(&j, 0, sizeof j);
  j.nhandles = 1;
  snprintf(j.text, sizeof j.text, "r");
  for (int i = 0; i < 6; i++) {
    mp_result res;
    TU_CHECK(mp_pool_apply(pool, "write_text", &j, sizeof j, &res), MP_OK);
    assert_int_equal(res.status, MP_OK);
    mp_result_clear(&res);
  }
  read_exactly(rd, "rrrrrr");
  mp_pool_free(pool);
  mp__handle_close(rd);
}

static void bad_input(void **state) {
  (void)state;
  mp_oshandle *x = (mp_oshandle *)1;
  TU_CHECK(mp_oshandle_create(&x, (mp_os_handle)MP__NO_HANDLE), MP_EINVAL);
  assert_null(x);
  assert_non_null(strstr(mp_last_error(), "mp_oshandle_create"));
  mp__handle rd, wr;
  TU_CHECK(mp__pipe(&rd, &wr), MP_OK);
  mp__handle_close(rd);
  mp__handle_close(wr);
#if !defined(_WIN32) /* a closed HANDLE's value may be reused at once on Windows */
  TU_CHECK(mp_oshandle_create(&x, (mp_os_handle)wr), MP_EINVAL);
  assert_non_null(strstr(mp_last_error(), "not open"));
#endif
  TU_CHECK(mp_oshandle_create(NULL, (mp_os_handle)MP__NO_HANDLE), MP_EINVAL);
  mp_os_handle h;
  TU_CHECK(mp_call_oshandle(NULL, 0, &h), MP_EINVAL);
  assert_null(mp_oshandle_obj(NULL));
  assert_null(mp_oshandle_free(NULL));
  /* Another kind at the index: the message the other accessors give. */
  mp_lock *l = NULL;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  mp_object *o = mp_lock_obj(l);
  mp_process *p = tu_start("wrong_kind", &o, 1, NULL, 0);
  mp_result r = tu_finish(p, 60);
  assert_string_equal((const char *)r.data, "mp_call_oshandle: object 0 is a lock, not a handle");
  mp_result_clear(&r);
  mp_lock_free(l);
}

#if !defined(_WIN32)
/* A file: the child writes, the parent reads it back (one shared offset). */
static void file_written_by_child(void **state) {
  (void)state;
  char path[] = "/tmp/mproc_handles_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  mp_oshandle *x = NULL;
  TU_CHECK(mp_oshandle_create(&x, fd), MP_OK);
  mp_object *o = mp_oshandle_obj(x);
  start_writer(&o, 1, "in a file");
  char buf[32] = {0};
  assert_int_equal(pread(fd, buf, sizeof buf - 1, 0), 9);
  assert_string_equal(buf, "in a file");
  assert_int_equal(lseek(fd, 0, SEEK_CUR), 9); /* the child moved the shared offset */
  mp_oshandle_free(x);
  close(fd);
}

/* Accepts one connection on the listening socket and answers with its
 * worker id. */
static int accept_one(mp_call *call) {
  mp_os_handle s;
  if (mp_call_oshandle(call, 0, &s) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  int c = accept(s, NULL, NULL);
  if (c < 0) return mp_call_fail(call, "accept failed");
  char b = (char)('0' + mp_call_worker_id(call));
  ssize_t w = write(c, &b, 1);
  close(c);
  return w == 1 ? 0 : mp_call_fail(call, "write failed");
}

/* The prefork server: a listening socket handed to a pool, each worker
 * accepting the connections the parent makes. */
static void listening_socket_to_a_pool(void **state) {
  (void)state;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(ls >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(ls, 16), 0);
  assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
  mp_oshandle *x = NULL;
  TU_CHECK(mp_oshandle_create(&x, ls), MP_OK);
  close(ls); /* only the library's copies listen now */
  mp_object *o = mp_oshandle_obj(x);
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 2;
  po.objects = &o;
  po.nobjects = 1;
  mp_pool *pool = NULL;
  TU_CHECK(mp_pool_create(&pool, &po), MP_OK);
  enum { N = 8 };
  mp_async *jobs[N];
  for (int i = 0; i < N; i++) TU_CHECK(mp_pool_apply_async(pool, "accept_one", NULL, 0, NULL, NULL, &jobs[i]), MP_OK);
  for (int i = 0; i < N; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    char b = 0;
    assert_int_equal(read(c, &b, 1), 1);
    assert_true(b >= '0' && b <= '1');
    close(c);
  }
  for (int i = 0; i < N; i++) {
    TU_CHECK(mp_async_wait(jobs[i], 60), MP_OK);
    assert_int_equal(mp_async_result(jobs[i])->status, MP_OK);
    mp_async_free(jobs[i]);
  }
  mp_pool_free(pool);
  mp_oshandle_free(x);
}
#endif

int main(int argc, char **argv) {
  MP_REGISTER(write_text);
  MP_REGISTER(is_open);
  MP_REGISTER(wrong_kind);
#if !defined(_WIN32)
  MP_REGISTER(accept_one);
#endif
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(pipe_reaches_child_after_parent_closes),
      TU_TEST(unlisted_handle_stays_home),
      TU_TEST(many_handles),
      TU_TEST(replacement_workers_get_it),
      TU_TEST(bad_input),
#if !defined(_WIN32)
      TU_TEST(file_written_by_child),
      TU_TEST(listening_socket_to_a_pool),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
