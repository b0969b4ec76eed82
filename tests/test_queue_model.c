/* The Queue against a model: small rings (a store of a few KiB to 256 KiB
 * and a warm ring smaller still, through mp__queue_create_sized) driven by
 * millions of random puts and gets of random sizes, and every answer
 * checked, step by step, against a plain FIFO: what each get returns (or
 * why not), the count, and that a put is refused for want of room only
 * when the documented store is really full. Wrap, backlog, a full store,
 * close, bounded and unbounded queues and producers that die in the middle
 * of a put all come up at random, within one process (so a failure
 * replays from its seed); then the same with real processes, producers and
 * consumers killed at random, checked against what each one did. */
#define _CRT_SECURE_NO_WARNINGS /* getenv is fine here (MSVC deprecates it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "queue.h"
#include "queue_ring.h"
#include "testutil.h"

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return *s = x;
}

/* Every message's bytes are a slice of one random buffer: checking one
 * costs a memcmp. */
enum { SLICES = 4093, LONGEST = 200 * 1024 };
static unsigned char *source;

static void make_source(void) {
  if (source) return;
  source = malloc(LONGEST + SLICES);
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < LONGEST + SLICES; i++) source[i] = (unsigned char)rng_next(&s);
}

static const unsigned char *slice(uint64_t seed) { return source + seed % SLICES; }

/* ------------------------------------------------------ the model */
typedef struct entry {
  uint32_t len;
  uint32_t dead; /* its producer died mid-put: it never comes out */
  uint64_t seed;
} entry;

typedef struct model {
  entry *fifo;
  size_t cap, first, n;
  uint64_t cost;    /* of what is queued, dead ones included, as the header counts it */
  uint64_t store;   /* the store ring's size */
  uint64_t maxsize; /* 0: unbounded */
  int closed;
} model;

static void model_push(model *m, uint32_t len, uint64_t seed, int dead) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    entry *f = malloc(cap * sizeof *f);
    for (size_t i = 0; i < m->n; i++) f[i] = m->fifo[(m->first + i) % m->cap];
    free(m->fifo);
    m->fifo = f;
    m->cap = cap;
    m->first = 0;
  }
  entry e = {len, (uint32_t)dead, seed};
  m->fifo[(m->first + m->n++) % m->cap] = e;
  m->cost += mp__ring_message_cost(len);
}

static entry model_pop(model *m) {
  entry e = m->fifo[m->first];
  m->first = (m->first + 1) % m->cap;
  m->n--;
  m->cost -= mp__ring_message_cost(e.len);
  return e;
}

/* A get skips what dead producers left at the head, as the queue does. */
static void model_skip_dead(model *m) {
  while (m->n && m->fifo[m->first].dead) model_pop(m);
}

/* ------------------------------------------------------ one process */
typedef struct run {
  uint64_t rng, seed, step;
  mp_queue *q;
  model m;
  unsigned char *buf;
} run;

#define EXPECT(r, cond, ...)                                                                         \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      print_error("seed %llu, step %llu: ", (unsigned long long)(r)->seed, (unsigned long long)(r)->step); \
      print_error(__VA_ARGS__);                                                                      \
      print_error(" (%s)\n", mp_last_error());                                                       \
      fail();                                                                                        \
    }                                                                                                \
  } while (0)

/* A fresh queue of random shape: some stores hold a few messages, some
 * hundreds; some warm rings hold none of the larger ones. */
static void new_queue(run *r) {
  if (r->q) mp_queue_free(r->q);
  uint64_t store = (64 + rng_next(&r->rng) % 16384) * 16, warm = (4 + rng_next(&r->rng) % (store / 32)) * 16;
  mp_queue_options o = {0, 0};
  if (rng_next(&r->rng) % 3 == 0) o.maxsize = 1 + rng_next(&r->rng) % 200;
  TU_CHECK(mp__queue_create_sized(&r->q, &o, store, warm), MP_OK);
  r->m.first = r->m.n = 0;
  r->m.cost = 0;
  r->m.store = store;
  r->m.maxsize = o.maxsize;
  r->m.closed = 0;
}

