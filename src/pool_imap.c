/* imap: results as they complete, inputs pulled from a producer only as
 * room frees up (backpressure). The producer runs on the caller's thread,
 * never under the lock. An index takes ring slot index % cap, and only
 * when that slot is free: in unordered mode a slow early item holds the
 * window back instead of being overwritten. An imap submitted before the
 * pool was closed goes on pulling after it: what its producer gives is
 * work the pool already took. */
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* Chunks in flight per worker by default. */
#define IMAP_AHEAD 4

struct mp_iter {
  mp_pool *pool;
  pool_anchor *anchor;
  job *job;                /* results: a ring of cap slots (job->ring) */
  mp_producer producer;
  void *ud;
  size_t chunksize, max_in_flight, cap;
  int unordered;
  size_t pulled;           /* inputs taken from the producer */
  size_t handed;           /* results given to the caller */
  int producer_done;
  int producer_error;
  int open;                /* counted in the pool's open_iters */
  uint8_t *slot_state;     /* per ring slot: SLOT_FREE, SLOT_FLYING, SLOT_READY */
  size_t *order;           /* unordered: completion order, a ring */
  size_t order_head, order_tail;
  size_t known_free;       /* slots from `pulled` on already seen free */
  mp_slice *items;         /* one chunk's inputs, as pulled */
  size_t *offsets;
};

void mp__iter_delivered(mp_iter *it, size_t index) {
  it->slot_state[index % it->cap] = SLOT_READY;
  if (it->unordered) it->order[it->order_tail++ % it->cap] = index;
  mp__cond_broadcast(it->anchor->waiters);
}

/* The producer gave its last input (or failed): the pool need not wait
 * for this imap to close. Lock held. */
static void producer_ended(mp_iter *it) {
  if (!it->open) return;
  it->open = 0;
  if (it->anchor->pool) {
    it->anchor->pool->open_iters--;
    mp__pool_poke(it->anchor->pool);
  }
}

/* How many of the next want slots are free (0 if the window is full). */
static size_t free_run(mp_iter *it, size_t want) {
  if (it->pulled + want - it->handed > it->max_in_flight) return 0;
  mp__mutex_lock(it->anchor->lock);
  size_t n = it->known_free;
  while (n < want && it->slot_state[(it->pulled + n) % it->cap] == SLOT_FREE) n++;
  it->known_free = n;
  mp__mutex_unlock(it->anchor->lock);
  return n;
}

/* Pulls whole chunks while the window has room. The lock is NOT held: the
 * producer is user code. Each index is asked for once: what the producer
 * gave is submitted, or, if the pool refuses it (terminated), the imap
 * ends with that error. */
static int iter_pull(mp_iter *it) {
  while (!it->producer_done) {
    size_t want = free_run(it, it->chunksize);
    if (want < it->chunksize) break;
    size_t got = 0;
    int ended = 0, err = 0;
    mp__buf held;
    mp__buf_init(&held);
    for (; got < want; got++) {
      mp_slice s = {NULL, 0};
      int r = it->producer(it->ud, it->pulled + got, &s);
      if (r <= 0) {
        ended = 1;
        if (r < 0) err = r;
        break;
      }
      if ((!s.data && s.len) || s.len > MP_MAX_MESSAGE) {
        ended = 1;
        err = mp__set_error(MP_EINVAL, "mp_iter_next: the producer gave item %llu as NULL or over MP_MAX_MESSAGE",
                            (unsigned long long)(it->pulled + got));
        break;
      }
      it->offsets[got] = held.len;
      mp__buf_put(&held, s.data, s.len);
      it->items[got].len = s.len;
    }
    if (held.failed) {
      got = 0;
      ended = 1;
      err = mp__set_error(MP_ENOMEM, "mp_iter_next: out of memory for the producer's items");
    }
    for (size_t k = 0; k < got; k++) it->items[k].data = held.data ? held.data + it->offsets[k] : (const uint8_t *)"";
    int rc = MP_OK;
    if (got) {
      job *j = it->job;
      mp__mutex_lock(it->anchor->lock);
      for (size_t k = 0; k < got; k++) it->slot_state[(it->pulled + k) % it->cap] = SLOT_FLYING;
      mp__mutex_unlock(it->anchor->lock);
      chunk_src src = {NULL, 0, it->items};
      rc = it->anchor->pool ? mp__pool_submit(it->pool, j, it->pulled, got, it->chunksize, &src, 1, "mp_iter_next")
                            : mp__set_error(MP_ESTATE, "mp_iter_next: the pool was freed");
      mp__mutex_lock(it->anchor->lock);
      if (rc == MP_OK) {
        j->n = it->pulled + got;
        it->pulled += got;
        it->known_free -= got;
      } else {
        for (size_t k = 0; k < got; k++) it->slot_state[(it->pulled + k) % it->cap] = SLOT_FREE;
        it->known_free = 0;
        ended = 1;
        err = rc;
      }
      mp__mutex_unlock(it->anchor->lock);
    }
    mp__buf_release(&held);
    if (ended) {
      mp__mutex_lock(it->anchor->lock);
      it->producer_done = 1;
      it->producer_error = err;
      producer_ended(it);
      mp__mutex_unlock(it->anchor->lock);
    }
  }
  return MP_OK;
}

