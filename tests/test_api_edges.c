/* The API's edges, outside the pool's own calls: objects a pool holds
 * after the user freed them, the one timeout rule, accessors that say what
 * is wrong, a child's clean error, messages that name the call, and
 * predicates that never answer with an error code. */
#define _CRT_SECURE_NO_WARNINGS /* getenv, which MSVC deprecates */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

/* The message names the public function first: "fn: ..." or "fn(...". */
#define ASSERT_NAMED(fn)                                                                                     \
  do {                                                                                                       \
    const char *e_ = mp_last_error();                                                                        \
    size_t n_ = strlen(fn);                                                                                  \
    if (strncmp(e_, fn, n_) != 0 || (e_[n_] != ':' && e_[n_] != '('))                                        \
      print_error("%s:%d: the message does not start with %s: \"%s\"\n", __FILE__, __LINE__, fn, e_);        \
    assert_true(strncmp(e_, fn, n_) == 0 && (e_[n_] == ':' || e_[n_] == '('));                               \
  } while (0)

/* rc == want, and the message names fn. */
#define CHECK_NAMED(call, want, fn)                                                                          \
  do {                                                                                                       \
    TU_CHECK(call, want);                                                                                    \
    ASSERT_NAMED(fn);                                                                                        \
  } while (0)

static int return_text(mp_call *call, const char *text) { return mp_call_return(call, text, strlen(text) + 1); }

/* ------------------------------------------------------------- tasks */
/* objects: queue, lock, shm (a counter), manager. Uses each. */
static int use_everything(mp_call *call) {
  mp_queue *q = mp_call_queue(call, 0);
  mp_lock *l = mp_call_lock(call, 1);
  mp_shm *s = mp_call_shm(call, 2);
  mp_manager *m = mp_call_manager(call, 3);
  if (!q || !l || !s || !m) return mp_call_fail(call, "objects missing: %s", mp_last_error());
  if (mp_queue_put(q, "item", 4, 10) != MP_OK) return mp_call_fail(call, "put: %s", mp_last_error());
  if (mp_lock_acquire(l, 30) != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
  ++*(volatile uint32_t *)mp_shm_ptr(s);
  mp_lock_release(l);
  mp_dict *d;
  if (mp_manager_dict(m, "counts", &d) != MP_OK) return mp_call_fail(call, "dict: %s", mp_last_error());
  int rc = mp_dict_add_i64(d, "items", 1, NULL);
  mp_dict_free(d);
  return rc == MP_OK ? 0 : mp_call_fail(call, "add: %s", mp_last_error());
}

/* objects: a queue. Asks for what is not there; returns the messages. */
static int ask_wrongly(mp_call *call) {
  char out[1024];
  if (!mp_call_queue(call, 0)) return mp_call_fail(call, "the queue is missing: %s", mp_last_error());
  if (mp_call_queue(call, 5)) return mp_call_fail(call, "object 5 exists");
  size_t at = (size_t)snprintf(out, sizeof out, "%s\n", mp_last_error());
  if (mp_call_lock(call, 0)) return mp_call_fail(call, "object 0 is a lock");
  at += (size_t)snprintf(out + at, sizeof out - at, "%s\n", mp_last_error());
  if (mp_call_shm(call, 0)) return mp_call_fail(call, "object 0 is shared memory");
  snprintf(out + at, sizeof out - at, "%s", mp_last_error());
  return return_text(call, out);
}

/* No objects at all. */
static int ask_for_nothing(mp_call *call) {
  if (mp_call_event(call, 0)) return mp_call_fail(call, "an event appeared");
  return return_text(call, mp_last_error());
}

/* Returns mp_last_error() as the task finds it, and whether the worker's
 * environment mark reached it ("marked" if so). */
static int first_error(mp_call *call) {
  char out[600];
  snprintf(out, sizeof out, "%s|%s", mp_last_error(), getenv("MPROC_WORKER_TOKEN") ? "marked" : "clean");
  return return_text(call, out);
}

static mp_result run_with(const char *task, mp_object *const *objs, size_t n, int method) {
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.objects = objs;
  o.nobjects = n;
  o.start_method = method;
  mp_process *p;
  TU_CHECK(mp_process_start(&p, task, NULL, 0, &o), MP_OK);
  return tu_finish(p, 120);
}

/* -------------------------------------------- 4: a pool keeps its objects */
static void a_pool_keeps_the_objects_it_was_given(void **state) {
  (void)state;
  mp_queue *q;
  mp_lock *l;
  mp_shm *s;
  mp_manager *m;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_shm_create(&s, sizeof(uint32_t)), MP_OK);
  TU_CHECK(mp_manager_start(&m), MP_OK);
  mp_object *objs[4] = {mp_queue_obj(q), mp_lock_obj(l), mp_shm_obj(s), mp_manager_obj(m)};
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 2;
  po.max_tasks_per_child = 1; /* every chunk in a new worker, which gets the objects again */
  po.objects = objs;
  po.nobjects = 4;
  mp_pool *p;
  TU_CHECK(mp_pool_create(&p, &po), MP_OK);
  /* Freed by the user; the pool holds them still. (The counter is kept,
   * to be read below.) */
  mp_queue_free(q);
  mp_lock_free(l);
  mp_manager_free(m);
  volatile uint32_t *count = mp_shm_ptr(s);
  enum { N = 6 };
  mp_slice in[N];
  mp_result out[N];
  memset(in, 0, sizeof in);
  mp_map_options mo;
  memset(&mo, 0, sizeof mo);
  mo.chunksize = 1;
  TU_CHECK(mp_pool_map_slices(p, "use_everything", in, N, out, &mo), MP_OK);
  for (int i = 0; i < N; i++) mp_result_clear(&out[i]);
  assert_int_equal(*count, N);
  mp_pool_free(p); /* the last reference: the manager's server ends and is reaped here */
  mp_shm_free(s);
}