static uint32_t random_len(run *r) {
  uint64_t x = rng_next(&r->rng), limit = r->m.store < LONGEST ? r->m.store : LONGEST;
  switch (x % 8) {
  case 0: return 0;
  case 1: case 2: case 3: return (uint32_t)((x >> 8) % 100);
  case 4: case 5: return (uint32_t)((x >> 8) % 2000);
  case 6: return (uint32_t)((x >> 8) % (limit / 8 + 1));
  default: {
    /* Now and then more than fits; never more than the source and the
     * reader's buffer hold (a store can be larger than LONGEST). */
    uint64_t len = (x >> 8) % (limit + 64);
    return (uint32_t)(len > LONGEST ? LONGEST : len);
  }
  }
}

static void step_put(run *r, int abandon) {
  model *m = &r->m;
  uint32_t len = random_len(r);
  uint64_t seed = rng_next(&r->rng), rec = mp__ring_record_size(len);
  int never_fits = rec + MP__RING_RECORD_HEAD >= m->store;
  if (abandon && never_fits) return;
  int rc = abandon ? mp__queue_abandon_put(r->q, len, 0) : mp_queue_put(r->q, slice(seed), len, 0);
  if (never_fits) {
    EXPECT(r, rc == MP_ETOOBIG, "put of %u bytes, more than the store holds, gave %s", len, mp_err_name(rc));
    return;
  }
  if (m->closed) {
    EXPECT(r, rc == MP_ECLOSED, "put after close gave %s", mp_err_name(rc));
    return;
  }
  if (rc == MP_OK) {
    EXPECT(r, !m->maxsize || m->n < m->maxsize, "put over maxsize %llu", (unsigned long long)m->maxsize);
    model_push(m, len, seed, abandon);
    return;
  }
  /* Refused: only for the count, or a store really full. */
  EXPECT(r, rc == (m->maxsize ? MP_EFULL : MP_ENOMEM), "put of %u bytes gave %s", len, mp_err_name(rc));
  EXPECT(r, (m->maxsize && m->n >= m->maxsize) || m->cost + mp__ring_message_cost(len) > m->store,
         "put of %u bytes refused with %llu of %llu bytes of the store counted", len, (unsigned long long)m->cost,
         (unsigned long long)m->store);
}

static void step_get(run *r) {
  model *m = &r->m;
  uint64_t x = rng_next(&r->rng);
  int into = x % 3 != 0;
  size_t cap = into ? (x % 4 == 0 ? (size_t)((x >> 8) % 64) : LONGEST) : 0;
  size_t len = 12345;
  void *data = NULL;
  int rc = into ? mp_queue_get_into(r->q, r->buf, cap, &len, 0) : mp_queue_get(r->q, &data, &len, 0);
  model_skip_dead(m);
  if (!m->n) {
    EXPECT(r, rc == (m->closed ? MP_ECLOSED : MP_EEMPTY), "get of an empty queue gave %s", mp_err_name(rc));
    return;
  }
  entry e = m->fifo[m->first];
  if (into && e.len > cap) {
    EXPECT(r, rc == MP_ETOOBIG && len == e.len, "get_into of %u bytes into %llu gave %s", e.len,
           (unsigned long long)cap, mp_err_name(rc));
    return;
  }
  EXPECT(r, rc == MP_OK && len == e.len, "get of %u bytes gave %s, %llu bytes", e.len, mp_err_name(rc),
         (unsigned long long)len);
  const void *got = into ? (const void *)r->buf : data;
  EXPECT(r, !len || memcmp(got, slice(e.seed), len) == 0, "the %u-byte message came out changed", e.len);
  mp_free(data);
  model_pop(m);
}

static void check_count(run *r) {
  size_t n = 0;
  TU_CHECK(mp_queue_qsize(r->q, &n), MP_OK);
  EXPECT(r, n == r->m.n, "qsize %llu, the model %llu", (unsigned long long)n, (unsigned long long)r->m.n);
}

/* Phases of filling and draining, so the rings wrap, back up into the
 * store, fill it, and empty again. */
