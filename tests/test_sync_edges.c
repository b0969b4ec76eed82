/* The synchronization objects at their edges: a task that returns holding
 * a lock, a lock freed while held, a condition waiter killed in its wait,
 * a barrier reset right after its round, a barrier's index, and a
 * condition's wait_for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "sync.h"
#include "testutil.h"

static int return_code(mp_call *call, int code) { return mp_call_return(call, &code, sizeof code); }

static mp_result finish_raw(mp_process *p) {
  mp_result r;
  memset(&r, 0, sizeof r);
  TU_CHECK(mp_process_join(p, 120), MP_OK);
  TU_CHECK(mp_process_result(p, &r), MP_OK);
  mp_process_free(p);
  return r;
}

static void kill_and_reap(mp_process *p) {
  TU_CHECK(mp_process_kill(p), MP_OK);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  mp_process_free(p);
}

/* The shared counters of the condition tests. */
typedef struct cond_shared {
  volatile uint32_t waiting, woken, value;
} cond_shared;

/* ------------------------------------------------------------- tasks */
/* objects: lock. arg: depth. Takes it depth times and returns holding it. */
static int return_holding(mp_call *call) {
  uint32_t depth;
  if (mp_call_arg_read(call, &depth, sizeof depth) != MP_OK) return 1;
  for (uint32_t i = 0; i < depth; i++)
    if (mp_lock_acquire(mp_call_lock(call, 0), 30) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  return 0;
}

/* objects: lock, event. Takes the lock, says so, and holds it until
 * killed. */
static int hold_until_killed(mp_call *call) {
  if (mp_lock_acquire(mp_call_lock(call, 0), 30) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
  mp_event_set(mp_call_event(call, 1));
  mp__sleep(120);
  return 0;
}

/* objects: condition. Takes its lock and returns holding it. */
static int return_holding_condition(mp_call *call) {
  int rc = mp_condition_acquire(mp_call_condition(call, 0), 30);
  return rc == MP_OK ? 0 : mp_call_fail(call, "%s", mp_last_error());
}

/* objects: lock. arg: timeout. Returns what acquire gave. */
static int acquire_code(mp_call *call) {
  double timeout;
  if (mp_call_arg_read(call, &timeout, sizeof timeout) != MP_OK) return 1;
  mp_lock *l = mp_call_lock(call, 0);
  int rc = mp_lock_acquire(l, timeout);
  if (rc == MP_OK || rc == MP_EOWNERDEAD) mp_lock_release(l);
  return return_code(call, rc);
}

/* A pool item, objects: lock. arg 0: takes the lock and returns holding
 * it; arg 1: returns what acquiring it gives (and lets it go). */
static int lock_step(mp_call *call) {
  int32_t step;
  if (mp_call_arg_read(call, &step, sizeof step) != MP_OK) return 1;
  mp_lock *l = mp_call_lock(call, 0);
  int rc = mp_lock_acquire(l, step == 0 ? 30 : 5);
  if (step != 0 && (rc == MP_OK || rc == MP_EOWNERDEAD)) mp_lock_release(l);
  return return_code(call, rc);
}

/* objects: condition, shm cond_shared. Counts itself waiting (under the
 * lock), waits once, and says how. */
static int wait_once(mp_call *call) {
  mp_condition *c = mp_call_condition(call, 0);
  volatile cond_shared *st = mp_shm_ptr(mp_call_shm(call, 1));
  if (mp_condition_acquire(c, 60) != MP_OK) return mp_call_fail(call, "acquire: %s", mp_last_error());
  st->waiting++;
  int rc = mp_condition_wait(c, 60);
  st->woken++;
  mp_condition_release(c);
  return return_code(call, rc);
}

/* objects: condition, shm cond_shared. Raises value to 3, notifying each time. */
static int raise_value(mp_call *call) {
  mp_condition *c = mp_call_condition(call, 0);
  volatile cond_shared *st = mp_shm_ptr(mp_call_shm(call, 1));
  for (int i = 0; i < 3; i++) {
    mp__sleep(0.02);
    if (mp_condition_acquire(c, 60) != MP_OK) return mp_call_fail(call, "%s", mp_last_error());
    st->value++;
    mp_condition_notify_all(c);
    mp_condition_release(c);
  }
  return 0;
}

/* objects: barrier, shm uint32 places[rounds * 4]. arg: {party, rounds}. */
static int record_places(mp_call *call) {
  uint32_t a[2];
  if (mp_call_arg_read(call, a, sizeof a) != MP_OK) return 1;
  mp_barrier *b = mp_call_barrier(call, 0);
  volatile uint32_t *places = mp_shm_ptr(mp_call_shm(call, 1));
  for (uint32_t r = 0; r < a[1]; r++) {
    unsigned index = 99;
    int rc = mp_barrier_wait_index(b, 60, &index);
    if (rc != MP_OK) return mp_call_fail(call, "round %u: %s", r, mp_last_error());
    places[r * 4 + a[0]] = index;
  }
  return 0;
}

/* ------------------------------------------- 11: returning holding a lock */
static void returned_holding(int recursive, uint32_t depth) {
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, recursive), MP_OK);
  mp_object *objs[1] = {mp_lock_obj(l)};
  mp_result r = finish_raw(tu_start("return_holding", objs, 1, &depth, sizeof depth));
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  /* As if the holder had died: the next acquirer is told, and holds it once. */
  TU_CHECK(mp_lock_acquire(l, 10), MP_EOWNERDEAD);
  assert_non_null(strstr(mp_last_error(), "mp_lock_acquire: "));
  TU_CHECK(mp_lock_release(l), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_ESTATE);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK); /* told once */
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_lock_free(l);
}