/* ------------------------------------------------------ 16: timeouts */
static void the_timeout_rule(const char *what, int (*call)(void *, double), void *arg) {
  const double bad[] = {-2.0, -0.5, -1e-9, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = call(arg, bad[i]);
    if (rc != MP_EINVAL) print_error("%s(timeout %g) gave %s\n", what, bad[i], mp_err_name(rc));
    assert_int_equal(rc, MP_EINVAL);
    ASSERT_NAMED(what);
    assert_non_null(strstr(mp_last_error(), "timeout"));
  }
  /* What may block: forever, and too long to count; here each is ready. */
  TU_CHECK(call(arg, INFINITY), MP_OK);
  TU_CHECK(call(arg, MP_FOREVER), MP_OK);
  TU_CHECK(call(arg, 1e300), MP_OK);
}

typedef struct objects {
  mp_lock *lock;
  mp_semaphore *sem;
  mp_event *event;
  mp_barrier *barrier;
  mp_condition *cond;
  mp_conn *rx, *tx;
  mp_queue *queue, *joinable;
} objects;

static int lock_acquire(void *a, double t) {
  mp_lock *l = ((objects *)a)->lock;
  int rc = mp_lock_acquire(l, t);
  if (rc == MP_OK) mp_lock_release(l);
  return rc;
}
static int sem_acquire(void *a, double t) {
  int rc = mp_semaphore_acquire(((objects *)a)->sem, t);
  if (rc == MP_OK) mp_semaphore_release(((objects *)a)->sem);
  return rc;
}
static int event_wait(void *a, double t) { return mp_event_wait(((objects *)a)->event, t); }
static int barrier_wait(void *a, double t) { return mp_barrier_wait(((objects *)a)->barrier, t); }
static int barrier_wait_index(void *a, double t) {
  unsigned i;
  return mp_barrier_wait_index(((objects *)a)->barrier, t, &i);
}
static int always(void *ud) {
  (void)ud;
  return 1;
}
static int cond_wait_for(void *a, double t) { return mp_condition_wait_for(((objects *)a)->cond, always, NULL, t); }
static int cond_acquire(void *a, double t) {
  int rc = mp_condition_acquire(((objects *)a)->cond, t);
  if (rc == MP_OK) mp_condition_release(((objects *)a)->cond);
  return rc;
}
/* The lock is held by this thread: a refused wait must leave it so. */
static int cond_wait(void *a, double t) {
  mp_condition *c = ((objects *)a)->cond;
  int rc = mp_condition_wait(c, t);
  if (rc == MP_EINVAL && mp_condition_notify(c, 1) != MP_OK) return -1000; /* no longer held */
  return rc == MP_ETIMEDOUT ? MP_OK : rc;
}
static int conn_recv(void *a, double t) {
  objects *o = a;
  mp_conn_send(o->tx, "x", 1);
  void *m = NULL;
  size_t n;
  int rc = mp_conn_recv(o->rx, &m, &n, t);
  mp_free(m);
  if (rc != MP_OK) (void)mp_conn_recv(o->rx, &m, &n, 0), mp_free(m); /* take it back out */
  return rc;
}
static int conn_recv_into(void *a, double t) {
  objects *o = a;
  char buf[4];
  size_t n;
  mp_conn_send(o->tx, "x", 1);
  int rc = mp_conn_recv_into(o->rx, buf, sizeof buf, &n, t);
  if (rc != MP_OK) (void)mp_conn_recv_into(o->rx, buf, sizeof buf, &n, 0);
  return rc;
}
static int queue_put(void *a, double t) {
  objects *o = a;
  int rc = mp_queue_put(o->queue, "x", 1, t);
  char buf[4];
  size_t n;
  if (rc == MP_OK) (void)mp_queue_get_into(o->queue, buf, sizeof buf, &n, 0);
  return rc;
}
static int queue_get(void *a, double t) {
  objects *o = a;
  mp_queue_put(o->queue, "x", 1, 0);
  void *m = NULL;
  size_t n;
  int rc = mp_queue_get(o->queue, &m, &n, t);
  mp_free(m);
  if (rc != MP_OK) (void)mp_queue_get(o->queue, &m, &n, 0), mp_free(m);
  return rc;
}
static int queue_get_into(void *a, double t) {
  objects *o = a;
  mp_queue_put(o->queue, "x", 1, 0);
  char buf[4];
  size_t n;
  int rc = mp_queue_get_into(o->queue, buf, sizeof buf, &n, t);
  if (rc != MP_OK) (void)mp_queue_get_into(o->queue, buf, sizeof buf, &n, 0);
  return rc;
}
static int queue_join(void *a, double t) { return mp_queue_join(((objects *)a)->joinable, t); }