static void random_operations_against_a_fifo(void **state) {
  (void)state;
  make_source();
  run r;
  memset(&r, 0, sizeof r);
  const char *env = getenv("MPROC_MODEL_SEED");
  r.seed = env ? strtoull(env, NULL, 10) : (uint64_t)mp__now() * 1000003u + (uint64_t)mp__getpid();
  r.rng = r.seed | 1;
  r.buf = malloc(LONGEST);
  /* Windows' locks cost a system call each (under Wine, a round trip to
   * its server): a million steps there, three here. */
  uint64_t steps = tu_scale(MP__HAVE_FORK ? 3000000 : 1000000, 100000);
  new_queue(&r);
  int put_share = 50;
  for (r.step = 0; r.step < steps; r.step++) {
    uint64_t x = rng_next(&r.rng);
    if (r.step % 4096 == 0) put_share = (int)(x % 90) + 5;
    unsigned pick = (unsigned)(x >> 16) % 1000;
    if (pick < 2 && !r.m.closed) {
      TU_CHECK(mp_queue_close(r.q), MP_OK);
      r.m.closed = 1;
    } else if (pick < 4 || (r.m.closed && !r.m.n && pick < 100)) {
      new_queue(&r);
    } else if (pick < 14) {
      step_put(&r, 1);
    } else if ((int)(pick % 100) < put_share) {
      step_put(&r, 0);
    } else {
      step_get(&r);
    }
    check_count(&r);
  }
  mp_queue_free(r.q);
  free(r.m.fifo);
  free(r.buf);
}

/* --------------------------------------------------- many processes */
/* Producers (each run an "incarnation") put numbered messages of random
 * sizes into a small bounded queue until killed; consumers take them until
 * killed or the queue is closed. Each message names its incarnation and
 * number, and every taken one is marked in shared memory. At the end, each
 * incarnation must show messages 0..k-1 with no duplicate and none torn,
 * where at most the last may be missing (its producer died putting it),
 * plus one lost per consumer killed (the one it had taken). */
enum { INCARNATIONS = 48, PER_INCARNATION = 4096 };

typedef struct shared_log {
  volatile uint32_t put[INCARNATIONS]; /* puts that returned MP_OK */
  volatile uint32_t seen[INCARNATIONS][PER_INCARNATION / 32];
  volatile uint32_t dups, torn, misordered;
} shared_log;

typedef struct header {
  uint32_t inc, seq, len;
  uint32_t pad;
  uint64_t seed;
} header;

static size_t build(unsigned char *buf, uint32_t inc, uint32_t seq) {
  uint64_t s = ((uint64_t)inc << 32 | seq) * 0x9E3779B97F4A7C15ull + 1;
  header h = {inc, seq, 0, 0, rng_next(&s)};
  h.len = (uint32_t)(sizeof h + (h.seed % 8 == 0 ? (h.seed >> 8) % 6000 : (h.seed >> 8) % 120));
  memcpy(buf, &h, sizeof h);
  memcpy(buf + sizeof h, slice(h.seed), h.len - sizeof h);
  return h.len;
}

static int check_and_mark(shared_log *log, const unsigned char *buf, size_t len, int32_t *last) {
  header h;
  if (len < sizeof h) return 0;
  memcpy(&h, buf, sizeof h);
  if (h.len != len || h.inc >= INCARNATIONS || h.seq >= PER_INCARNATION ||
      memcmp(buf + sizeof h, slice(h.seed), len - sizeof h) != 0)
    return 0;
  volatile uint32_t *w = &log->seen[h.inc][h.seq / 32];
  uint32_t bit = 1u << (h.seq % 32), old = mp__atomic_load32(w);
  while (!(old & bit) && !mp__atomic_cas32(w, &old, old | bit)) {
  }
  if (old & bit) mp__atomic_add32(&log->dups, 1);
  if ((int32_t)h.seq <= last[h.inc]) mp__atomic_add32(&log->misordered, 1);
  last[h.inc] = (int32_t)h.seq;
  return 1;
}

static int model_producer(mp_call *call) {
  uint32_t inc;
  mp_queue *q = mp_call_queue(call, 0);
  shared_log *log = mp_shm_ptr(mp_call_shm(call, 1));
  if (mp_call_arg_read(call, &inc, sizeof inc) != MP_OK || !q || !log) return 1;
  make_source();
  unsigned char *buf = malloc(8192);
  for (uint32_t seq = 0; seq < PER_INCARNATION; seq++) {
    size_t len = build(buf, inc, seq);
    int rc = mp_queue_put(q, buf, len, 60);
    if (rc != MP_OK) return mp_call_fail(call, "put %u/%u: %s", inc, seq, mp_last_error());
    mp__atomic_store32(&log->put[inc], seq + 1);
  }
  free(buf);
  return 0;
}