static void a_process_that_returns_holding_a_lock_hands_it_on(void **state) {
  (void)state;
  returned_holding(0, 1);
}

static void a_process_that_returns_holding_an_rlock_hands_it_on(void **state) {
  (void)state;
  returned_holding(1, 3);
}

static void another_process_waiting_is_told(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  mp_object *objs[1] = {mp_lock_obj(l)};
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  double timeout = 30;
  mp_process *waiter = tu_start("acquire_code", objs, 1, &timeout, sizeof timeout);
  uint32_t depth = 1;
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_process *holder = tu_start("return_holding", objs, 1, &depth, sizeof depth);
  mp_result r = finish_raw(holder);
  mp_result_clear(&r);
  /* The waiter got the lock either before the holder (MP_OK) or from it. */
  int got = tu_finish_int(waiter, 120);
  assert_true(got == MP_OK || got == MP_EOWNERDEAD);
  if (got == MP_OK) TU_CHECK(mp_lock_acquire(l, 10), MP_EOWNERDEAD);
  else TU_CHECK(mp_lock_acquire(l, 10), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_lock_free(l);
}

static void a_condition_s_lock_held_at_return_is_handed_on(void **state) {
  (void)state;
  mp_condition *c;
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  mp_object *objs[1] = {mp_condition_obj(c)};
  mp_result r = finish_raw(tu_start("return_holding_condition", objs, 1, NULL, 0));
  assert_int_equal(r.status, MP_OK);
  mp_result_clear(&r);
  TU_CHECK(mp_condition_acquire(c, 10), MP_EOWNERDEAD);
  assert_non_null(strstr(mp_last_error(), "mp_condition_acquire: "));
  TU_CHECK(mp_condition_release(c), MP_OK);
  mp_condition_free(c);
}

/* One pool worker runs both items on one thread: the lock the first left
 * held must not still be its own when the second asks for it. */
static void a_pool_task_does_not_leave_its_lock_to_the_next(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  mp_object *objs[1] = {mp_lock_obj(l)};
  mp_pool_options po;
  memset(&po, 0, sizeof po);
  po.workers = 1;
  po.objects = objs;
  po.nobjects = 1;
  mp_pool *p;
  TU_CHECK(mp_pool_create(&p, &po), MP_OK);
  for (int round = 0; round < 2; round++) {
    int32_t steps[2] = {0, 1}, codes[2] = {-100, -100};
    mp_map_options mo;
    memset(&mo, 0, sizeof mo);
    mo.chunksize = (size_t)round + 1; /* one chunk each, then both in one */
    TU_CHECK(mp_pool_map(p, "lock_step", steps, sizeof steps[0], 2, codes, sizeof codes[0], &mo), MP_OK);
    assert_int_equal(codes[0], MP_OK);
    assert_int_equal(codes[1], MP_EOWNERDEAD);
  }
  TU_CHECK(mp_lock_acquire(l, 10), MP_OK); /* the second item let go of it */
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_pool_free(p);
  mp_lock_free(l);
}

/* ------------------------------------------------ 14: freeing a held lock */
static void freeing_a_held_lock_is_safe(void **state) {
  (void)state;
  for (int recursive = 0; recursive < 2; recursive++) {
    mp_lock *l;
    TU_CHECK(mp_lock_create(&l, recursive), MP_OK);
    for (int i = 0; i <= recursive * 2; i++) TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
    mp_lock_free(l);
    /* Other robust locks of this thread work on: the freed one is not left
     * in this thread's list of held locks. */
    mp_queue *q;
    TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
    for (int i = 0; i < 100; i++) {
      char buf[8];
      size_t n;
      TU_CHECK(mp_queue_put(q, "message", 7, 10), MP_OK);
      TU_CHECK(mp_queue_get_into(q, buf, sizeof buf, &n, 10), MP_OK);
    }
    mp_queue_free(q);
  }
}

static void a_process_waiting_on_a_lock_freed_while_held_is_told(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  mp_object *objs[1] = {mp_lock_obj(l)};
  double timeout = 30;
  mp_process *waiter = tu_start("acquire_code", objs, 1, &timeout, sizeof timeout);
  mp__sleep(0.2); /* let it block */
  mp_lock_free(l);
  assert_int_equal(tu_finish_int(waiter, 120), MP_EOWNERDEAD);
}

/* A sibling thread holds the lock when this one frees it: nothing breaks. */
typedef struct sibling {
  mp_lock *lock;
  mp_event *held, *freed;
  int rc;
} sibling;

static void hold_through_the_free(void *arg) {
  sibling *s = arg;
  s->rc = mp_lock_acquire(s->lock, 10);
  mp_event_set(s->held);
  if (mp_event_wait(s->freed, 30) != MP_OK) s->rc = -100;
  mp_queue *q;
  if (mp_queue_create(&q, NULL) == MP_OK) {
    for (int i = 0; i < 50; i++) {
      char buf[8];
      size_t n;
      if (mp_queue_put(q, "x", 1, 10) != MP_OK || mp_queue_get_into(q, buf, sizeof buf, &n, 10) != MP_OK)
        s->rc = -101;
    }
    mp_queue_free(q);
  }
}

static void freeing_a_lock_another_thread_holds_is_safe(void **state) {
  (void)state;
  sibling s;
  memset(&s, 0, sizeof s);
  TU_CHECK(mp_lock_create(&s.lock, 0), MP_OK);
  TU_CHECK(mp_event_create(&s.held), MP_OK);
  TU_CHECK(mp_event_create(&s.freed), MP_OK);
  mp__thread *t;
  TU_CHECK(mp__thread_start(&t, hold_through_the_free, &s), MP_OK);
  TU_CHECK(mp_event_wait(s.held, 30), MP_OK);
  mp_lock_free(s.lock);
  mp_event_set(s.freed);
  mp__thread_join(t);
  assert_int_equal(s.rc, MP_OK);
  mp_event_free(s.freed);
  mp_event_free(s.held);
}

/* A holder killed and not yet reaped (a zombie on POSIX): its lock is
 * handed on all the same, not held until someone joins it. */
static void a_lock_whose_holder_was_killed_and_not_reaped_is_handed_on(void **state) {
  (void)state;
  mp_lock *l;
  mp_event *held;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_event_create(&held), MP_OK);
  mp_object *objs[2] = {mp_lock_obj(l), mp_event_obj(held)};
  mp_process *p = tu_start("hold_until_killed", objs, 2, NULL, 0);
  TU_CHECK(mp_event_wait(held, 60), MP_OK);
  int64_t pid = mp_process_pid(p);
  TU_CHECK(mp_process_kill(p), MP_OK);
  assert_true(tu_wait_gone(pid, 60));
  TU_CHECK(mp_lock_acquire(l, 30), MP_EOWNERDEAD);
  TU_CHECK(mp_lock_release(l), MP_OK);
  TU_CHECK(mp_process_join(p, 60), MP_OK);
  mp_process_free(p);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_event_free(held);
  mp_lock_free(l);
}

