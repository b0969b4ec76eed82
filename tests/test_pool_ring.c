/* The pool's task ring against a model: a small ring in real shared
 * memory (so given-back pages really read zero), records of random sizes
 * placed, taken by simulated workers, finished in random order and
 * reclaimed, over a million steps. After every step every record still in
 * use must be intact, the takers must find records in the order they
 * were published, and no record may be lost or found twice. The kind of
 * test that finds a wrap overwriting a record a taker has not reached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_out.h"
#include "pool_ring.h"
#include "testutil.h"

#define RING (1u << 20)
#define WARM (64u << 10)
#define MAX_LIVE 4096

typedef struct rec {
  uint64_t seq, at, len;
  int taken, done;
} rec;

typedef struct model {
  mp__arena a;
  mp__arena_header h;
  mp__arena_slot slots[4];
  void *mem;
  mp__handle shm;
  mp__tasks_writer w;
  rec live[MAX_LIVE]; /* in seq order: [first, last) */
  size_t first, last;
  uint64_t next_seq, next_take, committed;
  unsigned rnd;
} model;

static unsigned next_rand(model *m) {
  m->rnd = m->rnd * 1103515245u + 12345u;
  return m->rnd >> 8;
}

static uint8_t byte_of(uint64_t seq, uint64_t i) { return (uint8_t)(seq * 13 + i * 7 + 1); }

static void setup_model(model *m, unsigned seed) {
  memset(m, 0, sizeof *m);
  TU_CHECK(mp__shm_create(RING, &m->shm, &m->mem), MP_OK);
  TU_CHECK(mp__shm_commit(m->mem, RING), MP_OK);
  m->a.h = &m->h;
  m->a.slots = m->slots;
  m->a.nslots = 4;
  m->a.ring = m->mem;
  m->a.ring_bytes = RING;
  mp__tasks_writer_init(&m->w, &m->a);
  m->w.warm = WARM;
  m->next_seq = m->next_take = 1;
  m->rnd = seed;
}

static rec *at_index(model *m, size_t i) { return &m->live[i % MAX_LIVE]; }

static void check_intact(model *m) {
  for (size_t i = m->first; i < m->last; i++) {
    rec *r = at_index(m, i);
    if (r->done) continue;
    const mp__task_record *t = (const mp__task_record *)(m->a.ring + r->at);
    const uint8_t *p = mp__tasks_payload(&m->a, r->at);
    if (t->seq != r->seq || t->len != r->len) fail_msg("record %llu at %llu lost its head", (unsigned long long)r->seq,
                                                        (unsigned long long)r->at);
    for (uint64_t k = 0; k < r->len; k++)
      if (p[k] != byte_of(r->seq, k))
        fail_msg("record %llu at %llu: byte %llu overwritten", (unsigned long long)r->seq, (unsigned long long)r->at,
                 (unsigned long long)k);
  }
}

static void put(model *m) {
  if (m->last - m->first >= MAX_LIVE) return;
  /* Mostly small, now and then up to a tenth of the ring. */
  uint64_t len = next_rand(m) % 8 ? next_rand(m) % 600 : next_rand(m) % (RING / 10);
  uint64_t at;
  int rc = mp__tasks_place(&m->w, &m->a, len, &at);
  if (rc == MP_EFULL) return;
  TU_CHECK(rc, MP_OK);
  uint8_t *p = mp__tasks_payload(&m->a, at);
  for (uint64_t k = 0; k < len; k++) p[k] = byte_of(m->next_seq, k);
  rec *r = at_index(m, m->last++);
  memset(r, 0, sizeof *r);
  r->seq = m->next_seq++;
  r->at = at;
  r->len = len;
  mp__tasks_publish(&m->w, &m->a, at, r->seq, len, 0);
}

