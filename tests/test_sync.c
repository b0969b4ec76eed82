/* Lock, Semaphore, Event, Barrier, Condition: across processes, with
 * timeouts, owners that die, and bad arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

/* Codes of creations tried before mp_main (recorded in main). */
static int before_main[6];

static void kill_and_reap(mp_process *p) {
  TU_CHECK(mp_process_kill(p), MP_OK);
  TU_CHECK(mp_process_join(p, 30), MP_OK);
  mp_process_free(p);
}

static int return_code(mp_call *call, int code) { return mp_call_return(call, &code, sizeof code); }

static double elapsed_since(double t0) { return mp__now() - t0; }

/* A timed wait must last at least about its timeout and, on a busy
 * machine, not absurdly longer. */
#define ASSERT_WAITED(t0, timeout)                                                                       \
  do {                                                                                                   \
    double waited_ = elapsed_since(t0);                                                                  \
    assert_true(waited_ >= (timeout)*0.9);                                                               \
    assert_true(waited_ < (timeout) + 10.0);                                                             \
  } while (0)

/* ------------------------------------------------------------- tasks */
/* objects: lock, shm (a uint64 counter). arg: iterations. */
static int count_under_lock(mp_call *call) {
  uint32_t n;
  if (mp_call_arg_read(call, &n, sizeof n) != MP_OK) return 1;
  mp_lock *l = mp_call_lock(call, 0);
  mp_shm *s = mp_call_shm(call, 1);
  if (!l || !s) return mp_call_fail(call, "objects missing");
  volatile uint64_t *counter = mp_shm_ptr(s);
  for (uint32_t i = 0; i < n; i++) {
    int rc = mp_lock_acquire(l, 60);
    if (rc != MP_OK) return mp_call_fail(call, "acquire: %s: %s", mp_err_name(rc), mp_last_error());
    *counter = *counter + 1; /* not atomic: only the lock keeps it exact */
    if ((rc = mp_lock_release(l)) != MP_OK) return mp_call_fail(call, "release: %s", mp_err_name(rc));
  }
  return 0;
}

/* objects: lock, ready event. arg: depth. Takes the lock depth times,
 * says so, and waits to be killed. */
