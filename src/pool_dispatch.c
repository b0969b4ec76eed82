/* Chunks: written into the task ring (or queued in the pool's own memory
 * while the ring has no room), cancelled, run again after a worker died,
 * and reclaimed once nothing reads them. Lock held throughout, except
 * where submit lets others in between batches. */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* Chunks a submit writes before it lets collectors and others have the
 * lock for a moment (a map of a million tasks is a million records). */
#define SUBMIT_BATCH 256

/* --------------------------------------------------------- the deque */
/* chunks_cap is a power of two (256, doubling): a mask, not a division. */
chunk *mp__chunk_of(mp_pool *p, uint64_t seq) {
  if (seq < p->first_seq || seq >= p->next_seq) return NULL;
  return &p->chunks[seq & (p->chunks_cap - 1)];
}

/* Room for one more chunk (moving them if the deque grows). */
static int deque_room(mp_pool *p) {
  if (p->next_seq - p->first_seq < p->chunks_cap) return MP_OK;
  size_t cap = p->chunks_cap ? p->chunks_cap * 2 : 256;
  chunk *c = malloc(cap * sizeof *c);
  if (!c) return mp__set_error(MP_ENOMEM, "pool: out of memory for its chunks");
  for (uint64_t s = p->first_seq; s < p->next_seq; s++) c[s & (cap - 1)] = p->chunks[s & (p->chunks_cap - 1)];
  free(p->chunks);
  p->chunks = c;
  p->chunks_cap = cap;
  return MP_OK;
}

/* c no longer names its job (which may complete, or go, now). */
static void let_go_of_job(mp_pool *p, chunk *c) {
  job *j = c->job;
  if (!j) return;
  c->job = NULL;
  j->live_chunks--;
  mp__job_check_completed(p, j);
  mp__job_release(j);
}

void mp__chunk_done(mp_pool *p, chunk *c) {
  if (c->phase == CHUNK_DONE) return;
  c->phase = CHUNK_DONE;
  let_go_of_job(p, c);
  if (--p->outstanding == 0) mp__pool_poke(p); /* a closed pool may be drained now */
}

/* Its record has been passed by the takers (so none will read its head). */
static int passed(const mp_pool *p, const chunk *c) {
  uint32_t head = MP__POS_COUNT(mp__atomic_load64(&p->arena.h->head));
  return (int32_t)(head - (c->ring_count + 1)) >= 0;
}

void mp__pool_reclaim(mp_pool *p) {
  while (p->first_seq < p->next_seq) {
    chunk *c = mp__chunk_of(p, p->first_seq);
    /* Cancelled while a worker held it: done once that worker has let go. */
    if (c->phase == CHUNK_HELD && c->cancelled && !mp__worker_holds(p, c->holder, c)) mp__chunk_done(p, c);
    if (c->phase != CHUNK_DONE || !passed(p, c)) break;
    p->first_seq++;
    uint64_t next = p->first_seq < p->next_seq ? mp__chunk_of(p, p->first_seq)->at : p->ring.tail;
    mp__tasks_reclaim(&p->ring, &p->arena, next);
  }
}

/* ---------------------------------------------------------- writing */
void mp__pool_wake_workers(mp_pool *p, size_t published) {
  if (!published) return;
  mp__arena_header *h = p->arena.h;
  /* Spinners take what comes; sleepers are woken only for the rest. */
  if (mp__tasks_queued(&p->arena) > mp__atomic_load32(&h->spinners))
    mp__pwait_wake_sleepers(h->work_bell, p->arena.work_bell, published > 1);
}

static uint64_t payload_len(const chunk_src *src, size_t from, uint32_t n) {
  return src->slices ? mp__task_payload_sliced(src->slices + from, n) : mp__task_payload_packed(n, src->item_size);
}

/* The payload of items [from, from + n) of src, written at dst. */
static void encode(uint8_t *dst, const job *j, size_t first, const chunk_src *src, size_t from, uint32_t n) {
  if (src->slices) {
    mp__task_write_head(dst, j->task, first, n, MP__ITEMS_SLICED);
    mp__task_write_slices(dst, src->slices + from, n);
  } else {
    mp__task_write_head(dst, j->task, first, n, (uint32_t)src->item_size);
    if (n && src->item_size)
      memcpy(dst + sizeof(mp__task_head), src->packed + from * src->item_size, (size_t)n * src->item_size);
  }
}

/* A chunk record's flags: whether its worker rings after every item (an
 * imap's consumer and a progress report want each outcome as it comes) or
 * once, at the chunk's end. */