static void take_and_end(void *arg) {
  mp_lock *l = arg;
  if (mp_lock_acquire(l, 30) != MP_OK) abort();
}

/* A thread that ends holding a lock hands it on as a dead process does,
 * to a thread of its own process too. */
static void a_lock_whose_holder_thread_ended_is_handed_on(void **state) {
  (void)state;
  mp_lock *l;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  mp__thread *t;
  TU_CHECK(mp__thread_start(&t, take_and_end, l), MP_OK);
  mp__thread_join(t);
  TU_CHECK(mp_lock_acquire(l, 30), MP_EOWNERDEAD);
  TU_CHECK(mp_lock_release(l), MP_OK);
  TU_CHECK(mp_lock_acquire(l, 0), MP_OK);
  TU_CHECK(mp_lock_release(l), MP_OK);
  mp_lock_free(l);
}

/* ------------------------------------- 12: a waiter killed in its wait */
/* Starts wait_once and returns once it waits: the lock is then free again
 * (and not held here). */
static mp_process *start_waiter(mp_condition *c, mp_shm *m, uint32_t before) {
  volatile cond_shared *st = mp_shm_ptr(m);
  mp_object *objs[2] = {mp_condition_obj(c), mp_shm_obj(m)};
  mp_process *p = tu_start("wait_once", objs, 2, NULL, 0);
  for (double end = mp__now() + 60;;) {
    TU_CHECK(mp_condition_acquire(c, 60), MP_OK);
    int waiting = st->waiting > before; /* counted under the lock, so now in its wait */
    TU_CHECK(mp_condition_release(c), MP_OK);
    if (waiting) return p;
    assert_true(mp__now() < end);
    mp__sleep(0.005);
  }
}