static int hold_lock(mp_call *call) {
  uint32_t depth;
  if (mp_call_arg_read(call, &depth, sizeof depth) != MP_OK) return 1;
  mp_lock *l = mp_call_lock(call, 0);
  for (uint32_t i = 0; i < depth; i++)
    if (mp_lock_acquire(l, 60) != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
  mp_event_set(mp_call_event(call, 1));
  for (;;) mp__sleep(1);
}

/* objects: lock, ready event, go event. Holds the lock until go. */
static int hold_until_go(mp_call *call) {
  mp_lock *l = mp_call_lock(call, 0);
  if (mp_lock_acquire(l, 60) != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
  mp_event_set(mp_call_event(call, 1));
  int rc = mp_event_wait(mp_call_event(call, 2), 60);
  mp_lock_release(l);
  return return_code(call, rc);
}

/* objects: lock. Returns what acquire gave. */
static int acquire_code(mp_call *call) {
  mp_lock *l = mp_call_lock(call, 0);
  int rc = mp_lock_acquire(l, 60);
  if (rc == MP_OK || rc == MP_EOWNERDEAD) mp_lock_release(l);
  return return_code(call, rc);
}

/* objects: semaphore, lock, shm {inside, most}. At most max at a time. */
static int use_semaphore(mp_call *call) {
  mp_semaphore *s = mp_call_semaphore(call, 0);
  mp_lock *l = mp_call_lock(call, 1);
  volatile uint32_t *st = mp_shm_ptr(mp_call_shm(call, 2));
  for (int round = 0; round < 5; round++) {
    int rc = mp_semaphore_acquire(s, 60);
    if (rc != MP_OK) return mp_call_fail(call, "sem acquire: %s", mp_last_error());
    mp_lock_acquire(l, 60);
    st[0]++;
    if (st[0] > st[1]) st[1] = st[0];
    mp_lock_release(l);
    mp__sleep(0.01);
    mp_lock_acquire(l, 60);
    st[0]--;
    mp_lock_release(l);
    if ((rc = mp_semaphore_release(s)) != MP_OK) return mp_call_fail(call, "sem release: %s", mp_last_error());
  }
  return 0;
}

/* objects: semaphore. Gives one back after a moment. */
static int release_later(mp_call *call) {
  mp__sleep(0.1);
  return return_code(call, mp_semaphore_release(mp_call_semaphore(call, 0)));
}

/* objects: event in, event out. Waits for in, then sets out. */
static int event_relay(mp_call *call) {
  int rc = mp_event_wait(mp_call_event(call, 0), 60);
  if (rc == MP_OK) mp_event_set(mp_call_event(call, 1));
  return return_code(call, rc);
}

/* objects: barrier, lock, shm counter. arg: rounds. */
static int barrier_rounds(mp_call *call) {
  uint32_t rounds;
  if (mp_call_arg_read(call, &rounds, sizeof rounds) != MP_OK) return 1;
  mp_barrier *b = mp_call_barrier(call, 0);
  mp_lock *l = mp_call_lock(call, 1);
  volatile uint32_t *counter = mp_shm_ptr(mp_call_shm(call, 2));
  for (uint32_t r = 0; r < rounds; r++) {
    mp_lock_acquire(l, 60);
    ++*counter;
    mp_lock_release(l);
    int rc = mp_barrier_wait(b, 60);
    if (rc != MP_OK) return mp_call_fail(call, "barrier: %s: %s", mp_err_name(rc), mp_last_error());
    /* Everyone has counted this round; nobody can count past the next. */
    mp_lock_acquire(l, 60);
    uint32_t c = *counter;
    mp_lock_release(l);
    if (c < 4 * (r + 1) || c > 4 * (r + 1) + 3) return mp_call_fail(call, "round %u: counter %u", r, c);
  }
  return 0;
}

/* objects: barrier, ready event. Returns what a long wait gave. */
static int barrier_code(mp_call *call) {
  mp_event_set(mp_call_event(call, 1));
  return return_code(call, mp_barrier_wait(mp_call_barrier(call, 0), 60));
}

/* The shared state of the producer/consumer tests. */
typedef struct pc_state {
  uint32_t items, consumed, done, waiting;
} pc_state;

/* objects: condition, shm pc_state. Consumes until done and drained;
 * returns how many it took. */
static int consumer(mp_call *call) {
  mp_condition *c = mp_call_condition(call, 0);
  volatile pc_state *st = mp_shm_ptr(mp_call_shm(call, 1));
  int mine = 0;
  if (mp_condition_acquire(c, 60) != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
  for (;;) {
    while (st->items == 0 && !st->done) {
      int rc = mp_condition_wait(c, 60);
      if (rc != MP_OK) return mp_call_fail(call, "wait: %s: %s", mp_err_name(rc), mp_last_error());
    }
    if (st->items == 0) break;
    st->items--;
    st->consumed++;
    mine++;
  }
  mp_condition_release(c);
  return return_code(call, mine);
}

/* objects: condition, shm pc_state. Counts itself waiting, waits once. */
static int wait_once(mp_call *call) {
  mp_condition *c = mp_call_condition(call, 0);
  volatile pc_state *st = mp_shm_ptr(mp_call_shm(call, 1));
  if (mp_condition_acquire(c, 60) != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
  st->waiting++;
  int rc = mp_condition_wait(c, 60);
  st->consumed++;
  mp_condition_release(c);
  return return_code(call, rc);
}

/* objects: anything. Checks the typed accessors refuse the wrong kind. */
static int check_kinds(mp_call *call) {
  if (!mp_call_lock(call, 0) || mp_call_semaphore(call, 0) || mp_call_event(call, 0) ||
      mp_call_barrier(call, 0) || mp_call_condition(call, 0) || mp_call_shm(call, 0))
    return mp_call_fail(call, "object 0 should be a lock only");
  if (!mp_call_condition(call, 1) || mp_call_lock(call, 1)) return mp_call_fail(call, "object 1: condition");
  if (mp_call_lock(call, 2)) return mp_call_fail(call, "past the end");
  /* Freeing what the call owns does nothing; the call still has it. */
  if (mp_lock_free(mp_call_lock(call, 0)) != NULL) return 1;
  if (mp_lock_acquire(mp_call_lock(call, 0), 10) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  return mp_lock_release(mp_call_lock(call, 0)) == MP_OK ? 0 : 1;
}

/* ------------------------------------------------------------- tests */
static void created_before_main_is_refused(void **state) {
  (void)state;
  for (int i = 0; i < 5; i++) assert_int_equal(before_main[i], MP_EBOOTSTRAP);
}

static void lock_counts_exactly_across_four_processes(void **state) {
  (void)state;
  enum { P = 4, N = 100000 };
  mp_lock *l;
  mp_shm *s;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_shm_create(&s, sizeof(uint64_t)), MP_OK);
  mp_object *objs[2] = {mp_lock_obj(l), mp_shm_obj(s)};
  uint32_t n = N;
  mp_process *ps[P];
  for (int i = 0; i < P; i++) ps[i] = tu_start("count_under_lock", objs, 2, &n, sizeof n);
  for (int i = 0; i < P; i++) {
    mp_result r;
    TU_CHECK(mp_process_join(ps[i], 240), MP_OK);
    TU_CHECK(mp_process_result(ps[i], &r), MP_OK);
    if (r.status != MP_OK) print_error("child: %s\n", r.message ? r.message : "?");
    assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
    mp_process_free(ps[i]);
  }
  assert_true(*(uint64_t *)mp_shm_ptr(s) == (uint64_t)P * N);
  mp_shm_free(s);
  mp_lock_free(l);
}

static void plain_lock_in_one_process(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_ESTATE); /* not held */
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  TU_CHECK(mp_lock_acquire(l, 0), MP_ESTATE); /* would wait for itself */
  TU_CHECK(mp_lock_acquire(l, MP_FOREVER), MP_ESTATE);
  TU_CHECK(mp_lock_release(l), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_ESTATE);
  TU_CHECK(mp_lock_acquire(l, MP_FOREVER), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_OK);
  assert_null(mp_lock_free(l));
}

static void recursive_lock_depth(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 1), MP_OK);
  for (int i = 0; i < 5; i++) TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  /* Another process cannot have it until every level is released. */
  mp_object *objs[1] = {mp_lock_obj(l)};
  for (int i = 0; i < 4; i++) TU_CHECK(mp_lock_release(l), MP_OK);
  mp_process *p = tu_start("acquire_code", objs, 1, NULL, 0);
  mp__sleep(0.2);
  assert_true(mp_process_is_alive(p)); /* still waiting for the last level */
  TU_CHECK(mp_lock_release(l), MP_OK);
  assert_int_equal(tu_finish_int(p, 120), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_ESTATE);
  mp_lock_free(l);
}

/* A second thread of this process is another owner. */
typedef struct thread_try {
  mp_lock *lock;
  int acquire_rc, release_rc;
} thread_try;

static void try_from_thread(void *p) {
  thread_try *t = p;
  t->release_rc = mp_lock_release(t->lock);
  t->acquire_rc = mp_lock_acquire(t->lock, 0.05);
}

static void lock_belongs_to_its_thread(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 1), MP_OK);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  thread_try t = {l, 0, 0};
  mp__thread *th;
  TU_CHECK(mp__thread_start(&th, try_from_thread, &t), MP_OK);
  mp__thread_join(th);
  assert_int_equal(t.release_rc, MP_ESTATE);
  assert_int_equal(t.acquire_rc, MP_ETIMEDOUT);
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_lock_free(l);
}