static void every_blocking_call_keeps_the_timeout_rule(void **state) {
  (void)state;
  objects o;
  TU_CHECK(mp_lock_create(&o.lock, 0), MP_OK);
  TU_CHECK(mp_semaphore_create(&o.sem, 1, 0), MP_OK);
  TU_CHECK(mp_event_create(&o.event), MP_OK);
  TU_CHECK(mp_event_set(o.event), MP_OK);
  TU_CHECK(mp_barrier_create(&o.barrier, 1), MP_OK);
  TU_CHECK(mp_condition_create(&o.cond, NULL), MP_OK);
  TU_CHECK(mp_pipe(&o.rx, &o.tx, 1), MP_OK);
  mp_queue_options jo = {0, 1};
  TU_CHECK(mp_queue_create(&o.queue, NULL), MP_OK);
  TU_CHECK(mp_queue_create(&o.joinable, &jo), MP_OK);
  the_timeout_rule("mp_lock_acquire", lock_acquire, &o);
  the_timeout_rule("mp_semaphore_acquire", sem_acquire, &o);
  the_timeout_rule("mp_event_wait", event_wait, &o);
  the_timeout_rule("mp_barrier_wait", barrier_wait, &o);
  the_timeout_rule("mp_barrier_wait_index", barrier_wait_index, &o);
  the_timeout_rule("mp_condition_acquire", cond_acquire, &o);
  TU_CHECK(mp_condition_acquire(o.cond, 0), MP_OK);
  the_timeout_rule("mp_condition_wait_for", cond_wait_for, &o);
  /* A wait that is let run only times out: give it one that ends. */
  const double bad[] = {-2.0, -INFINITY, NAN};
  for (size_t i = 0; i < 3; i++) CHECK_NAMED(cond_wait(&o, bad[i]), MP_EINVAL, "mp_condition_wait");
  TU_CHECK(cond_wait(&o, 0.01), MP_OK);
  TU_CHECK(mp_condition_release(o.cond), MP_OK);
  the_timeout_rule("mp_conn_recv", conn_recv, &o);
  the_timeout_rule("mp_conn_recv_into", conn_recv_into, &o);
  the_timeout_rule("mp_queue_put", queue_put, &o);
  the_timeout_rule("mp_queue_get", queue_get, &o);
  the_timeout_rule("mp_queue_get_into", queue_get_into, &o);
  the_timeout_rule("mp_queue_join", queue_join, &o);
  /* mp_conn_poll is a predicate: it answers 1 (a receive would answer at
   * once, with MP_EINVAL) and says why. */
  assert_int_equal(mp_conn_poll(o.rx, -2.0), 1);
  ASSERT_NAMED("mp_conn_poll");
  assert_non_null(strstr(mp_last_error(), "timeout"));
  assert_int_equal(mp_conn_poll(o.rx, NAN), 1);
  assert_int_equal(mp_conn_poll(o.rx, 0), 0);
  mp_queue_free(o.joinable);
  mp_queue_free(o.queue);
  mp_conn_free(o.tx);
  mp_conn_free(o.rx);
  mp_condition_free(o.cond);
  mp_barrier_free(o.barrier);
  mp_event_free(o.event);
  mp_semaphore_free(o.sem);
  mp_lock_free(o.lock);
}

