/* Hostile programs against mp_wait, written to break it: many threads on
 * overlapping sets, a pool freed while threads wait on its jobs, processes
 * and connection peers killed at random instants, consumers racing for a
 * queue that closes under them. Each must end (no hang: every wait has a
 * generous timeout that failing would run out) with every object seen. */
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "testutil.h"

static int sleep_ms(mp_call *call) {
  uint32_t ms = 0;
  if (mp_call_arg_read(call, &ms, sizeof ms) != MP_OK) return mp_call_fail(call, "bad arg");
  mp__sleep(ms / 1000.0);
  return mp_call_return(call, &ms, sizeof ms);
}

/* Sends on conn 0 every millisecond until a send fails or 30 s pass. */
static int stream(mp_call *call) {
  mp_conn *c = mp_call_conn(call, 0);
  for (int i = 0; i < 30000; i++) {
    if (mp_conn_send(c, &i, sizeof i) != MP_OK) return 0;
    mp__sleep(0.001);
  }
  return 0;
}

static mp_pool *small_pool(int workers) {
  mp_pool_options o = {0};
  o.workers = workers;
  mp_pool *p = NULL;
  TU_CHECK(mp_pool_create(&p, &o), MP_OK);
  return p;
}

/* Waits until every entry of set has been ready once (removing each as
 * it is); the number of rounds, or -1 if a wait failed. */
static int drain_set(mp_waitable *set, size_t left, double per_wait) {
  int rounds = 0;
  while (left) {
    int n = mp_wait(set, left, per_wait);
    if (n < 1) return -1;
    rounds++;
    for (size_t i = 0; i < left;)
      if (set[i].ready)
        set[i] = set[--left];
      else
        i++;
  }
  return rounds;
}

/* ------------------------------------------- many threads, overlapping */
enum { JOBS = 40, THREADS = 6, SPAN = 20 };
typedef struct overlap {
  mp_async **jobs;
  mp_process **procs;
  mp_queue *q;
  int t;
  int rc;
} overlap;

static void overlap_thread(void *ud) {
  overlap *o = ud;
  mp_waitable set[SPAN + 3];
  size_t n = 0;
  for (int k = 0; k < SPAN; k++) set[n++] = mp_waitable_async(o->jobs[(o->t * 7 + k) % JOBS]);
  set[n++] = mp_waitable_process(o->procs[o->t % 2]);
  set[n++] = mp_waitable_queue(o->q);
  /* Some rounds only poll, some wait briefly, then to the end. */
  for (int i = 0; i < 20; i++) (void)mp_wait(set, n, i % 2 ? 0 : 0.001);
  o->rc = drain_set(set, n, 60);
}

static void many_threads_on_overlapping_sets(void **state) {
  (void)state;
  mp_pool *p = small_pool(2);
  mp_async *jobs[JOBS];
  for (uint32_t i = 0; i < JOBS; i++) {
    uint32_t ms = (i * 37) % 50;
    TU_CHECK(mp_pool_apply_async(p, "sleep_ms", &ms, sizeof ms, NULL, NULL, &jobs[i]), MP_OK);
  }
  mp_process *procs[2];
  uint32_t ms = 300;
  procs[0] = tu_start("sleep_ms", NULL, 0, &ms, sizeof ms);
  ms = 100;
  procs[1] = tu_start("sleep_ms", NULL, 0, &ms, sizeof ms);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  overlap o[THREADS];
  mp__thread *th[THREADS];
  for (int t = 0; t < THREADS; t++) {
    o[t] = (overlap){jobs, procs, q, t, -2};
    TU_CHECK(mp__thread_start(&th[t], overlap_thread, &o[t]), MP_OK);
  }
  mp__sleep(0.2);
  TU_CHECK(mp_queue_put(q, "x", 1, 0), MP_OK); /* stays: every thread sees it */
  for (int t = 0; t < THREADS; t++) {
    mp__thread_join(th[t]);
    assert_true(o[t].rc >= 1);
  }
  for (int i = 0; i < JOBS; i++) {
    assert_int_equal(mp_async_ready(jobs[i]), 1);
    mp_async_free(jobs[i]);
  }
  for (int i = 0; i < 2; i++) mp_process_free(procs[i]);
  mp_queue_free(q);
  mp_pool_free(p);
}

/* --------------------------------------- the pool freed under waiters */
typedef struct freed {
  mp_async **jobs;
  size_t n;
  int rc;
} freed;

static void wait_all_jobs(void *ud) {
  freed *f = ud;
  mp_waitable set[8];
  for (size_t i = 0; i < f->n; i++) set[i] = mp_waitable_async(f->jobs[i]);
  f->rc = drain_set(set, f->n, 60);
}

static void pool_freed_while_threads_wait(void **state) {
  (void)state;
  enum { N = 5, WAITERS = 3 };
  mp_pool *p = small_pool(1);
  mp_async *jobs[N];
  for (int i = 0; i < N; i++) {
    uint32_t ms = 20000;
    TU_CHECK(mp_pool_apply_async(p, "sleep_ms", &ms, sizeof ms, NULL, NULL, &jobs[i]), MP_OK);
  }
  freed f[WAITERS];
  mp__thread *th[WAITERS];
  for (int t = 0; t < WAITERS; t++) {
    f[t] = (freed){jobs, N, -2};
    TU_CHECK(mp__thread_start(&th[t], wait_all_jobs, &f[t]), MP_OK);
  }
  mp__sleep(0.2);
  double t0 = mp__now();
  mp_pool_free(p);
  for (int t = 0; t < WAITERS; t++) {
    mp__thread_join(th[t]);
    assert_true(f[t].rc >= 1);
  }
  assert_true(mp__now() - t0 < 15); /* not the jobs' 20 s */
  for (int i = 0; i < N; i++) {
    const mp_result *r = mp_async_result(jobs[i]);
    assert_non_null(r);
    assert_int_equal(r->status, MP_ECANCELLED);
    mp_async_free(jobs[i]);
  }
}