static void lock_held_by_another_process_times_out(void **state) {
  (void)state;
  mp_lock *l;
  mp_event *ready, *go;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_event_create(&ready), MP_OK);
  TU_CHECK(mp_event_create(&go), MP_OK);
  mp_object *objs[3] = {mp_lock_obj(l), mp_event_obj(ready), mp_event_obj(go)};
  mp_process *p = tu_start("hold_until_go", objs, 3, NULL, 0);
  TU_CHECK(mp_event_wait(ready, 60), MP_OK);
  TU_CHECK(mp_lock_acquire(l, 0), MP_ETIMEDOUT);
  double t0 = mp__now();
  TU_CHECK(mp_lock_acquire(l, 0.2), MP_ETIMEDOUT);
  ASSERT_WAITED(t0, 0.2);
  TU_CHECK(mp_lock_release(l), MP_ESTATE); /* the other process holds it */
  TU_CHECK(mp_event_set(go), MP_OK);
  TU_CHECK(mp_lock_acquire(l, 60), MP_OK); /* as soon as it lets go */
  TU_CHECK(mp_lock_release(l), MP_OK);
  assert_int_equal(tu_finish_int(p, 120), MP_OK);
  mp_event_free(go);
  mp_event_free(ready);
  mp_lock_free(l);
}