static void take(model *m) {
  uint64_t at;
  int got = mp__tasks_take(&m->a, (int)(next_rand(m) % 4), &at, &m->committed);
  if (got < 0) fail_msg("a taker found garbage: %s", mp_last_error());
  if (got == 0) {
    if (m->next_take != m->next_seq) fail_msg("record %llu was published but not found", (unsigned long long)m->next_take);
    return;
  }
  const mp__task_record *t = (const mp__task_record *)(m->a.ring + at);
  if (t->seq != m->next_take) fail_msg("took %llu where %llu was next", (unsigned long long)t->seq,
                                       (unsigned long long)m->next_take);
  at_index(m, m->first + (m->next_take - at_index(m, m->first)->seq))->taken = 1;
  m->next_take++;
}

static void finish_and_reclaim(model *m) {
  /* Finish a random taken record, then reclaim the front as the pool does. */
  if (m->last > m->first) {
    size_t i = m->first + next_rand(m) % (m->last - m->first);
    rec *r = at_index(m, i);
    if (r->taken) r->done = 1;
  }
  uint32_t head = MP__POS_COUNT(m->h.head);
  while (m->first < m->last) {
    rec *r = at_index(m, m->first);
    /* Its number as head counts records is seq - 1 (seq starts at 1). */
    if (!r->done || (int32_t)(head - (uint32_t)r->seq) < 0) break;
    m->first++;
    uint64_t next = m->first < m->last ? at_index(m, m->first)->at : m->w.tail;
    mp__tasks_reclaim(&m->w, &m->a, next);
  }
}

static void run_model(unsigned seed, size_t steps) {
  model *m = calloc(1, sizeof *m);
  setup_model(m, seed);
  for (size_t s = 0; s < steps; s++) {
    unsigned op = next_rand(m) % 10;
    /* Phases: a backlog builds up (puts win), then drains (takes win). */
    int backlog = (s / 5000) % 2;
    if (op < (backlog ? 6u : 3u))
      put(m);
    else if (op < 7)
      take(m);
    else
      finish_and_reclaim(m);
    if (s % 97 == 0) check_intact(m);
  }
  /* Drain: everything published is found, once, in order. */
  for (;;) {
    uint64_t at;
    if (mp__tasks_take(&m->a, 0, &at, &m->committed) != 1) break;
    const mp__task_record *t = (const mp__task_record *)(m->a.ring + at);
    assert_int_equal(t->seq, m->next_take);
    m->next_take++;
  }
  assert_int_equal(m->next_take, m->next_seq);
  check_intact(m);
  mp__shm_detach(m->mem, RING);
  mp__handle_close(m->shm);
  free(m);
}

static void the_ring_against_a_model(void **state) {
  (void)state;
  size_t steps = tu_scale(400000, 40000);
  for (unsigned seed = 1; seed <= 3; seed++) run_model(seed, steps);
}

/* ------------------------------------------------ a worker's result ring */
/* The writer and the reader of one result ring, interleaved at random:
 * every outcome reaches the reader once, in order, intact, whatever its
 * size and wherever the reader looked. The reader looks as the pool does:
 * only when `res_pub` moved since its last look. (A run of 4-byte results
 * grows inside its last 8-byte word every other item: a reader that
 * looked at the tail instead missed that item for good.) */
#define OUT_RING (64u << 10)

typedef struct out_model {
  mp__arena a;
  mp__arena_header h;
  mp__arena_slot slot;
  uint8_t ring[OUT_RING];
  mp__out_writer w;
  mp__out_reader r;
  uint32_t written, read;
  unsigned rnd;
} out_model;

static uint8_t out_byte(uint32_t index, size_t i) { return (uint8_t)(index * 31 + i * 3 + 5); }

static size_t out_size(uint32_t index) {
  /* Sizes keep the same for a while (runs), then change. */
  static const size_t sizes[] = {0, 1, 4, 4, 8, 12, 100, 3000, 40000};
  return sizes[(index / 7) % (sizeof sizes / sizeof sizes[0])];
}

static int out_check(void *ud, mp__out_event *e) {
  out_model *m = ud;
  uint32_t count = e->type == MP__OUT_RUN ? e->count : 1;
  assert_true(e->type == MP__OUT_RUN || e->type == MP__OUT_OK);
  for (uint32_t k = 0; k < count; k++) {
    uint32_t index = e->index + k;
    assert_int_equal(index, m->read);
    assert_int_equal(e->len, out_size(index));
    const uint8_t *d = e->data + (size_t)k * e->len;
    for (size_t i = 0; i < e->len; i++)
      if (d[i] != out_byte(index, i)) fail_msg("item %u byte %zu", (unsigned)index, i);
    m->read++;
  }
  return 0;
}