/* ------------------------------------------- kills at random instants */
enum { VICTIMS = 12 };
typedef struct killer {
  mp_process **procs;
  unsigned seed;
} killer;

static void kill_at_random(void *ud) {
  killer *k = ud;
  for (int i = 0; i < VICTIMS; i++) {
    k->seed = k->seed * 1103515245u + 12345u;
    mp__sleep((double)((k->seed >> 16) % 40) / 1000.0);
    (void)mp_process_kill(k->procs[(i * 5) % VICTIMS]);
  }
}

static void processes_and_peers_killed_at_any_instant(void **state) {
  (void)state;
  for (int round = 0; round < (int)tu_scale(3, 1); round++) {
    mp_process *procs[VICTIMS], *streams[VICTIMS];
    mp_conn *rx[VICTIMS];
    for (int i = 0; i < VICTIMS; i++) {
      uint32_t ms = (uint32_t)(i * 23 % 200);
      procs[i] = tu_start("sleep_ms", NULL, 0, &ms, sizeof ms);
      mp_conn *tx;
      TU_CHECK(mp_pipe(&rx[i], &tx, 0), MP_OK);
      mp_object *o = mp_conn_obj(tx);
      streams[i] = tu_start("stream", &o, 1, NULL, 0);
      mp_conn_free(tx);
    }
    killer k1 = {procs, 7u + (unsigned)round}, k2 = {streams, 99u + (unsigned)round};
    mp__thread *t1, *t2;
    TU_CHECK(mp__thread_start(&t1, kill_at_random, &k1), MP_OK);
    TU_CHECK(mp__thread_start(&t2, kill_at_random, &k2), MP_OK);
    /* Processes and connections in one set: a process leaves when it has
     * ended, a connection when its peer is gone and it is drained. */
    mp_waitable set[2 * VICTIMS];
    size_t left = 0;
    for (int i = 0; i < VICTIMS; i++) {
      set[left++] = mp_waitable_process(procs[i]);
      set[left++] = mp_waitable_conn(rx[i]);
    }
    while (left) {
      int n = mp_wait(set, left, 60);
      assert_true(n >= 1);
      for (size_t i = 0; i < left;) {
        int gone = 0;
        if (set[i].ready && set[i].kind == MP_WAIT_PROCESS) gone = 1;
        if (set[i].ready && set[i].kind == MP_WAIT_CONN) {
          int m;
          size_t len;
          int rc = mp_conn_recv_into(set[i].obj, &m, sizeof m, &len, 0);
          assert_true(rc == MP_OK || rc == MP_ECLOSED);
          gone = rc == MP_ECLOSED;
        }
        if (gone)
          set[i] = set[--left];
        else
          i++;
      }
    }
    mp__thread_join(t1);
    mp__thread_join(t2);
    for (int i = 0; i < VICTIMS; i++) {
      assert_int_equal(mp_process_is_alive(procs[i]), 0);
      mp_process_free(procs[i]);
      mp_process_free(streams[i]);
      mp_conn_free(rx[i]);
    }
  }
}

/* ------------------------------------ consumers racing, then a close */
typedef struct racer {
  mp_queue *q;
  int got;
  int rc;
} racer;

static void race_for_messages(void *ud) {
  racer *r = ud;
  mp_waitable one = mp_waitable_queue(r->q);
  for (;;) {
    int n = mp_wait(&one, 1, 60);
    if (n != 1) {
      r->rc = n;
      return;
    }
    char b[8];
    size_t len;
    int rc = mp_queue_get_into(r->q, b, sizeof b, &len, 0);
    if (rc == MP_OK) r->got++;
    if (rc == MP_ECLOSED) return;
    if (rc != MP_OK && rc != MP_EEMPTY && rc != MP_ETIMEDOUT) {
      r->rc = rc;
      return;
    }
  }
}

static void consumers_race_and_the_queue_closes(void **state) {
  (void)state;
  enum { RACERS = 4 };
  int msgs = (int)tu_scale(2000, 300);
  mp_queue *q;
  TU_CHECK(mp_queue_create(&q, NULL), MP_OK);
  racer r[RACERS];
  mp__thread *th[RACERS];
  for (int t = 0; t < RACERS; t++) {
    r[t] = (racer){q, 0, 0};
    TU_CHECK(mp__thread_start(&th[t], race_for_messages, &r[t]), MP_OK);
  }
  for (int i = 0; i < msgs; i++) {
    TU_CHECK(mp_queue_put(q, "m", 1, 0), MP_OK);
    if (i % 97 == 0) mp__sleep(0.002);
  }
  TU_CHECK(mp_queue_close(q), MP_OK);
  double closed_at = mp__now();
  int total = 0;
  for (int t = 0; t < RACERS; t++) {
    mp__thread_join(th[t]);
    assert_int_equal(r[t].rc, 0);
    total += r[t].got;
  }
  /* A racer whose wake-up was lost would sit out its 60 s wait. */
  assert_true(mp__now() - closed_at < 20);
  assert_int_equal(total, msgs);
  mp_queue_free(q);
}

int main(int argc, char **argv) {
  MP_REGISTER(sleep_ms);
  MP_REGISTER(stream);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(many_threads_on_overlapping_sets),
      TU_TEST(pool_freed_while_threads_wait),
      TU_TEST(processes_and_peers_killed_at_any_instant),
      TU_TEST(consumers_race_and_the_queue_closes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