/* INFINITY really waits, until what it waits for comes. */
typedef struct later {
  mp_semaphore *sem;
  mp_lock *lock;
  mp_event *held;
} later;

static void release_later(void *arg) {
  later *l = arg;
  if (mp_lock_acquire(l->lock, 10) == MP_OK) {
    mp_event_set(l->held);
    mp__sleep(0.1);
    mp_lock_release(l->lock);
  }
  mp_semaphore_release(l->sem);
}

static void an_infinite_timeout_waits(void **state) {
  (void)state;
  const double waits[] = {INFINITY, 1e300, 1e12};
  for (int i = 0; i < 3; i++) {
    later l;
    TU_CHECK(mp_semaphore_create(&l.sem, 0, 0), MP_OK);
    TU_CHECK(mp_lock_create(&l.lock, 0), MP_OK);
    TU_CHECK(mp_event_create(&l.held), MP_OK);
    mp__thread *t;
    TU_CHECK(mp__thread_start(&t, release_later, &l), MP_OK);
    TU_CHECK(mp_event_wait(l.held, 10), MP_OK);
    TU_CHECK(mp_lock_acquire(l.lock, waits[i]), MP_OK); /* once the thread lets go */
    TU_CHECK(mp_lock_release(l.lock), MP_OK);
    TU_CHECK(mp_semaphore_acquire(l.sem, waits[i]), MP_OK);
    mp__thread_join(t);
    mp_event_free(l.held);
    mp_lock_free(l.lock);
    mp_semaphore_free(l.sem);
  }
}

/* ------------------------------------------ 17: accessors and the child */
static void accessors_say_what_is_wrong(void **state) {
  (void)state;
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  mp_object *objs[1] = {mp_queue_obj(q)};
  mp_result r = run_with("ask_wrongly", objs, 1, MP_START_DEFAULT);
  const char *text = r.data;
  assert_non_null(strstr(text, "mp_call_queue: the call has 1 object, so there is no object 5"));
  assert_non_null(strstr(text, "mp_call_lock: object 0 is a queue, not a lock"));
  assert_non_null(strstr(text, "mp_call_shm: object 0 is a queue, not shared memory"));
  mp_result_clear(&r);
  r = run_with("ask_for_nothing", NULL, 0, MP_START_DEFAULT);
  assert_string_equal(r.data, "mp_call_event: the call has no objects (list them in the options' objects)");
  mp_result_clear(&r);
  assert_null(mp_call_lock(NULL, 0));
  ASSERT_NAMED("mp_call_lock");
  mp_queue_free(q);
}