static uint32_t record_flags(const job *j) {
  return ((j->kind == JOB_IMAP || j->progress) ? MP__TASK_RING_EACH : 0) | (j->limit > 0 ? MP__TASK_TIMED : 0);
}

/* Into the ring, if it has room: MP_OK, MP_EFULL (or an error). The
 * payload comes from src (items [from, from + n)) or, given, as bytes. */
static int ring_write(mp_pool *p, job *j, size_t first, uint32_t n, const chunk_src *src, size_t from,
                      const mp__buf *bytes, uint64_t len) {
  uint64_t at;
  int rc = deque_room(p);
  if (rc == MP_OK) rc = mp__tasks_place(&p->ring, &p->arena, len, &at);
  if (rc != MP_OK) return rc;
  uint8_t *dst = mp__tasks_payload(&p->arena, at);
  if (bytes)
    memcpy(dst, bytes->data, (size_t)len);
  else
    encode(dst, j, first, src, from, n);
  uint64_t seq = p->next_seq++;
  chunk *c = &p->chunks[seq & (p->chunks_cap - 1)];
  memset(c, 0, sizeof *c);
  c->seq = seq;
  c->at = at;
  c->ring_count = p->ring.count;
  c->phase = CHUNK_QUEUED;
  c->job = j;
  c->first = first;
  c->n = n;
  c->holder = -1;
  mp__tasks_publish(&p->ring, &p->arena, at, seq, len, record_flags(j));
  return MP_OK;
}

static int queue_pending(mp_pool *p, job *j, size_t first, uint32_t n, const chunk_src *src, size_t from,
                         uint64_t len) {
  pending *q = calloc(1, sizeof *q);
  if (!q) return mp__set_error(MP_ENOMEM, "pool: out of memory queueing work");
  mp__buf_init(&q->payload);
  if (len > SIZE_MAX || mp__buf_grow(&q->payload, (size_t)len) != 0) {
    free(q);
    return mp__set_error(MP_ENOMEM, "pool: out of memory queueing %llu bytes of work", (unsigned long long)len);
  }
  encode(q->payload.data, j, first, src, from, n);
  q->payload.len = (size_t)len;
  q->job = j;
  q->first = first;
  q->n = n;
  if (p->pending_tail)
    p->pending_tail->next = q;
  else
    p->pending = q;
  p->pending_tail = q;
  p->npending++;
  return MP_OK;
}

void mp__pool_dispatch(mp_pool *p) {
  size_t published = 0;
  while (p->pending) {
    pending *q = p->pending;
    if (ring_write(p, q->job, q->first, q->n, NULL, 0, &q->payload, q->payload.len) != MP_OK) break;
    p->pending = q->next;
    if (!p->pending) p->pending_tail = NULL;
    p->npending--;
    mp__buf_release(&q->payload);
    free(q);
    published++;
  }
  mp__pool_wake_workers(p, published);
}

/* One chunk of a submit, into the ring or the queue behind it. */
static int submit_one(mp_pool *p, job *j, size_t first, uint32_t n, const chunk_src *src, size_t from) {
  uint64_t len = payload_len(src, from, n);
  int rc = MP_EFULL;
  if (!p->pending) rc = ring_write(p, j, first, n, src, from, NULL, len);
  if (rc == MP_EFULL) rc = queue_pending(p, j, first, n, src, from, len);
  if (rc != MP_OK) return rc;
  j->live_chunks++;
  p->outstanding++;
  return MP_OK;
}