static void iter_destroy(mp_iter *it) {
  if (it->job) {
    for (size_t i = 0; it->job->results && i < it->cap; i++) mp_result_clear(&it->job->results[i]);
    free(it->job->results);
    free(it->job);
  }
  free(it->slot_state);
  free(it->order);
  free(it->items);
  free(it->offsets);
  free(it);
}

int mp_pool_imap(mp_pool *p, const char *task, mp_producer producer, void *ud, const mp_imap_options *opts,
                 mp_iter **out) {
  if (out) *out = NULL;
  if (!p || !producer || !out)
    return mp__set_error(MP_EINVAL, "mp_pool_imap: %s is NULL", !p ? "the pool" : !producer ? "producer" : "out");
  int rc = mp__check_task("mp_pool_imap", task);
  if (rc == MP_OK) rc = mp__call_options_check("mp_pool_imap", opts ? opts->call : NULL);
  if (rc != MP_OK) return rc;
  mp_iter *it = calloc(1, sizeof *it);
  if (!it) return mp__set_error(MP_ENOMEM, "mp_pool_imap: out of memory");
  it->pool = p;
  it->anchor = p->anchor;
  it->producer = producer;
  it->ud = ud;
  it->chunksize = opts && opts->chunksize ? opts->chunksize : 1;
  if (it->chunksize > MP__CHUNK_MAX_ITEMS) it->chunksize = MP__CHUNK_MAX_ITEMS;
  it->unordered = opts && opts->unordered;
  it->max_in_flight =
      opts && opts->max_in_flight ? opts->max_in_flight : (size_t)p->nworkers * IMAP_AHEAD * it->chunksize;
  if (it->max_in_flight < it->chunksize) it->max_in_flight = it->chunksize;
  it->cap = it->max_in_flight;
  it->job = mp__job_new(p, JOB_IMAP, task, 0);
  it->slot_state = calloc(it->cap, 1);
  it->order = calloc(it->cap, sizeof *it->order);
  it->items = calloc(it->chunksize, sizeof *it->items);
  it->offsets = calloc(it->chunksize, sizeof *it->offsets);
  if (!it->job || !it->slot_state || !it->order || !it->items || !it->offsets ||
      !(it->job->results = calloc(it->cap, sizeof *it->job->results))) {
    iter_destroy(it);
    return mp__set_error(MP_ENOMEM, "mp_pool_imap: out of memory");
  }
  it->job->iter = it;
  it->job->ring = it->cap;
  mp__job_take_call_options(p, it->job, opts ? opts->call : NULL);
  mp__mutex_lock(p->lock);
  if (p->state != POOL_RUNNING) {
    mp__mutex_unlock(p->lock);
    iter_destroy(it);
    return mp__set_error(MP_ESTATE, "mp_pool_imap: the pool is %s: no new work",
                         p->state == POOL_CLOSED ? "closed" : "terminated");
  }
  it->job->user_ref = 1;
  p->anchor->refs++;
  it->open = 1;
  p->open_iters++;
  mp__mutex_unlock(p->lock);
  iter_pull(it);
  if (it->pulled == 0 && it->producer_done && it->producer_error) {
    /* It failed before giving anything: that is imap's answer. */
    rc = it->producer_error;
    mp_iter_free(it);
    return mp__set_error(rc, "mp_pool_imap: the producer failed at once (%d)", rc);
  }
  *out = it;
  return MP_OK;
}