static void out_look(out_model *m) {
  uint64_t pub = mp__atomic_load64(&m->slot.res_pub);
  if (pub == m->slot.res_seen) return;
  uint64_t tail = mp__atomic_load64(&m->slot.res_tail);
  TU_CHECK(mp__out_read(&m->r, m->ring, OUT_RING, tail, out_check, m), MP_OK);
  m->slot.res_head = m->r.head;
  m->slot.res_seen = pub;
}

/* A look finds everything written so far, an open run's items too. */
static void out_look_all(out_model *m) {
  out_look(m);
  assert_int_equal(m->read, m->written);
}

static void out_write(out_model *m) {
  size_t n = out_size(m->written);
  uint8_t buf[40000];
  for (size_t i = 0; i < n; i++) buf[i] = out_byte(m->written, i);
  mp__out_ok(&m->w, m->written, buf, n);
  m->written++;
}

static void the_result_ring_against_a_reader_that_looks_at_any_time(void **state) {
  (void)state;
  out_model *m = calloc(1, sizeof *m);
  m->a.h = &m->h;
  m->a.slots = &m->slot;
  m->a.results = m->ring;
  m->a.result_bytes = OUT_RING;
  m->a.nslots = 1;
  m->a.own_slot = 0;
  mp__out_writer_init(&m->w, &m->a);
  mp__out_reader_init(&m->r);
  m->rnd = 12345;
  size_t steps = tu_scale(200000, 20000);
  for (size_t s = 0; s < steps; s++) {
    m->rnd = m->rnd * 1103515245u + 12345u;
    /* Room first: the writer would wait for the reader otherwise. */
    if ((m->rnd >> 16) % 3 == 0 || m->w.tail - m->slot.res_head > OUT_RING / 2) out_look_all(m);
    else out_write(m);
  }
  out_look_all(m);
  mp__out_reader_release(&m->r);
  free(m);
}

/* A worker asks for a next item after publishing its chunk's last
 * outcome; by then the pool may have reclaimed the record and written a
 * longer chunk over it. The walk must answer from what it read at the
 * start (it once read the count again, and ran an item of the new chunk
 * as the old one's: an outcome of no chunk). */
static void the_walk_over_a_chunk_never_reads_its_record_again(void **state) {
  (void)state;
  for (int sliced = 0; sliced < 2; sliced++) {
    uint8_t payload[4096];
    memset(payload, 0, sizeof payload);
    uint64_t len;
    if (sliced) {
      mp_slice one = {"abc", 3};
      mp__task_write_head(payload, "first", 7, 1, MP__ITEMS_SLICED);
      len = sizeof(mp__task_head) + mp__task_write_slices(payload, &one, 1);
    } else {
      mp__task_write_head(payload, "first", 7, 1, 8);
      memcpy(payload + sizeof(mp__task_head), "12345678", 8);
      len = sizeof(mp__task_head) + 8;
    }
    mp__task_items it;
    TU_CHECK(mp__task_items_open(payload, len, &it), MP_OK);
    const uint8_t *data;
    size_t n;
    assert_int_equal(mp__task_items_next(&it, &data, &n), 1);
    assert_int_equal(n, sliced ? 3 : 8);
    /* The record is reused: another task, more items, another size. */
    mp__task_write_head(payload, "second", 100, 50, 1);
    assert_int_equal(mp__task_items_next(&it, &data, &n), 0);
    assert_string_equal(it.head.task, "first");
    assert_int_equal(it.head.first, 7);
  }
}

int main(int argc, char **argv) {
  tu_main(argc, argv);
  const struct CMUnitTest tests[] = {
      TU_TEST(the_ring_against_a_model),
      TU_TEST(the_result_ring_against_a_reader_that_looks_at_any_time),
      TU_TEST(the_walk_over_a_chunk_never_reads_its_record_again),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