/* kill -9 the holder: the next acquirer gets MP_EOWNERDEAD, holding it. */
static void owner_death(int recursive) {
  mp_lock *l;
  mp_event *ready;
  TU_CHECK(mp_lock_create(&l, recursive), MP_OK);
  TU_CHECK(mp_event_create(&ready), MP_OK);
  mp_object *objs[2] = {mp_lock_obj(l), mp_event_obj(ready)};
  uint32_t depth = recursive ? 3 : 1;
  mp_process *holder = tu_start("hold_lock", objs, 2, &depth, sizeof depth);
  TU_CHECK(mp_event_wait(ready, 60), MP_OK);
  kill_and_reap(holder);
  TU_CHECK(mp_lock_acquire(l, 30), MP_EOWNERDEAD);
  /* Held once, whatever depth the dead owner had. */
  TU_CHECK(mp_lock_release(l), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_ESTATE);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_event_free(ready);
  mp_lock_free(l);
}

static void plain_lock_owner_killed(void **state) {
  (void)state;
  owner_death(0);
}

static void recursive_lock_owner_killed(void **state) {
  (void)state;
  owner_death(1);
}

/* A process already waiting when the holder dies is the one told. */
static void waiter_is_told_when_the_holder_dies(void **state) {
  (void)state;
  mp_lock *l;
  mp_event *ready;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_event_create(&ready), MP_OK);
  mp_object *objs[2] = {mp_lock_obj(l), mp_event_obj(ready)};
  uint32_t depth = 1;
  mp_process *holder = tu_start("hold_lock", objs, 2, &depth, sizeof depth);
  TU_CHECK(mp_event_wait(ready, 60), MP_OK);
  mp_process *waiter = tu_start("acquire_code", objs, 1, NULL, 0);
  mp__sleep(0.3); /* let it block */
  kill_and_reap(holder);
  assert_int_equal(tu_finish_int(waiter, 120), MP_EOWNERDEAD);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK); /* the waiter released it */
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_event_free(ready);
  mp_lock_free(l);
}

static void semaphore_counts_and_bounds(void **state) {
  (void)state;
  mp_semaphore *s, *u;
  unsigned v = 99;
  TU_CHECK(mp_semaphore_create(&s, 2, 2), MP_OK);
  TU_CHECK(mp_semaphore_value(s, &v), MP_OK);
  assert_int_equal(v, 2);
  TU_CHECK(mp_semaphore_release(s), MP_EFULL); /* bounded: already at max */
  TU_CHECK(mp_semaphore_acquire(s, 0), MP_OK);
  TU_CHECK(mp_semaphore_acquire(s, MP_FOREVER), MP_OK);
  TU_CHECK(mp_semaphore_acquire(s, 0), MP_ETIMEDOUT);
  double t0 = mp__now();
  TU_CHECK(mp_semaphore_acquire(s, 0.2), MP_ETIMEDOUT);
  ASSERT_WAITED(t0, 0.2);
  TU_CHECK(mp_semaphore_release(s), MP_OK);
  TU_CHECK(mp_semaphore_release(s), MP_OK);
  TU_CHECK(mp_semaphore_release(s), MP_EFULL);
  TU_CHECK(mp_semaphore_value(s, &v), MP_OK);
  assert_int_equal(v, 2);
  mp_semaphore_free(s);
  /* Unbounded: release past the start value is fine. */
  TU_CHECK(mp_semaphore_create(&u, 0, 0), MP_OK);
  for (int i = 0; i < 1000; i++) TU_CHECK(mp_semaphore_release(u), MP_OK);
  for (int i = 0; i < 1000; i++) TU_CHECK(mp_semaphore_acquire(u, 0), MP_OK);
  TU_CHECK(mp_semaphore_acquire(u, 0), MP_ETIMEDOUT);
  mp_semaphore_free(u);
  TU_CHECK(mp_semaphore_create(&s, 3, 2), MP_EINVAL);
  assert_null(s);
}