typedef struct next_ctx {
  mp_iter *it;
} next_ctx;

/* The next result is in, or nothing more can come. */
static int next_ready(void *ud) {
  mp_iter *it = ((next_ctx *)ud)->it;
  if (!it->anchor->pool || it->anchor->pool->state == POOL_DONE) return 1;
  if (it->handed == it->pulled) return it->producer_done;
  if (it->unordered) return it->order_head != it->order_tail;
  return it->slot_state[it->handed % it->cap] == SLOT_READY;
}

int mp_iter_next(mp_iter *it, double timeout, size_t *index, mp_result *res) {
  if (res) memset(res, 0, sizeof *res);
  if (!it || !res) return mp__set_error(MP_EINVAL, "mp_iter_next: %s is NULL", it ? "res" : "the iterator");
  int trc = mp__timeout_check("mp_iter_next", timeout);
  if (trc != MP_OK) return trc;
  double deadline = mp__deadline(timeout);
  iter_pull(it);
  pool_anchor *a = it->anchor;
  mp__mutex_lock(a->lock);
  next_ctx x = {it};
  int rc = MP_OK;
  for (;;) {
    if (!a->pool) {
      rc = mp__set_error(MP_ESTATE, "mp_iter_next: its pool was freed");
      break;
    }
    if (it->handed == it->pulled && it->producer_done) {
      rc = it->producer_error ? mp__set_error(it->producer_error, "mp_iter_next: the producer failed (%d)",
                                              it->producer_error)
                              : mp__set_error(MP_ECLOSED, "mp_iter_next: no more results");
      break;
    }
    size_t slot = SIZE_MAX, idx = 0;
    if (it->unordered) {
      if (it->order_head != it->order_tail) {
        idx = it->order[it->order_head++ % it->cap];
        slot = idx % it->cap;
      }
    } else if (it->handed < it->pulled && it->slot_state[it->handed % it->cap] == SLOT_READY) {
      slot = it->handed % it->cap;
      idx = it->handed;
    }
    if (slot != SIZE_MAX) {
      *res = it->job->results[slot];
      memset(&it->job->results[slot], 0, sizeof *res);
      it->slot_state[slot] = SLOT_FREE;
      it->handed++;
      if (index) *index = idx;
      mp__mutex_unlock(a->lock);
      iter_pull(it); /* refill; a failure shows on a later call */
      return MP_OK;
    }
    if (!a->pool || a->pool->state == POOL_DONE) {
      rc = mp__set_error(MP_ESTATE, "mp_iter_next: the pool has stopped (terminated or freed)");
      break;
    }
    if (mp__pool_wait_until(a->pool, next_ready, &x, deadline) != MP_OK) {
      rc = mp__set_error(MP_ETIMEDOUT, "mp_iter_next: no result yet");
      break;
    }
  }
  mp__mutex_unlock(a->lock);
  return rc;
}

mp_iter *mp_iter_free(mp_iter *it) {
  if (!it) return NULL;
  pool_anchor *a = it->anchor;
  mp__mutex_lock(a->lock);
  mp_pool *p = a->pool;
  job *j = it->job;
  if (p) {
    /* Work not done is cancelled: a queued chunk never runs, a running
     * item's worker is killed. Nothing waits for any of it. */
    mp__pool_cancel_job(p, j, MP_ECANCELLED, "mp_iter_free: the iterator was freed");
    mp__pool_poke(p);
  }
  producer_ended(it);
  j->user_ref = j->pool_ref = 0;
  if (j->live_chunks) it->job = NULL; /* cannot be: every chunk let go of it above */
  mp__mutex_unlock(a->lock);
  iter_destroy(it);
  mp__anchor_unref(a);
  return NULL;
}