static void a_child_starts_with_a_clean_error(void **state) {
  (void)state;
  const int methods[] = {MP_START_DEFAULT, MP_START_SPAWN};
  for (int i = 0; i < 2; i++) {
    /* Valgrind cannot follow an exec of /proc/self/exe (test_bootstrap says
     * why): spawn is checked in every other leg. */
    if (methods[i] == MP_START_SPAWN && tu_under_valgrind()) continue;
    TU_CHECK(mp_lock_acquire(NULL, 0), MP_EINVAL); /* the parent's last message */
    mp_result r = run_with("first_error", NULL, 0, methods[i]);
    assert_string_equal(r.data, "|clean"); /* and the worker's mark is not in its environment */
    mp_result_clear(&r);
  }
  /* A pool's worker too. */
  TU_CHECK(mp_lock_acquire(NULL, 0), MP_EINVAL);
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 1;
  mp_pool *p;
  TU_CHECK(mp_pool_create(&p, &po), MP_OK);
  mp_result r;
  TU_CHECK(mp_pool_apply(p, "first_error", NULL, 0, &r), MP_OK);
  assert_int_equal(r.status, MP_OK);
  assert_string_equal(r.data, "|clean");
  mp_result_clear(&r);
  mp_pool_free(p);
}

/* ------------------------------------------------ 18: named messages */
static void messages_name_the_call(void **state) {
  (void)state;
  CHECK_NAMED(mp_main(0, NULL), MP_EBOOTSTRAP, "mp_main");
  /* A connection whose peer is gone. */
  mp_conn *a, *b;
  TU_CHECK(mp_pipe(&a, &b, 1), MP_OK);
  void *m;
  size_t n;
  CHECK_NAMED(mp_conn_recv(a, &m, &n, 0), MP_ETIMEDOUT, "mp_conn_recv");
  CHECK_NAMED(mp_conn_recv_into(a, NULL, 0, &n, 0.01), MP_ETIMEDOUT, "mp_conn_recv_into");
  mp_conn_free(b);
  CHECK_NAMED(mp_conn_send(a, "x", 1), MP_ECLOSED, "mp_conn_send");
  CHECK_NAMED(mp_conn_recv(a, &m, &n, 1), MP_ECLOSED, "mp_conn_recv");
  assert_int_equal(mp_conn_poll(a, 1), 1);
  ASSERT_NAMED("mp_conn_poll");
  mp_conn_free(a);
  /* Queues. */
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  CHECK_NAMED(mp_queue_get(q, &m, &n, 0.01), MP_ETIMEDOUT, "mp_queue_get");
  CHECK_NAMED(mp_queue_get_into(q, NULL, 0, &n, 0), MP_EEMPTY, "mp_queue_get_into");
  CHECK_NAMED(mp_queue_task_done(q), MP_ESTATE, "mp_queue_task_done");
  TU_CHECK(mp_queue_close(q), MP_OK);
  CHECK_NAMED(mp_queue_put(q, "x", 1, 0), MP_ECLOSED, "mp_queue_put");
  mp_queue_free(q);
  /* Synchronization objects. */
  mp_condition *c;
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  CHECK_NAMED(mp_condition_notify_all(c), MP_ESTATE, "mp_condition_notify_all");
  CHECK_NAMED(mp_condition_notify(c, 1), MP_ESTATE, "mp_condition_notify");
  CHECK_NAMED(mp_condition_wait(c, 0), MP_ESTATE, "mp_condition_wait");
  CHECK_NAMED(mp_condition_release(c), MP_ESTATE, "mp_condition_release");
  TU_CHECK(mp_condition_acquire(c, 0), MP_OK);
  CHECK_NAMED(mp_condition_wait(c, 0), MP_ETIMEDOUT, "mp_condition_wait");
  TU_CHECK(mp_condition_release(c), MP_OK);
  mp_condition_free(c);
  mp_barrier *br;
  TU_CHECK(mp_barrier_create(&br, 2), MP_OK);
  CHECK_NAMED(mp_barrier_wait_index(br, 0, NULL), MP_ETIMEDOUT, "mp_barrier_wait_index");
  CHECK_NAMED(mp_barrier_wait_index(br, 0, NULL), MP_ESTATE, "mp_barrier_wait_index");
  CHECK_NAMED(mp_barrier_wait(br, 0), MP_ESTATE, "mp_barrier_wait");
  mp_barrier_free(br);
  mp_semaphore *s;
  TU_CHECK(mp_semaphore_create(&s, 0, 1), MP_OK);
  CHECK_NAMED(mp_semaphore_acquire(s, 0), MP_ETIMEDOUT, "mp_semaphore_acquire");
  mp_semaphore_free(s);
  CHECK_NAMED(mp_shm_create(&(mp_shm *){NULL}, SIZE_MAX), MP_ETOOBIG, "mp_shm_create");
  /* A manager whose server is gone. */
  mp_manager *mg;
  mp_dict *d;
  TU_CHECK(mp_manager_start(&mg), MP_OK);
  TU_CHECK(mp_manager_dict(mg, "d", &d), MP_OK);
  TU_CHECK(mp_manager_shutdown(mg), MP_OK);
  CHECK_NAMED(mp_dict_set(d, "k", "v", 1), MP_ECLOSED, "mp_dict_set");
  CHECK_NAMED(mp_manager_list(mg, "l", &(mp_list *){NULL}), MP_ECLOSED, "mp_manager_list");
  mp_dict_free(d);
  mp_manager_free(mg);
}