static void semaphore_across_processes(void **state) {
  (void)state;
  mp_semaphore *s;
  mp_lock *l;
  mp_shm *m;
  /* A release in another process wakes a blocked acquire. */
  TU_CHECK(mp_semaphore_create(&s, 0, 0), MP_OK);
  mp_object *one[1] = {mp_semaphore_obj(s)};
  mp_process *p = tu_start("release_later", one, 1, NULL, 0);
  TU_CHECK(mp_semaphore_acquire(s, 60), MP_OK);
  assert_int_equal(tu_finish_int(p, 120), MP_OK);
  mp_semaphore_free(s);
  /* Four processes through a gate of two: never more than two inside. */
  TU_CHECK(mp_semaphore_create(&s, 2, 2), MP_OK);
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_shm_create(&m, 2 * sizeof(uint32_t)), MP_OK);
  mp_object *objs[3] = {mp_semaphore_obj(s), mp_lock_obj(l), mp_shm_obj(m)};
  mp_process *ps[4];
  for (int i = 0; i < 4; i++) ps[i] = tu_start("use_semaphore", objs, 3, NULL, 0);
  for (int i = 0; i < 4; i++) {
    mp_result r;
    TU_CHECK(mp_process_join(ps[i], 120), MP_OK);
    TU_CHECK(mp_process_result(ps[i], &r), MP_OK);
    if (r.status != MP_OK) print_error("child: %s\n", r.message ? r.message : "?");
    assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
    mp_process_free(ps[i]);
  }
  uint32_t *st = mp_shm_ptr(m);
  assert_int_equal(st[0], 0);
  assert_true(st[1] >= 1 && st[1] <= 2);
  unsigned v = 0;
  TU_CHECK(mp_semaphore_value(s, &v), MP_OK);
  assert_int_equal(v, 2);
  mp_shm_free(m);
  mp_lock_free(l);
  mp_semaphore_free(s);
}

static void event_set_clear_wait_across_processes(void **state) {
  (void)state;
  mp_event *in, *out;
  TU_CHECK(mp_event_create(&in), MP_OK);
  TU_CHECK(mp_event_create(&out), MP_OK);
  assert_int_equal(mp_event_is_set(in), 0);
  TU_CHECK(mp_event_wait(in, 0), MP_ETIMEDOUT);
  double t0 = mp__now();
  TU_CHECK(mp_event_wait(in, 0.2), MP_ETIMEDOUT);
  ASSERT_WAITED(t0, 0.2);
  mp_object *objs[2] = {mp_event_obj(in), mp_event_obj(out)};
  mp_process *p = tu_start("event_relay", objs, 2, NULL, 0);
  mp__sleep(0.05);
  assert_int_equal(mp_event_is_set(out), 0);
  TU_CHECK(mp_event_set(in), MP_OK);
  TU_CHECK(mp_event_wait(out, 60), MP_OK);
  assert_int_equal(tu_finish_int(p, 120), MP_OK);
  assert_int_equal(mp_event_is_set(in), 1);
  TU_CHECK(mp_event_set(in), MP_OK); /* twice is fine */
  TU_CHECK(mp_event_wait(in, MP_FOREVER), MP_OK);
  TU_CHECK(mp_event_clear(in), MP_OK);
  assert_int_equal(mp_event_is_set(in), 0);
  TU_CHECK(mp_event_wait(in, 0), MP_ETIMEDOUT);
  mp_event_free(out);
  mp_event_free(in);
}

