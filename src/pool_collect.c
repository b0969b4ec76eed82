/* Reading the workers' result rings into jobs, and waiting for outcomes.
 *
 * Whoever waits collects: a caller blocked in a map or on a job reads the
 * rings itself, so a short task's result travels from the worker to the
 * caller with no thread in between. While any caller does, the arena's
 * `collectors` word tells workers not to ring the pool; the scheduler
 * collects when no caller does (async jobs, callbacks), woken by the
 * workers' rings. A waiter spins first (a short task is done within
 * microseconds), then naps, then sleeps on the waiters' condition and
 * leaves the collecting to the scheduler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* How a waiter waits once outcomes stop coming: spin, then nap (growing),
 * then sleep. */
#define WAIT_SPIN 50e-6
#define WAIT_NAPS 10e-3
#define NAP_FIRST 20e-6
#define NAP_MAX 1e-3
/* Outcomes this far apart are not a stream: sleep between them. */
#define SLOW_STREAM 200e-6

typedef struct collect_ctx {
  mp_pool *p;
  worker *w;
  chunk *c;                   /* w->cur_seq's, looked up once (the deque
                                 does not move while a ring is read) */
  size_t outcomes;
  int bad;
} collect_ctx;

static int protocol_error(collect_ctx *x, const char *what) {
  x->bad = 1;
  (void)mp__set_error(MP_EPROTO, "worker %d sent %s", x->w->slot, what);
  return 1; /* stop reading this ring */
}

/* A blocking map of fixed-size items, with nothing else to tell: its OK
 * results of len bytes go straight into the caller's output. */
static int straight_to_output(const job *j, size_t len) {
  return j && j->fixed_out && !j->results && len == j->out_size && !j->progress;
}

/* n more outcomes of c are in: the chunk is done with the last. */
static void count_delivered(collect_ctx *x, chunk *c, uint32_t n) {
  c->delivered += n;
  x->outcomes += n;
  if (c->delivered == c->n) {
    mp__chunk_done(x->p, c);
    x->w->cur_seq = 0;
    x->c = NULL;
  }
}

/* A run of OK outcomes of consecutive items, e->len bytes each. */
static int on_run(collect_ctx *x, chunk *c, mp__out_event *e) {
  if (e->index != c->delivered || e->count > c->n - c->delivered) return protocol_error(x, "a run out of order");
  job *j = c->cancelled ? NULL : c->job;
  if (straight_to_output(j, e->len)) {
    memcpy((uint8_t *)j->fixed_out + (c->first + e->index) * j->out_size, e->data, (size_t)e->count * e->len);
    j->outcomes += e->count;
  } else if (j) {
    for (uint32_t k = 0; k < e->count; k++)
      mp__job_deliver(j, c->first + e->index + k, MP_OK, 0, NULL, e->data + (size_t)k * e->len, e->len, NULL);
  }
  count_delivered(x, c, e->count);
  return 0;
}

static int on_outcome(void *ud, mp__out_event *e) {
  collect_ctx *x = ud;
  mp_pool *p = x->p;
  worker *w = x->w;
  if (e->type == MP__OUT_INIT_FAILED) {
    w->init_failed = 1;
    w->init_code = e->code;
    free(w->init_text);
    w->init_text = mp__strdup(e->text);
    return 0;
  }
  if (e->type == MP__OUT_CHUNK) {
    chunk *c = mp__chunk_of(p, e->seq);
    chunk *prev = w->cur_seq ? mp__chunk_of(p, w->cur_seq) : NULL;
    if (prev && prev->phase == CHUNK_HELD && prev->holder == w->slot) {
      /* It moved on: only a cancelled chunk may be left unfinished. */
      if (!prev->cancelled) return protocol_error(x, "a new chunk before finishing the last");
      mp__chunk_done(p, prev);
    }
    if (!c || c->phase == CHUNK_DONE) return protocol_error(x, "a chunk it does not hold");
    mp__task_record *rec = (mp__task_record *)(p->arena.ring + c->at);
    if (MP__TAKE_WHAT(mp__atomic_load64(&rec->state)) != MP__TAKE_BY + (uint32_t)w->slot)
      return protocol_error(x, "a chunk it did not take");
    c->phase = CHUNK_HELD;
    c->holder = w->slot;
    w->cur_seq = e->seq;
    x->c = c;
    return 0;
  }
  chunk *c = x->c;
  if (!c) x->c = c = w->cur_seq ? mp__chunk_of(p, w->cur_seq) : NULL;
  if (!c || c->holder != w->slot || c->phase != CHUNK_HELD) return protocol_error(x, "an outcome of no chunk");
  if (e->type == MP__OUT_RUN) return on_run(x, c, e);
  if (e->index != c->delivered || e->index >= c->n) return protocol_error(x, "an outcome out of order");
  job *j = c->cancelled ? NULL : c->job;
  if (e->type == MP__OUT_OK && straight_to_output(j, e->len)) {
    memcpy((uint8_t *)j->fixed_out + (c->first + e->index) * j->out_size, e->data, e->len);
    j->outcomes++;
  } else if (j) {
    if (e->type == MP__OUT_OK)
      mp__job_deliver(j, c->first + e->index, MP_OK, 0, NULL, e->data, e->len, e->big);
    else
      mp__job_deliver(j, c->first + e->index, e->status, e->code, e->text, NULL, 0, NULL);
  }
  count_delivered(x, c, 1);
  return 0;
}