static int model_consumer(mp_call *call) {
  mp_queue *q = mp_call_queue(call, 0);
  shared_log *log = mp_shm_ptr(mp_call_shm(call, 1));
  if (!q || !log) return 1;
  make_source();
  unsigned char *buf = malloc(8192);
  int32_t last[INCARNATIONS];
  for (int i = 0; i < INCARNATIONS; i++) last[i] = -1;
  for (;;) {
    size_t len = 0;
    int rc = mp_queue_get_into(q, buf, 8192, &len, 60);
    if (rc == MP_ECLOSED) break;
    if (rc != MP_OK) return mp_call_fail(call, "get: %s", mp_last_error());
    if (!check_and_mark(log, buf, len, last)) mp__atomic_add32(&log->torn, 1);
  }
  free(buf);
  return 0;
}

static void kill_now(mp_process *p) {
  TU_CHECK(mp_process_kill(p), MP_OK);
  TU_CHECK(mp_process_join(p, 30), MP_OK);
  mp_process_free(p);
}

static void producers_and_consumers_killed_at_random(void **state) {
  (void)state;
  make_source();
  mp_queue *q;
  mp_shm *shm;
  mp_queue_options o = {64, 0};
  TU_CHECK(mp__queue_create_sized(&q, &o, 64 * 1024, 4096), MP_OK);
  TU_CHECK(mp_shm_create(&shm, sizeof(shared_log)), MP_OK);
  shared_log *log = mp_shm_ptr(shm);
  memset(log, 0, sizeof *log);
  mp_object *objs[2] = {mp_queue_obj(q), mp_shm_obj(shm)};
  uint64_t rng = (uint64_t)mp__now() * 7919u + 1;
  uint32_t incarnations = (uint32_t)tu_scale(INCARNATIONS, 8), consumer_kills = 0;
  mp_process *cons[2];
  for (int i = 0; i < 2; i++) cons[i] = tu_start("model_consumer", objs, 2, NULL, 0);
  for (uint32_t inc = 0; inc < incarnations; inc++) {
    mp_process *p = tu_start("model_producer", objs, 2, &inc, sizeof inc);
    mp__sleep((double)(rng_next(&rng) % 30) * 1e-3);
    kill_now(p);
    if (rng_next(&rng) % 4 == 0) {
      int c = (int)(rng_next(&rng) % 2);
      kill_now(cons[c]);
      consumer_kills++;
      cons[c] = tu_start("model_consumer", objs, 2, NULL, 0);
    }
  }
  TU_CHECK(mp_queue_close(q), MP_OK);
  for (int i = 0; i < 2; i++) {
    mp_result r = tu_finish(cons[i], 120);
    mp_result_clear(&r);
  }
  assert_int_equal(log->torn, 0);
  assert_int_equal(log->dups, 0);
  assert_int_equal(log->misordered, 0);
  uint32_t lost = 0;
  for (uint32_t inc = 0; inc < incarnations; inc++) {
    uint32_t k = log->put[inc], top = 0;
    for (uint32_t s = 0; s < PER_INCARNATION; s++)
      if (log->seen[inc][s / 32] & (1u << (s % 32))) top = s + 1;
    /* Nothing past the one its producer was putting when it died. */
    assert_true(top <= k + 1);
    for (uint32_t s = 0; s < k; s++)
      if (!(log->seen[inc][s / 32] & (1u << (s % 32)))) lost++;
  }
  if (lost > consumer_kills) print_error("%u messages lost, %u consumers killed\n", lost, consumer_kills);
  assert_true(lost <= consumer_kills);
  mp_shm_free(shm);
  mp_queue_free(q);
}

int main(int argc, char **argv) {
  MP_REGISTER(model_producer);
  MP_REGISTER(model_consumer);
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(random_operations_against_a_fifo),
      TU_TEST(producers_and_consumers_killed_at_random),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  free(source);
  return failed;
}