static void barrier_across_four_processes(void **state) {
  (void)state;
  mp_barrier *b;
  mp_lock *l;
  mp_shm *m;
  TU_CHECK(mp_barrier_create(&b, 4), MP_OK);
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(uint32_t)), MP_OK);
  mp_object *objs[3] = {mp_barrier_obj(b), mp_lock_obj(l), mp_shm_obj(m)};
  uint32_t rounds = 50;
  mp_process *ps[4];
  for (int i = 0; i < 4; i++) ps[i] = tu_start("barrier_rounds", objs, 3, &rounds, sizeof rounds);
  for (int i = 0; i < 4; i++) {
    mp_result r;
    TU_CHECK(mp_process_join(ps[i], 120), MP_OK);
    TU_CHECK(mp_process_result(ps[i], &r), MP_OK);
    if (r.status != MP_OK) print_error("child: %s\n", r.message ? r.message : "?");
    assert_int_equal(r.status, MP_OK);
    mp_result_clear(&r);
    mp_process_free(ps[i]);
  }
  assert_int_equal(*(uint32_t *)mp_shm_ptr(m), 4 * rounds);
  mp_shm_free(m);
  mp_lock_free(l);
  mp_barrier_free(b);
}

static void barrier_broken_by_a_timeout(void **state) {
  (void)state;
  mp_barrier *b, *one;
  mp_event *ready;
  TU_CHECK(mp_barrier_create(&one, 1), MP_OK);
  TU_CHECK(mp_barrier_wait(one, 0), MP_OK); /* one party: never waits */
  mp_barrier_free(one);
  TU_CHECK(mp_barrier_create(&b, 3), MP_OK);
  TU_CHECK(mp_event_create(&ready), MP_OK);
  mp_object *objs[2] = {mp_barrier_obj(b), mp_event_obj(ready)};
  mp_process *p = tu_start("barrier_code", objs, 2, NULL, 0);
  TU_CHECK(mp_event_wait(ready, 60), MP_OK);
  mp__sleep(0.1); /* let it arrive */
  double t0 = mp__now();
  TU_CHECK(mp_barrier_wait(b, 0.3), MP_ETIMEDOUT);
  ASSERT_WAITED(t0, 0.3);
  /* The other waiter is told at once, and so is every later wait. */
  assert_int_equal(tu_finish_int(p, 120), MP_ESTATE);
  TU_CHECK(mp_barrier_wait(b, 0), MP_ESTATE);
  TU_CHECK(mp_barrier_wait(b, 10), MP_ESTATE);
  /* Reset: usable again. A wait of 0 that is not the last breaks it. */
  TU_CHECK(mp_barrier_reset(b), MP_OK);
  TU_CHECK(mp_barrier_wait(b, 0), MP_ETIMEDOUT);
  TU_CHECK(mp_barrier_reset(b), MP_OK);
  /* Abort tells a waiting party. */
  TU_CHECK(mp_event_clear(ready), MP_OK);
  p = tu_start("barrier_code", objs, 2, NULL, 0);
  TU_CHECK(mp_event_wait(ready, 60), MP_OK);
  mp__sleep(0.1);
  TU_CHECK(mp_barrier_abort(b), MP_OK);
  assert_int_equal(tu_finish_int(p, 120), MP_ESTATE);
  TU_CHECK(mp_barrier_reset(b), MP_OK);
  mp_event_free(ready);
  mp_barrier_free(b);
}

static void condition_producer_consumer(mp_lock *given) {
  enum { CONSUMERS = 3, ITEMS = 3000 };
  mp_condition *c;
  mp_shm *m;
  TU_CHECK(mp_condition_create(&c, given), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(pc_state)), MP_OK);
  volatile pc_state *st = mp_shm_ptr(m);
  mp_object *objs[2] = {mp_condition_obj(c), mp_shm_obj(m)};
  mp_process *ps[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) ps[i] = tu_start("consumer", objs, 2, NULL, 0);
  for (int i = 0; i < ITEMS; i++) {
    TU_CHECK(mp_condition_acquire(c, 60), MP_OK);
    st->items++;
    TU_CHECK(mp_condition_notify(c, 1), MP_OK);
    TU_CHECK(mp_condition_release(c), MP_OK);
  }
  TU_CHECK(mp_condition_acquire(c, 60), MP_OK);
  st->done = 1;
  TU_CHECK(mp_condition_notify_all(c), MP_OK);
  TU_CHECK(mp_condition_release(c), MP_OK);
  int total = 0;
  for (int i = 0; i < CONSUMERS; i++) total += tu_finish_int(ps[i], 120);
  assert_int_equal(total, ITEMS);
  assert_int_equal(st->consumed, ITEMS);
  assert_int_equal(st->items, 0);
  mp_shm_free(m);
  mp_condition_free(c);
}

