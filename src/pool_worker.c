/* A pool worker's life: map the arena, run the initializer once, then take
 * chunks from the task ring and run their items in place, publishing each
 * outcome as it comes, until the pool closes (or the per-worker budget is
 * spent). Nothing here ever waits on a pipe: the pool sees this process
 * end by waiting for it, and wakes it through the arena's bells. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "pool_out.h"
#include "pool_ring.h"

/* Spinning for work before sleeping: a pool that feeds its workers a
 * stream of short tasks (an apply loop, a map of chunksize 1) never pays
 * for a sleep and a wake. The budget adapts: a spin that found nothing
 * makes the next one short, since on a loaded machine a spinner only
 * takes the core its pool needs. */
#define SPIN_MAX 50e-6
#define SPIN_MIN 2e-6

typedef struct worker {
  mp__arena a;
  mp__out_writer out;
  mp__arena_slot *slot;
  int id;
  uint64_t committed;         /* ring pages usable here */
  double spin;
  const char *task;           /* what runs now, for a message */
} worker;

static worker *current; /* for escape(): one worker per process */

/* ----------------------------------------------------------- waiting */
static int work_in_sight(const mp__arena *a) {
  return mp__atomic_load64(&a->h->head) != mp__atomic_load64(&a->h->tail) || mp__atomic_load32(&a->h->closing);
}

static int spin_for_work(worker *w) {
  double until = 0;
  mp__atomic_add32(&w->a.h->spinners, 1);
  int found = 0;
  for (unsigned i = 1;; i++) {
    if (work_in_sight(&w->a)) {
      found = 1;
      break;
    }
    mp__cpu_relax();
    if ((i & 31) == 0) {
      double now = mp__now();
      if (until == 0) {
        until = now + w->spin;
      } else if (now >= until) {
        break;
      }
    }
  }
  mp__atomic_add32(&w->a.h->spinners, -1);
  w->spin = found ? (w->spin * 2 > SPIN_MAX ? SPIN_MAX : w->spin * 2) : SPIN_MIN;
  return found;
}

/* The next chunk's record: 1 and *at; 0 when the pool is closing and the
 * ring is empty; MP_EPROTO for a ring that is garbage. */
static int next_chunk(worker *w, uint64_t *at) {
  mp__arena_header *h = w->a.h;
  for (;;) {
    int r = mp__tasks_take(&w->a, w->id, at, &w->committed);
    if (r != 0) return r;
    if (mp__atomic_load32(&h->closing)) return 0;
    if (spin_for_work(w)) continue;
    /* Announce, look again, sleep: a record published after the look
     * rings us (the pool wakes a sleeper whenever no spinner will take it). */
    uint32_t seen = mp__pwait_prepare(h->work_bell);
    if (work_in_sight(&w->a)) {
      mp__pwait_cancel(h->work_bell);
      continue;
    }
    (void)mp__pwait_commit(h->work_bell, w->a.work_bell, seen, 1.0);
  }
}

/* --------------------------------------------------------- running */
/* A C++ exception left the task: its outcome says so (the process then
 * ends at once: nothing below this worker may run). */
static void escape(mp_call *call) {
  worker *w = current;
  char text[256];
  if (mp__task_aborted())
    snprintf(text, sizeof text,
             "task \"%s\" aborted, signal 6 (abort(), or a C++ exception that nothing caught escaped it)", w->task);
  else
    snprintf(text, sizeof text, "a C++ exception escaped task \"%s\"; its worker ended", w->task);
  if (mp__atomic_load32(&w->slot->state) == MP__SLOT_INIT) {
    mp__out_init_failed(&w->out, 0, text);
  } else {
    mp__atomic_store32(&w->slot->state, MP__SLOT_HOLDING);
    mp__out_fail(&w->out, w->slot->item, MP_ECRASHED, 0, text);
  }
  mp__out_ring_pool(&w->out);
  (void)call;
}

static void after_item(mp_call *call) {
  /* Most items leave nothing to free: skip the calls then. */
  if (call->message || call->result != (void *)call->result_inline) mp__call_release(call);
  call->result = NULL;
  call->result_len = 0;
}

/* 1: the pool cancelled this chunk while we held it, and its kill may be
 * on the way; 0: take the next. */