static void no_phantom_after_a_killed_waiter(int reap_first, int notify_all) {
  mp_condition *c;
  mp_shm *m;
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(cond_shared)), MP_OK);
  mp_process *p = start_waiter(c, m, 0);
  if (reap_first) {
    kill_and_reap(p);
  } else {
    /* Dead but not yet reaped (a zombie on POSIX). */
    int64_t pid = mp_process_pid(p);
    TU_CHECK(mp_process_kill(p), MP_OK);
    assert_true(tu_wait_gone(pid, 60));
  }
  TU_CHECK(mp_condition_acquire(c, 10), MP_OK);
  TU_CHECK(notify_all ? mp_condition_notify_all(c) : mp_condition_notify(c, 1), MP_OK);
  /* Nobody alive was waiting: nothing is left for a waiter to come. */
  TU_CHECK(mp_condition_wait(c, 0.4), MP_ETIMEDOUT);
  TU_CHECK(mp_condition_notify(c, 3), MP_OK);
  TU_CHECK(mp_condition_wait(c, 0), MP_ETIMEDOUT);
  TU_CHECK(mp_condition_release(c), MP_OK);
  if (!reap_first) {
    TU_CHECK(mp_process_join(p, 60), MP_OK);
    mp_process_free(p);
  }
  mp_shm_free(m);
  mp_condition_free(c);
}

static void a_killed_waiter_leaves_no_ticket_for_notify_one(void **state) {
  (void)state;
  no_phantom_after_a_killed_waiter(1, 0);
}

static void a_killed_waiter_leaves_no_ticket_for_notify_all(void **state) {
  (void)state;
  no_phantom_after_a_killed_waiter(1, 1);
}

static void a_killed_unreaped_waiter_leaves_no_ticket(void **state) {
  (void)state;
  no_phantom_after_a_killed_waiter(0, 0);
}