static void condition_with_its_own_lock(void **state) {
  (void)state;
  condition_producer_consumer(NULL);
}

static void condition_with_a_given_lock(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  condition_producer_consumer(l);
  mp_lock_free(l);
}

static void condition_notify_all_and_notify_n(void **state) {
  (void)state;
  enum { W = 3 };
  mp_condition *c;
  mp_shm *m;
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(pc_state)), MP_OK);
  volatile pc_state *st = mp_shm_ptr(m);
  mp_object *objs[2] = {mp_condition_obj(c), mp_shm_obj(m)};
  mp_process *ps[W];
  for (int i = 0; i < W; i++) ps[i] = tu_start("wait_once", objs, 2, NULL, 0);
  /* Holding the lock with all three counted means all three wait. */
  for (;;) {
    TU_CHECK(mp_condition_acquire(c, 60), MP_OK);
    if (st->waiting == W) break;
    TU_CHECK(mp_condition_release(c), MP_OK);
    mp__sleep(0.01);
  }
  TU_CHECK(mp_condition_notify(c, 1), MP_OK);
  TU_CHECK(mp_condition_release(c), MP_OK);
  for (double end = mp__now() + 60; st->consumed < 1 && mp__now() < end;) mp__sleep(0.01);
  mp__sleep(0.2); /* no second one may wake */
  TU_CHECK(mp_condition_acquire(c, 60), MP_OK);
  assert_int_equal(st->consumed, 1);
  TU_CHECK(mp_condition_notify_all(c), MP_OK);
  TU_CHECK(mp_condition_release(c), MP_OK);
  for (int i = 0; i < W; i++) assert_int_equal(tu_finish_int(ps[i], 120), MP_OK);
  assert_int_equal(st->consumed, W);
  mp_shm_free(m);
  mp_condition_free(c);
}

static void condition_rules_and_timeouts(void **state) {
  (void)state;
  mp_condition *c;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 1), MP_OK);
  TU_CHECK(mp_condition_create(&c, l), MP_OK);
  TU_CHECK(mp_condition_wait(c, 0), MP_ESTATE); /* lock not held */
  TU_CHECK(mp_condition_notify(c, 1), MP_ESTATE);
  TU_CHECK(mp_condition_notify_all(c), MP_ESTATE);
  /* Held twice (recursive): wait lets go of both and takes both back. */
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  TU_CHECK(mp_condition_acquire(c, 0), MP_OK);
  TU_CHECK(mp_condition_notify(c, 5), MP_OK); /* nobody waits: nothing to do */
  TU_CHECK(mp_condition_wait(c, 0), MP_ETIMEDOUT);
  double t0 = mp__now();
  TU_CHECK(mp_condition_wait(c, 0.2), MP_ETIMEDOUT);
  ASSERT_WAITED(t0, 0.2);
  TU_CHECK(mp_lock_release(l), MP_OK);
  TU_CHECK(mp_condition_release(c), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_ESTATE);
  mp_condition_free(c);
  mp_lock_free(l);
}

static void typed_accessors_in_a_child(void **state) {
  (void)state;
  mp_lock *l;
  mp_condition *c;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  mp_object *objs[2] = {mp_lock_obj(l), mp_condition_obj(c)};
  mp_process *p = tu_start("check_kinds", objs, 2, NULL, 0);
  mp_result r;
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  if (r.status != MP_OK) print_error("child: %s\n", r.message ? r.message : "?");
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  mp_process_free(p);
  mp_condition_free(c);
  mp_lock_free(l);
}