static int run_chunk(worker *w, mp_call *call, uint64_t at) {
  mp__arena_slot *s = w->slot;
  mp__task_record *rec;
  const uint8_t *payload;
  mp__task_items items;
  if (mp__tasks_record(&w->a, at, &rec, &payload) != MP_OK) {
    fprintf(stderr, "mproc pool worker %d: %s\n", w->id, mp_last_error());
    mp__worker_exit(MP__EXIT_BAD_BOOT);
  }
  uint64_t seq = rec->seq; /* the record is the pool's again once the chunk is done */
  mp__out_chunk(&w->out, seq);
  if (mp__task_items_open(payload, rec->len, &items) != MP_OK) {
    mp__out_fail(&w->out, 0, MP_EPROTO, 0, mp_last_error());
    goto done;
  }
  mp_task_fn fn = mp__task_lookup(items.head.task);
  int timed = w->a.h->timed != 0 || (rec->flags & MP__TASK_TIMED) != 0, ring_each = (rec->flags & MP__TASK_RING_EACH) != 0;
  w->task = items.head.task;
  mp__atomic_store32(&s->state, MP__SLOT_HOLDING);
  char text[160];
  for (uint32_t k = 0;; k++) {
    const uint8_t *data;
    size_t len;
    int got = mp__task_items_next(&items, &data, &len);
    if (got == 0) break;
    if (got < 0) {
      mp__out_fail(&w->out, k, MP_EPROTO, 0, mp_last_error());
      break;
    }
    /* Say what runs (the item and its start, then the state, in that
     * order: release), then look at the cancel word. The pool kills a
     * worker that holds a chunk it cancels, whatever it is doing, so this
     * look only saves the worker the kill when it comes in time: no fence
     * per item. */
    s->item = k;
    if (timed) s->started_ns = mp__arena_now_ns();
    s->runs = s->runs + 1; /* only this process writes it */
    mp__atomic_store32_release(&s->state, MP__SLOT_RUNNING);
    if (rec->cancel) {
      mp__atomic_store32_release(&s->state, MP__SLOT_HOLDING);
      break;
    }
    if (!fn) {
      mp__atomic_store32(&s->state, MP__SLOT_HOLDING);
      snprintf(text, sizeof text, "no task registered under \"%s\" in the worker", items.head.task);
      mp__out_fail(&w->out, k, MP_ENOTASK, 0, text);
      continue;
    }
    call->arg = data;
    call->arg_len = len;
    call->index = (size_t)(items.head.first + k);
    int ret = mp__task_call(fn, call, escape);
    /* Not running any more, for the timeout's sake: its outcome may have
     * to wait for room. (Without a timeout the pool tells a finished item
     * by its outcome, not by this word.) */
    if (timed) mp__atomic_store32_release(&s->state, MP__SLOT_HOLDING);
    if (ret == 0) {
      mp__out_ok(&w->out, k, call->result ? call->result : "", call->result_len);
    } else {
      snprintf(text, sizeof text, "task \"%s\" returned %d", items.head.task, ret);
      mp__out_fail(&w->out, k, MP_ETASK, ret, call->message ? call->message : text);
    }
    after_item(call);
    mp__objects_after_task(call->objects, call->nobjects);
    if (ring_each) mp__out_ring_pool(&w->out);
  }
done:
  /* What the items printed reaches its file now, not at some later exit
   * that a kill could take away (a look, and no call, when nothing is). */
  mp__flush_stdio();
  s->chunk = 0;
  mp__atomic_store32(&s->state, MP__SLOT_IDLE); /* then the look at doomed: cancel_chunk says why */
  mp__out_ring_pool(&w->out);
  return mp__atomic_load32(&s->doomed) == (uint32_t)seq;
}

/* An initializer that fails ends the worker, its failure in the ring; the
 * pool then fails the work rather than restart it forever. */
static int run_initializer(worker *w, const mp__boot *b, mp_call *call) {
  mp__atomic_store32(&w->slot->state, MP__SLOT_INIT);
  if (!b->task[0]) return MP_OK;
  mp_task_fn fn = mp__task_lookup(b->task);
  char text[160];
  w->task = b->task;
  if (!fn) {
    snprintf(text, sizeof text, "initializer \"%s\" is not registered in the worker", b->task);
    mp__out_init_failed(&w->out, 0, text);
    mp__out_ring_pool(&w->out);
    return MP_ENOTASK;
  }
  call->arg = b->arg;
  call->arg_len = b->arg_len;
  int code = mp__task_call(fn, call, escape);
  /* A lock the initializer left held would stay with this thread for
   * every task after it. */
  mp__objects_after_task(call->objects, call->nobjects);
  if (code != 0) {
    /* Named, whatever it said: the sentence reaches tasks that never ran. */
    char said[600];
    if (call->message)
      snprintf(said, sizeof said, "initializer \"%s\" returned %d: %s", b->task, code, call->message);
    else
      snprintf(said, sizeof said, "initializer \"%s\" returned %d", b->task, code);
    mp__out_init_failed(&w->out, code, said);
    mp__out_ring_pool(&w->out);
  }
  mp__call_release(call);
  call->arg = NULL;
  call->arg_len = 0;
  mp__flush_stdio();
  return code == 0 ? MP_OK : MP_ETASK;
}

int mp__pool_worker_loop(const mp__boot *b, mp_call *call, int import_rc, const char *import_text) {
  static worker w;
  int rc = mp__arena_import(&w.a, b->channel, b->nchannel, b->channel_blob, b->channel_bloblen);
  if (rc != MP_OK) {
    fprintf(stderr, "mproc pool worker %d: %s\n", b->worker_id, mp_last_error());
    return MP__EXIT_BAD_BOOT;
  }
  w.id = w.a.own_slot;
  w.slot = &w.a.slots[w.id];
  w.spin = SPIN_MAX;
  mp__out_writer_init(&w.out, &w.a);
  current = &w;
  if (import_rc != MP_OK) {
    /* The pool's objects did not come through: nothing can run here. */
    mp__out_init_failed(&w.out, 0, import_text);
    mp__out_ring_pool(&w.out);
    return 1;
  }
  if (run_initializer(&w, b, call) != MP_OK) return 1;
  mp__atomic_store32(&w.slot->state, MP__SLOT_IDLE);
  uint32_t chunks = 0;
  int code = 0;
  for (;;) {
    uint64_t at;
    int got = next_chunk(&w, &at);
    if (got == 0) break; /* the pool is closing: leave, flushing on the way */
    if (got < 0) {
      fprintf(stderr, "mproc pool worker %d: %s\n", b->worker_id, mp_last_error());
      code = MP__EXIT_BAD_BOOT;
      break;
    }
    /* More queued than spinners will take: pass the wake on. */
    if (mp__tasks_queued(&w.a) > mp__atomic_load32(&w.a.h->spinners))
      mp__pwait_wake_sleepers(w.a.h->work_bell, w.a.work_bell, 0);
    /* A worker whose kill is on the way leaves before it takes an item
     * the kill would be blamed for; it is replaced, as a killed one is. */
    if (run_chunk(&w, call, at)) break;
    if (b->max_tasks && ++chunks >= b->max_tasks) break;
  }
  /* The arena stays mapped: the process ends right after. */
  return code;
}