/* The dead waiter came first: notify(1) must still wake the live one. */
static void notify_passes_over_a_dead_waiter(void **state) {
  (void)state;
  mp_condition *c;
  mp_shm *m;
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(cond_shared)), MP_OK);
  mp_process *dead = start_waiter(c, m, 0);
  kill_and_reap(dead);
  mp_process *live = start_waiter(c, m, 1);
  TU_CHECK(mp_condition_acquire(c, 10), MP_OK);
  TU_CHECK(mp_condition_notify(c, 1), MP_OK);
  TU_CHECK(mp_condition_release(c), MP_OK);
  assert_int_equal(tu_finish_int(live, 120), MP_OK); /* in well under its 60 s */
  mp_shm_free(m);
  mp_condition_free(c);
}

/* A waiter in a thread of this process, for the full-table test. */
typedef struct thread_wait {
  mp_condition *c;
  mp_event *waiting;
  int rc;
} thread_wait;

static void wait_in_thread(void *arg) {
  thread_wait *t = arg;
  mp_condition_acquire(t->c, 30);
  mp_event_set(t->waiting); /* set before the wait, seen after: the lock orders it */
  t->rc = mp_condition_wait(t->c, 30);
  mp_condition_release(t->c);
}

static void a_full_table_of_waiters_is_refused_and_dead_places_come_back(void **state) {
  (void)state;
  mp_condition *c;
  mp_shm *m;
  TU_CHECK(mp__condition_create_sized(&c, NULL, 1), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(cond_shared)), MP_OK);
  /* A killed waiter's place is taken back when the table is full. */
  kill_and_reap(start_waiter(c, m, 0));
  TU_CHECK(mp_condition_acquire(c, 10), MP_OK);
  TU_CHECK(mp_condition_wait(c, 0.05), MP_ETIMEDOUT);
  TU_CHECK(mp_condition_release(c), MP_OK);
  /* A live one's is not. */
  thread_wait t = {c, NULL, -100};
  TU_CHECK(mp_event_create(&t.waiting), MP_OK);
  mp__thread *th;
  TU_CHECK(mp__thread_start(&th, wait_in_thread, &t), MP_OK);
  TU_CHECK(mp_event_wait(t.waiting, 30), MP_OK);
  TU_CHECK(mp_condition_acquire(c, 30), MP_OK); /* it waits now: it let go of the lock */
  TU_CHECK(mp_condition_wait(c, 5), MP_ETOOBIG);
  assert_non_null(strstr(mp_last_error(), "mp_condition_wait: 1 threads already wait"));
  TU_CHECK(mp_condition_notify(c, 1), MP_OK);
  TU_CHECK(mp_condition_release(c), MP_OK);
  mp__thread_join(th);
  assert_int_equal(t.rc, MP_OK);
  mp_event_free(t.waiting);
  mp_shm_free(m);
  mp_condition_free(c);
}

/* ------------------------------------------ 13: reset after a round ends */
typedef struct party {
  mp_barrier *b;
  int rc;
} party;

static void wait_as_a_party(void *arg) {
  party *p = arg;
  p->rc = mp_barrier_wait(p->b, 30);
}

static void a_reset_right_after_a_round_fails_nobody(void **state) {
  (void)state;
  mp_barrier *b;
  TU_CHECK(mp_barrier_create(&b, 2), MP_OK);
  for (int i = 0; i < 200; i++) {
    party p = {b, -100};
    mp__thread *t;
    TU_CHECK(mp__thread_start(&t, wait_as_a_party, &p), MP_OK);
    TU_CHECK(mp_barrier_wait(b, 30), MP_OK);
    TU_CHECK(mp_barrier_reset(b), MP_OK); /* the other party may not have looked yet */
    mp__thread_join(t);
    if (p.rc != MP_OK) print_error("try %d: %s\n", i, mp_err_name(p.rc));
    assert_int_equal(p.rc, MP_OK);
  }
  mp_barrier_free(b);
}

/* Across processes, once per start method's child. */
static int one_barrier_wait(mp_call *call) { return return_code(call, mp_barrier_wait(mp_call_barrier(call, 0), 60)); }

static void a_reset_right_after_a_round_fails_no_process(void **state) {
  (void)state;
  mp_barrier *b;
  TU_CHECK(mp_barrier_create(&b, 2), MP_OK);
  mp_object *objs[1] = {mp_barrier_obj(b)};
  for (int i = 0; i < 5; i++) {
    mp_process *p = tu_start("one_barrier_wait", objs, 1, NULL, 0);
    TU_CHECK(mp_barrier_wait(b, 60), MP_OK);
    TU_CHECK(mp_barrier_reset(b), MP_OK);
    assert_int_equal(tu_finish_int(p, 120), MP_OK);
  }
  mp_barrier_free(b);
}