/* ---------------------------------------------------- 19: predicates */
static void predicates_answer_1_or_0_only(void **state) {
  (void)state;
  /* NULL: the answer that sends the caller on to the call that reports
   * the error, and a message saying why. */
  assert_int_equal(mp_event_is_set(NULL), 0);
  ASSERT_NAMED("mp_event_is_set");
  assert_int_equal(mp_conn_poll(NULL, 0), 1);
  ASSERT_NAMED("mp_conn_poll");
  assert_int_equal(mp_process_is_alive(NULL), 0);
  assert_int_equal(mp_async_ready(NULL), 0);
  assert_int_equal(mp_is_worker(), 0);
  /* A one-way end that only sends: a receive would answer at once. */
  mp_conn *rx, *tx;
  TU_CHECK(mp_pipe(&rx, &tx, 0), MP_OK);
  assert_int_equal(mp_conn_poll(tx, 0), 1);
  ASSERT_NAMED("mp_conn_poll");
  assert_int_equal(mp_conn_poll(rx, 0), 0);
  TU_CHECK(mp_conn_send(tx, "x", 1), MP_OK);
  assert_int_equal(mp_conn_poll(rx, 10), 1);
  mp_conn_free(tx);
  mp_conn_free(rx);
  mp_event *e;
  TU_CHECK(mp_event_create(&e), MP_OK);
  assert_int_equal(mp_event_is_set(e), 0);
  TU_CHECK(mp_event_set(e), MP_OK);
  assert_int_equal(mp_event_is_set(e), 1);
  mp_event_free(e);
}

int main(int argc, char **argv) {
  MP_REGISTER(use_everything);
  MP_REGISTER(ask_wrongly);
  MP_REGISTER(ask_for_nothing);
  MP_REGISTER(first_error);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(a_pool_keeps_the_objects_it_was_given),
      TU_TEST(every_blocking_call_keeps_the_timeout_rule),
      TU_TEST(an_infinite_timeout_waits),
      TU_TEST(accessors_say_what_is_wrong),
      TU_TEST(a_child_starts_with_a_clean_error),
      TU_TEST(messages_name_the_call),
      TU_TEST(predicates_answer_1_or_0_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