int mp__pool_submit(mp_pool *p, job *j, size_t first, size_t n, size_t chunksize, const chunk_src *src,
                    int even_if_closed, const char *api) {
  if (chunksize > MP__CHUNK_MAX_ITEMS) chunksize = MP__CHUNK_MAX_ITEMS;
  /* Every chunk must fit the ring, checked before anything is queued. */
  uint64_t most = p->ring.capacity - 256;
  for (size_t at = 0; at < n; at += chunksize) {
    uint32_t count = (uint32_t)(n - at < chunksize ? n - at : chunksize);
    uint64_t len = payload_len(src, at, count);
    if (mp__record_span(len) > most)
      return mp__set_error(MP_ETOOBIG, "%s: a chunk of %llu bytes is over what the pool carries (%llu): use a "
                           "smaller chunksize", api, (unsigned long long)len, (unsigned long long)most);
  }
  mp__mutex_lock(p->lock);
  if (p->state != POOL_RUNNING && !(even_if_closed && p->state == POOL_CLOSED)) {
    mp__mutex_unlock(p->lock);
    return mp__set_error(MP_ESTATE, "%s: the pool is %s: no new work", api,
                         p->state == POOL_CLOSED ? "closed" : "terminated");
  }
  int crc = mp__pool_need_callbacks(p, j, api);
  if (crc != MP_OK) {
    mp__mutex_unlock(p->lock);
    return crc;
  }
  if (p->broken) {
    mp__job_fail_items(j, first, n, MP_ETASK, p->broken);
    mp__job_check_completed(p, j);
    mp__job_release(j);
    mp__mutex_unlock(p->lock);
    return MP_OK;
  }
  size_t published = 0, at = 0;
  int rc = MP_OK, own_limit = j->own_limit && j->limit > 0; /* j may go below */
  while (at < n) {
    uint32_t count = (uint32_t)(n - at < chunksize ? n - at : chunksize);
    int in_ring = !p->pending;
    if ((rc = submit_one(p, j, first + at, count, src, at)) != MP_OK) break;
    published += in_ring && !p->pending;
    at += count;
    if (published && published % SUBMIT_BATCH == 0 && at < n) {
      mp__pool_wake_workers(p, published);
      published = 0;
      mp__mutex_unlock(p->lock);
      mp__mutex_lock(p->lock);
      if (p->state == POOL_TERMINATING || p->state == POOL_DONE) break; /* the rest is cancelled below */
    }
  }
  if (at < n) {
    /* Whatever could not be queued still gets an outcome: the job ends. */
    int status = rc == MP_OK ? MP_ECANCELLED : rc;
    mp__job_fail_items(j, first + at, n - at, status,
                       rc == MP_OK ? "the pool was terminated" : "the pool had no memory to queue it");
    rc = MP_OK;
  }
  if (n == 0 || at < n) {
    mp__job_check_completed(p, j);
    mp__job_release(j); /* a job nobody holds any more goes */
  }
  mp__pool_wake_workers(p, published);
  /* The scheduler moves pending chunks in as room frees; and it must
   * look at a call's own limit (it may sleep with none in mind). */
  if (p->pending || own_limit) mp__pool_poke(p);
  mp__mutex_unlock(p->lock);
  return rc;
}

/* ------------------------------------------------------- cancelling */
/* The pool wants no item of c run any more: taken back if still queued;
 * if a worker has it, it stops before its next item, and a running item
 * is killed with its worker. Every item without an outcome gets one. */
static void cancel_chunk(mp_pool *p, chunk *c, int status, const char *text, int why) {
  mp__task_record *rec = (mp__task_record *)(p->arena.ring + c->at);
  uint64_t expect = MP__TAKE_STATE(c->seq, MP__TAKE_QUEUED);
  c->cancelled = 1;
  if (c->job) mp__job_fail_items(c->job, c->first + c->delivered, c->n - c->delivered, status, text);
  if (mp__atomic_cas64(&rec->state, &expect, MP__TAKE_STATE(c->seq, MP__TAKE_CANCELLED))) {
    mp__chunk_done(p, c); /* it will never run */
    return;
  }
  /* A worker took it (the state names its slot): stop it. */
  mp__atomic_store32(&rec->cancel, 1);
  uint32_t by = MP__TAKE_WHAT(expect) - MP__TAKE_BY;
  c->phase = CHUNK_HELD;
  c->holder = (int)by;
  let_go_of_job(p, c); /* outcomes that still come are dropped */
  /* Whatever it is doing with it (taking it, between items, running
   * one): an item may start any moment, and must not run on. The kill
   * lands a while later, when the worker may have finished this chunk and
   * begun another's item, which it would then take down with it: so the
   * slot says first which chunk the kill is for (both sides write, then
   * read the other's word, sequentially consistent), and a worker that
   * finds its finished chunk named there leaves instead of taking more. */
  if (by < (uint32_t)p->nworkers && p->workers[by]) {
    mp__arena_slot *s = &p->arena.slots[by];
    mp__atomic_store32(&s->doomed, (uint32_t)c->seq);
    if (mp__worker_holds(p, (int)by, c))
      mp__worker_kill_run(p, p->workers[by], why, c->seq, mp__atomic_load32(&s->runs));
  }
}