static void a_reset_breaks_only_the_parties_still_waiting(void **state) {
  (void)state;
  mp_barrier *b;
  TU_CHECK(mp_barrier_create(&b, 2), MP_OK);
  party first = {b, -100}, late = {b, -100};
  mp__thread *t1, *t2;
  TU_CHECK(mp__thread_start(&t1, wait_as_a_party, &first), MP_OK);
  TU_CHECK(mp_barrier_wait(b, 30), MP_OK); /* round 1 complete */
  mp__thread_join(t1);
  assert_int_equal(first.rc, MP_OK);
  TU_CHECK(mp__thread_start(&t2, wait_as_a_party, &late), MP_OK);
  /* Until the late one sleeps in round 2, alone. */
  void *wait = mp__sync_wait_slot(&((mp__sync_obj *)mp_barrier_obj(b))->seg);
  for (double end = mp__now() + 30; mp__pwait_sleepers(wait) == 0;) {
    assert_true(mp__now() < end);
    mp__sleep(0.001);
  }
  TU_CHECK(mp_barrier_reset(b), MP_OK);
  mp__thread_join(t2);
  assert_int_equal(late.rc, MP_ESTATE);
  /* Usable again at once. */
  party again = {b, -100};
  TU_CHECK(mp__thread_start(&t1, wait_as_a_party, &again), MP_OK);
  TU_CHECK(mp_barrier_wait(b, 30), MP_OK);
  mp__thread_join(t1);
  assert_int_equal(again.rc, MP_OK);
  mp_barrier_free(b);
}

/* -------------------------------------------- 20: index and wait_for */
static void barrier_wait_gives_each_party_its_own_place(void **state) {
  (void)state;
  enum { P = 4, R = 20 };
  mp_barrier *b;
  mp_shm *m;
  TU_CHECK(mp_barrier_create(&b, P), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(uint32_t) * P * R), MP_OK);
  mp_object *objs[2] = {mp_barrier_obj(b), mp_shm_obj(m)};
  mp_process *ps[P];
  for (uint32_t i = 0; i < P; i++) {
    uint32_t a[2] = {i, R};
    ps[i] = tu_start("record_places", objs, 2, a, sizeof a);
  }
  for (int i = 0; i < P; i++) {
    mp_result r = tu_finish(ps[i], 120);
    mp_result_clear(&r);
  }
  const uint32_t *places = mp_shm_ptr(m);
  for (int r = 0; r < R; r++) {
    unsigned seen = 0;
    for (int i = 0; i < P; i++) {
      assert_true(places[r * P + i] < P);
      seen |= 1u << places[r * P + i];
    }
    assert_int_equal(seen, (1u << P) - 1); /* 0..P-1, each once */
  }
  unsigned index = 99;
  mp_barrier *one;
  TU_CHECK(mp_barrier_create(&one, 1), MP_OK);
  TU_CHECK(mp_barrier_wait_index(one, 0, &index), MP_OK);
  assert_int_equal(index, 0);
  TU_CHECK(mp_barrier_wait_index(one, 0, NULL), MP_OK);
  TU_CHECK(mp_barrier_wait_index(NULL, 0, &index), MP_EINVAL);
  mp_barrier_free(one);
  mp_shm_free(m);
  mp_barrier_free(b);
}

static int value_at_least_3(void *ud) { return ((volatile cond_shared *)ud)->value >= 3; }
static int never(void *ud) {
  (void)ud;
  return 0;
}