size_t mp__pool_collect_worker(mp_pool *p, worker *w) {
  mp__arena_slot *s = &p->arena.slots[w->slot];
  /* The count first: the tail read after it covers what it counts. */
  uint64_t pub = mp__atomic_load64(&s->res_pub);
  if (pub == mp__atomic_load64(&s->res_seen)) return 0;
  uint64_t tail = mp__atomic_load64(&s->res_tail);
  collect_ctx x = {p, w, NULL, 0, 0};
  int rc = mp__out_read(&w->in, mp__arena_result_ring(&p->arena, w->slot), p->arena.result_bytes, tail,
                        on_outcome, &x);
  mp__atomic_store64(&s->res_head, w->in.head);
  mp__atomic_store64(&s->res_seen, pub);
  /* A worker waiting for room sleeps on its bell: one read if not. */
  mp__pwait_wake_sleepers(s->space_bell, p->arena.space_bells[w->slot], 1);
  if (rc != MP_OK || x.bad) {
    /* What it writes cannot be trusted: it goes, and its item with it. */
    if (!w->proto_text[0]) snprintf(w->proto_text, sizeof w->proto_text, "%s", mp_last_error());
    if (!w->exited) mp__worker_kill(p, w, WHY_PROTO);
    w->in.head = tail; /* nothing more is read from it */
  }
  return x.outcomes;
}

size_t mp__pool_collect(mp_pool *p) {
  size_t n = 0;
  for (int i = 0; i < p->nworkers; i++)
    if (p->workers[i]) n += mp__pool_collect_worker(p, p->workers[i]);
  mp__pool_reclaim(p);
  if (p->pending) mp__pool_dispatch(p);
  return n;
}

int mp__pool_outcomes_waiting(mp_pool *p) {
  for (uint32_t i = 0; i < p->arena.nslots; i++) {
    mp__arena_slot *s = &p->arena.slots[i];
    if (mp__atomic_load64(&s->res_pub) != mp__atomic_load64(&s->res_seen)) return 1;
  }
  return 0;
}

void mp__collector_enter(mp_pool *p) {
  mp__atomic_store32(&p->arena.h->collectors, (uint32_t)++p->collectors);
}

void mp__collector_leave(mp_pool *p) {
  mp__atomic_store32(&p->arena.h->collectors, (uint32_t)--p->collectors);
  /* Nobody reads the rings now: the scheduler, if asleep, takes over. */
  if (p->collectors == 0) mp__pwait_wake_sleepers(p->arena.h->parent_bell, p->arena.parent_bell, 1);
}

/* A few microseconds of looking, without the lock. */
static void spin_briefly(mp_pool *p) {
  for (int i = 0; i < 256; i++) {
    if (mp__pool_outcomes_waiting(p)) return;
    mp__cpu_relax();
  }
}

int mp__pool_wait_until(mp_pool *p, int (*done)(void *ud), void *ud, double deadline) {
  /* The phases count from the last outcome that came in: a long map
   * whose outcomes keep coming is collected by its caller to the end.
   * When they come far apart (long items), spinning and napping between
   * them would only take a core from the workers: then the caller sleeps
   * and the scheduler, rung by the workers, collects and wakes it. */
  double quiet_since = mp__now(), nap = NAP_FIRST, gap = 0;
  int collecting = 0, rc = MP_OK;
  pool_anchor *a = p->anchor;
  for (;;) {
    if (done(ud)) break;
    if (mp__pool_collect(p)) {
      double t = mp__now();
      gap = t - quiet_since;
      quiet_since = t;
      nap = NAP_FIRST;
    }
    if (done(ud)) break;
    double left = mp__remaining(deadline);
    if (left == 0) {
      rc = MP_ETIMEDOUT;
      break;
    }
    double quiet = mp__now() - quiet_since;
    if (quiet < WAIT_NAPS && gap < SLOW_STREAM && p->state != POOL_DONE) {
      if (!collecting) {
        mp__collector_enter(p);
        collecting = 1;
      }
      mp__mutex_unlock(p->lock);
      if (quiet < WAIT_SPIN) {
        spin_briefly(p);
      } else {
        mp__sleep(left > 0 && left < nap ? left : nap);
        nap = nap * 2 > NAP_MAX ? NAP_MAX : nap * 2;
      }
      mp__mutex_lock(p->lock);
      continue;
    }
    if (collecting) {
      mp__collector_leave(p);
      collecting = 0;
    }
    mp__cond_wait(a->waiters, a->lock, left);
    /* Woken: an outcome, or the end. Back to looking for a moment. */
    double t = mp__now();
    if (t - quiet_since < SLOW_STREAM) gap = 0;
    quiet_since = t;
  }
  if (collecting) mp__collector_leave(p);
  return rc;
}