static void drop_pending(mp_pool *p, job *only, int status, const char *text) {
  pending **link = &p->pending, *last = NULL;
  size_t dropped = 0;
  while (*link) {
    pending *q = *link;
    if (only && q->job != only) {
      last = q;
      link = &q->next;
      continue;
    }
    *link = q->next;
    p->npending--;
    job *j = q->job;
    mp__job_fail_items(j, q->first, q->n, status, text);
    j->live_chunks--;
    mp__job_check_completed(p, j);
    mp__job_release(j);
    p->outstanding--;
    mp__buf_release(&q->payload);
    free(q);
    dropped++;
  }
  p->pending_tail = last;
  if (dropped && p->outstanding == 0) mp__pool_poke(p);
}

void mp__pool_cancel_job(mp_pool *p, job *j, int status, const char *text) {
  drop_pending(p, j, status, text);
  for (uint64_t s = p->first_seq; s < p->next_seq; s++) {
    chunk *c = mp__chunk_of(p, s);
    if (c->job == j && c->phase != CHUNK_DONE && !c->cancelled) cancel_chunk(p, c, status, text, WHY_CANCEL);
  }
  mp__job_check_completed(p, j);
}

void mp__pool_cancel_all(mp_pool *p, int status, const char *text) {
  drop_pending(p, NULL, status, text);
  for (uint64_t s = p->first_seq; s < p->next_seq; s++) {
    chunk *c = mp__chunk_of(p, s);
    if (c->phase != CHUNK_DONE && !c->cancelled) cancel_chunk(p, c, status, text, WHY_TERMINATE);
  }
}

/* ------------------------------------------------------- running again */
/* Items [from, n) of c, which never started, go into a chunk of their own
 * (copied from c's record, still intact: c is not done); c is done. */
void mp__pool_requeue(mp_pool *p, chunk *c, uint32_t from) {
  mp__task_record *rec;
  const uint8_t *payload;
  mp__task_items it;
  job *j = c->job;
  size_t first = c->first + from;
  uint32_t n = c->n - from;
  int rc = mp__tasks_record(&p->arena, c->at, &rec, &payload);
  if (rc == MP_OK) rc = mp__task_items_open(payload, rec->len, &it);
  const uint8_t *start = NULL;
  for (uint32_t k = 0; rc == MP_OK && k <= from && k < c->n; k++) {
    const uint8_t *data;
    size_t len;
    const uint8_t *before = it.at;
    if (mp__task_items_next(&it, &data, &len) != 1) rc = MP_EPROTO;
    if (k == from) start = before;
  }
  if (rc != MP_OK || !start || !j) {
    if (j) mp__job_fail_items(j, first, n, MP_EPROTO, "the pool's own record of the work was damaged");
    mp__chunk_done(p, c);
    return;
  }
  /* The remaining items' bytes, as they are, behind a new head. */
  uint64_t items = (uint64_t)(it.end - start), len = sizeof(mp__task_head) + items;
  mp__buf b;
  mp__buf_init(&b);
  if (mp__buf_grow(&b, (size_t)len) != 0) {
    mp__job_fail_items(j, first, n, MP_ENOMEM, "out of memory to run the work again");
    mp__chunk_done(p, c);
    return;
  }
  mp__task_write_head(b.data, j->task, first, n, it.head.item_size);
  memcpy(b.data + sizeof(mp__task_head), start, (size_t)items);
  b.len = (size_t)len;
  /* c may move when the deque grows: it is done first. */
  j->live_chunks++;
  p->outstanding++;
  mp__chunk_done(p, c);
  rc = p->pending ? MP_EFULL : ring_write(p, j, first, n, NULL, 0, &b, len);
  if (rc == MP_OK) {
    mp__buf_release(&b);
    mp__pool_wake_workers(p, 1);
    return;
  }
  pending *q = calloc(1, sizeof *q);
  if (!q) {
    mp__buf_release(&b);
    mp__job_fail_items(j, first, n, MP_ENOMEM, "out of memory to run the work again");
    j->live_chunks--;
    p->outstanding--;
    mp__job_check_completed(p, j);
    mp__job_release(j);
    return;
  }
  q->job = j;
  q->first = first;
  q->n = n;
  q->payload = b;
  /* At the front: it was taken before anything queued now. */
  q->next = p->pending;
  p->pending = q;
  if (!p->pending_tail) p->pending_tail = q;
  p->npending++;
  mp__pool_poke(p);
}

void mp__pool_free_queues(mp_pool *p) {
  while (p->pending) {
    pending *q = p->pending;
    p->pending = q->next;
    mp__buf_release(&q->payload);
    free(q);
  }
  p->pending_tail = NULL;
  free(p->chunks);
  p->chunks = NULL;
}