static void condition_wait_for_a_predicate(void **state) {
  (void)state;
  mp_condition *c;
  mp_shm *m;
  TU_CHECK(mp_condition_create(&c, NULL), MP_OK);
  TU_CHECK(mp_shm_create(&m, sizeof(cond_shared)), MP_OK);
  cond_shared *st = mp_shm_ptr(m);
  TU_CHECK(mp_condition_wait_for(c, value_at_least_3, st, 1), MP_ESTATE); /* lock not held */
  mp_object *objs[2] = {mp_condition_obj(c), mp_shm_obj(m)};
  TU_CHECK(mp_condition_acquire(c, 10), MP_OK);
  mp_process *p = tu_start("raise_value", objs, 2, NULL, 0);
  TU_CHECK(mp_condition_wait_for(c, value_at_least_3, st, 60), MP_OK);
  assert_true(st->value >= 3);
  /* True already: no wait, even with 0. */
  TU_CHECK(mp_condition_wait_for(c, value_at_least_3, st, 0), MP_OK);
  double t0 = mp__now();
  TU_CHECK(mp_condition_wait_for(c, never, NULL, 0.2), MP_ETIMEDOUT);
  assert_true(mp__now() - t0 >= 0.18);
  assert_non_null(strstr(mp_last_error(), "mp_condition_wait_for: "));
  TU_CHECK(mp_condition_wait_for(c, never, NULL, 0), MP_ETIMEDOUT);
  TU_CHECK(mp_condition_wait_for(c, NULL, NULL, 0), MP_EINVAL);
  TU_CHECK(mp_condition_wait_for(NULL, never, NULL, 0), MP_EINVAL);
  TU_CHECK(mp_condition_release(c), MP_OK); /* held throughout */
  mp_result r = tu_finish(p, 120);
  mp_result_clear(&r);
  mp_shm_free(m);
  mp_condition_free(c);
}

/* A condition keeps the lock it was given (it is counted). */
static void a_condition_keeps_its_given_lock(void **state) {
  (void)state;
  mp_lock *l;
  mp_condition *c;
  TU_CHECK(mp_lock_create(&l, 0), MP_OK);
  TU_CHECK(mp_condition_create(&c, l), MP_OK);
  mp_lock_free(l);
  TU_CHECK(mp_condition_acquire(c, 0), MP_OK);
  TU_CHECK(mp_condition_wait(c, 0.01), MP_ETIMEDOUT);
  TU_CHECK(mp_condition_release(c), MP_OK);
  mp_condition_free(c);
}

int main(int argc, char **argv) {
  MP_REGISTER(return_holding);
  MP_REGISTER(return_holding_condition);
  MP_REGISTER(acquire_code);
  MP_REGISTER(hold_until_killed);
  MP_REGISTER(lock_step);
  MP_REGISTER(wait_once);
  MP_REGISTER(raise_value);
  MP_REGISTER(record_places);
  MP_REGISTER(one_barrier_wait);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(a_process_that_returns_holding_a_lock_hands_it_on),
      TU_TEST(a_process_that_returns_holding_an_rlock_hands_it_on),
      TU_TEST(another_process_waiting_is_told),
      TU_TEST(a_condition_s_lock_held_at_return_is_handed_on),
      TU_TEST(a_pool_task_does_not_leave_its_lock_to_the_next),
      TU_TEST(freeing_a_held_lock_is_safe),
      TU_TEST(a_process_waiting_on_a_lock_freed_while_held_is_told),
      TU_TEST(freeing_a_lock_another_thread_holds_is_safe),
      TU_TEST(a_lock_whose_holder_was_killed_and_not_reaped_is_handed_on),
      TU_TEST(a_lock_whose_holder_thread_ended_is_handed_on),
      TU_TEST(a_killed_waiter_leaves_no_ticket_for_notify_one),
      TU_TEST(a_killed_waiter_leaves_no_ticket_for_notify_all),
      TU_TEST(a_killed_unreaped_waiter_leaves_no_ticket),
      TU_TEST(notify_passes_over_a_dead_waiter),
      TU_TEST(a_full_table_of_waiters_is_refused_and_dead_places_come_back),
      TU_TEST(a_reset_right_after_a_round_fails_nobody),
      TU_TEST(a_reset_right_after_a_round_fails_no_process),
      TU_TEST(a_reset_breaks_only_the_parties_still_waiting),
      TU_TEST(barrier_wait_gives_each_party_its_own_place),
      TU_TEST(condition_wait_for_a_predicate),
      TU_TEST(a_condition_keeps_its_given_lock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