static void bad_arguments(void **state) {
  (void)state;
  TU_CHECK(mp_lock_create(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_lock_acquire(NULL, 0), MP_EINVAL);
  assert_true(strstr(mp_last_error(), "mp_lock_acquire") != NULL);
  TU_CHECK(mp_lock_release(NULL), MP_EINVAL);
  TU_CHECK(mp_semaphore_create(NULL, 0, 0), MP_EINVAL);
  TU_CHECK(mp_semaphore_acquire(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_semaphore_release(NULL), MP_EINVAL);
  TU_CHECK(mp_semaphore_value(NULL, NULL), MP_EINVAL);
  TU_CHECK(mp_event_create(NULL), MP_EINVAL);
  TU_CHECK(mp_event_set(NULL), MP_EINVAL);
  TU_CHECK(mp_event_clear(NULL), MP_EINVAL);
  assert_int_equal(mp_event_is_set(NULL), 0); /* a predicate: 1 or 0 only */
  assert_non_null(strstr(mp_last_error(), "mp_event_is_set: NULL event"));
  TU_CHECK(mp_event_wait(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_barrier_create(NULL, 2), MP_EINVAL);
  mp_barrier *b = NULL;
  TU_CHECK(mp_barrier_create(&b, 0), MP_EINVAL);
  assert_null(b);
  TU_CHECK(mp_barrier_wait(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_barrier_reset(NULL), MP_EINVAL);
  TU_CHECK(mp_barrier_abort(NULL), MP_EINVAL);
  TU_CHECK(mp_condition_create(NULL, NULL), MP_EINVAL);
  TU_CHECK(mp_condition_wait(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_condition_notify(NULL, 1), MP_EINVAL);
  TU_CHECK(mp_condition_notify_all(NULL), MP_EINVAL);
  TU_CHECK(mp_condition_acquire(NULL, 0), MP_EINVAL);
  TU_CHECK(mp_condition_release(NULL), MP_EINVAL);
  assert_null(mp_lock_free(NULL));
  assert_null(mp_semaphore_free(NULL));
  assert_null(mp_event_free(NULL));
  assert_null(mp_barrier_free(NULL));
  assert_null(mp_condition_free(NULL));
  assert_null(mp_lock_obj(NULL));
  assert_null(mp_semaphore_obj(NULL));
  assert_null(mp_event_obj(NULL));
  assert_null(mp_barrier_obj(NULL));
  assert_null(mp_condition_obj(NULL));
  assert_null(mp_call_lock(NULL, 0));
  assert_null(mp_call_semaphore(NULL, 0));
  assert_null(mp_call_event(NULL, 0));
  assert_null(mp_call_barrier(NULL, 0));
  assert_null(mp_call_condition(NULL, 0));
}

int main(int argc, char **argv) {
  MP_REGISTER(count_under_lock);
  MP_REGISTER(hold_lock);
  MP_REGISTER(hold_until_go);
  MP_REGISTER(acquire_code);
  MP_REGISTER(use_semaphore);
  MP_REGISTER(release_later);
  MP_REGISTER(event_relay);
  MP_REGISTER(barrier_rounds);
  MP_REGISTER(barrier_code);
  MP_REGISTER(consumer);
  MP_REGISTER(wait_once);
  MP_REGISTER(check_kinds);
  {
    mp_lock *l;
    mp_semaphore *s;
    mp_event *e;
    mp_barrier *b;
    mp_condition *c;
    before_main[0] = mp_lock_create(&l, 0);
    before_main[1] = mp_semaphore_create(&s, 1, 0);
    before_main[2] = mp_event_create(&e);
    before_main[3] = mp_barrier_create(&b, 2);
    before_main[4] = mp_condition_create(&c, NULL);
  }
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(created_before_main_is_refused),
      TU_TEST(lock_counts_exactly_across_four_processes),
      TU_TEST(plain_lock_in_one_process),
      TU_TEST(recursive_lock_depth),
      TU_TEST(lock_belongs_to_its_thread),
      TU_TEST(lock_held_by_another_process_times_out),
      TU_TEST(plain_lock_owner_killed),
      TU_TEST(recursive_lock_owner_killed),
      TU_TEST(waiter_is_told_when_the_holder_dies),
      TU_TEST(semaphore_counts_and_bounds),
      TU_TEST(semaphore_across_processes),
      TU_TEST(event_set_clear_wait_across_processes),
      TU_TEST(barrier_across_four_processes),
      TU_TEST(barrier_broken_by_a_timeout),
      TU_TEST(condition_with_its_own_lock),
      TU_TEST(condition_with_a_given_lock),
      TU_TEST(condition_notify_all_and_notify_n),
      TU_TEST(condition_rules_and_timeouts),
      TU_TEST(typed_accessors_in_a_child),
      TU_TEST(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
