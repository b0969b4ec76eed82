/* A pool's workers: starting one for a slot, the thread that waits for it
 * to end, killing it, and burying it: the outcome of exactly the item it
 * was running, and the items of its chunk it never started run again.
 *
 * What a dead worker held is read from where it wrote it: its slot says
 * which chunk it was taking or holding and which item it ran last; the
 * chunk's record says whether it owned that chunk (its state names the
 * slot); its result ring says which items finished. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "pool_internal.h"

/* Restarts after a worker died before it could work, or its initializer
 * did: 50 ms, doubling, up to 1 s; three in a row and the pool stops. */
#define BACKOFF_FIRST 0.05
#define BACKOFF_MAX 1.0
#define DEATHS_IN_A_ROW 3

void mp__worker_free(worker *w) {
  if (!w) return;
  mp__child_free(w->child);
  mp__out_reader_release(&w->in);
  free(w->init_text);
  free(w);
}

static void watcher_main(void *arg) {
  worker *w = arg;
  mp_pool *p = w->pool;
  /* The one wait of the pool that has no end: for its own child. */
  while (mp__child_wait_exit(w->child, MP_FOREVER) != MP_OK) mp__sleep(0.01);
  mp__mutex_lock(p->lock);
  w->exited = 1;
  mp__pool_poke(p);
  mp__mutex_unlock(p->lock);
}

int mp__worker_start(mp_pool *p, int slot, worker **out) {
  worker *w = calloc(1, sizeof *w);
  if (!w) return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  w->pool = p;
  w->slot = slot;
  mp__out_reader_init(&w->in);
  mp__arena_reset_slot(&p->arena, slot);
  mp__handle handles[8];
  size_t nhandles = 0;
  uint8_t room[64];
  mp__buf blob;
  mp__buf_init_on(&blob, room, sizeof room);
  int rc = mp__arena_export(&p->arena, slot, handles, &nhandles, &blob);
  if (rc == MP_OK && blob.failed) rc = mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  if (rc == MP_OK) {
    mp__launch_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.method = p->method;
    spec.role = MP__ROLE_POOL_WORKER;
    spec.worker_id = slot;
    spec.task = p->initializer;
    spec.arg = p->initarg;
    spec.arg_len = p->initarg_len;
    spec.objects = p->objects;
    spec.nobjects = p->nobjects;
    spec.result_wr = MP__NO_HANDLE;
    spec.max_tasks = p->max_tasks;
    spec.channel = handles;
    spec.nchannel = nhandles;
    spec.channel_blob = blob.data;
    spec.channel_bloblen = blob.len;
    rc = mp__launch(&spec, &w->child);
  }
  mp__buf_release(&blob);
  if (rc == MP_OK) {
    w->pid = mp__child_pid(w->child);
    rc = mp__thread_start(&w->watcher, watcher_main, w);
  }
  if (rc != MP_OK) {
    mp__worker_free(w);
    return rc;
  }
  *out = w;
  return MP_OK;
}

void mp__worker_kill(mp_pool *p, worker *w, int why) {
  (void)p;
  if (w->exited || w->why) return;
  w->why = why;
  mp__child_signal(w->child, MP__SIG_KILL);
}

void mp__worker_kill_run(mp_pool *p, worker *w, int why, uint64_t seq, uint32_t runs) {
  if (w->exited || w->why) return;
  w->kill_seq = seq;
  w->kill_runs = runs;
  mp__worker_kill(p, w, why);
}

int mp__worker_holds(const mp_pool *p, int slot, const chunk *c) {
  if (slot < 0 || slot >= p->nworkers || !p->workers[slot]) return 0;
  const mp__arena_slot *s = &p->arena.slots[slot];
  uint32_t st = mp__atomic_load32((volatile uint32_t *)&s->state);
  return s->chunk == c->seq && st >= MP__SLOT_TAKING;
}

/* ------------------------------------------------------------ burying */
static void describe_end(char *out, size_t cap, int code) {
  if (code == MP__EXIT_UNKNOWN)
    snprintf(out, cap, "ended (reaped elsewhere: SIGCHLD ignored?)");
  else if (code < 0)
    snprintf(out, cap, "was killed by signal %d", -code);
  else
    snprintf(out, cap, "exited with code %d", code);
}

static void pool_broken(mp_pool *p, int code, const char *text) {
  if (p->broken) return;
  p->broken = mp__strdup(text);
  p->broken_code = code;
  mp__pool_cancel_all(p, MP_ETASK, p->broken);
  mp__pool_poke(p);
}

static double backoff(int n) {
  double d = BACKOFF_FIRST;
  while (--n > 0 && d < BACKOFF_MAX) d *= 2;
  return d > BACKOFF_MAX ? BACKOFF_MAX : d;
}

/* The chunk the dead worker of slot owned, if any. */
static chunk *held_chunk(mp_pool *p, worker *w, const mp__arena_slot *s) {
  chunk *c = w->cur_seq ? mp__chunk_of(p, w->cur_seq) : NULL;
  if (c && c->phase != CHUNK_DONE && c->holder == w->slot) return c;
  if (s->state < MP__SLOT_TAKING || !s->chunk) return NULL;
  c = mp__chunk_of(p, s->chunk);
  if (!c || c->phase == CHUNK_DONE) return NULL;
  mp__task_record *rec = (mp__task_record *)(p->arena.ring + c->at);
  return mp__atomic_load64(&rec->state) == MP__TAKE_STATE(c->seq, MP__TAKE_BY + (uint32_t)w->slot) ? c : NULL;
}

/* The item a dead worker ran, if it had not finished it: its outcome. */
static void fail_running(mp_pool *p, worker *w, chunk *c, const mp__arena_slot *s, const char *how) {
  char text[512];
  job *j = c->job;
  size_t index = c->first + c->delivered;
  int status = MP_ECRASHED;
  if (w->why == WHY_TIMEOUT) {
    status = MP_ETIMEDOUT;
    if (j->own_limit)
      snprintf(text, sizeof text, "task \"%s\" (item %llu) ran past its call's timeout of %g s; its worker was killed",
               j->task, (unsigned long long)index, j->limit);
    else
      snprintf(text, sizeof text,
               "task \"%s\" (item %llu) ran past the pool's task_timeout of %g s; its worker was killed", j->task,
               (unsigned long long)index, p->task_timeout);
  } else if (w->why == WHY_TERMINATE) {
    status = MP_ECANCELLED;
    snprintf(text, sizeof text, "the pool was terminated while task \"%s\" (item %llu) ran", j->task,
             (unsigned long long)index);
  } else if (w->why == WHY_PROTO) {
    status = MP_EPROTO;
    snprintf(text, sizeof text, "worker %d wrote what is not an outcome while running task \"%s\" (item %llu): %s",
             w->slot, j->task, (unsigned long long)index, w->proto_text);
  } else {
    snprintf(text, sizeof text, "worker %d (pid %lld) %s while running task \"%s\" (item %llu)", w->slot,
             (long long)w->pid, how, j->task, (unsigned long long)index);
  }
  (void)s;
  mp__job_deliver(j, index, status, 0, text, NULL, 0, NULL);
  c->delivered++;
}

static void settle_chunk(mp_pool *p, worker *w, chunk *c, const mp__arena_slot *s, const char *how) {
  if (c->cancelled || !c->job) {
    mp__chunk_done(p, c); /* its items have their outcomes already */
    return;
  }
  /* It started the item after the last that came in (and did not finish
   * it, or its outcome would be in): that item's outcome is its end. */
  int started = s->chunk == c->seq && s->item != MP__SLOT_NO_ITEM && s->item == c->delivered &&
                (s->state == MP__SLOT_RUNNING || s->state == MP__SLOT_HOLDING);
  /* Killed for its predecessor's timeout just as that one finished: this
   * one is not to blame, and runs again. */
  if (started && w->why == WHY_TIMEOUT && (w->kill_seq != c->seq || w->kill_runs != s->runs)) started = 0;
  if (started && c->delivered < c->n) fail_running(p, w, c, s, how);
  if (c->delivered == c->n) {
    mp__chunk_done(p, c);
  } else if (p->state == POOL_TERMINATING) {
    mp__job_fail_items(c->job, c->first + c->delivered, c->n - c->delivered, MP_ECANCELLED, "the pool was terminated");
    c->delivered = c->n;
    mp__chunk_done(p, c);
  } else {
    mp__pool_requeue(p, c, c->delivered);
  }
}

void mp__worker_bury(mp_pool *p, worker *w) {
  p->workers[w->slot] = NULL;
  mp__mutex_unlock(p->lock);
  mp__thread_join(w->watcher);
  w->watcher = NULL;
  int code = 0;
  (void)mp__child_wait(w->child, MP_FOREVER, &code);
  mp__mutex_lock(p->lock);
  mp__pool_collect_worker(p, w); /* every outcome it published */
  mp__arena_slot s = p->arena.slots[w->slot];
  char how[64], text[512];
  describe_end(how, sizeof how, code);
  if (w->init_failed) {
    snprintf(text, sizeof text, "%s", w->init_text ? w->init_text : "the initializer failed");
    pool_broken(p, w->init_code, text);
  } else if (s.state == MP__SLOT_INIT || (s.state == MP__SLOT_STARTING && code != 0)) {
    /* It died before it could take any work: no item is to blame. */
    if (s.state == MP__SLOT_INIT)
      snprintf(text, sizeof text, "the pool's initializer \"%s\" %s (worker %d, pid %lld)", p->initializer, how,
               w->slot, (long long)w->pid);
    else
      snprintf(text, sizeof text, "pool worker %d (pid %lld) %s before it started", w->slot, (long long)w->pid,
               how);
    if (w->why == WHY_TERMINATE) {
      /* ended by us: nothing to say */
    } else if (s.state == MP__SLOT_STARTING && code < 0) {
      /* Killed by a signal on its way up, with no initializer of the
       * program's running yet: someone else's kill, which says nothing
       * about whether a worker can start. Replaced, not counted. */
    } else if (++p->init_deaths >= DEATHS_IN_A_ROW) {
      char all[600];
      snprintf(all, sizeof all, "%s, %d times in a row: the pool can run nothing", text, p->init_deaths);
      pool_broken(p, 0, all);
    } else {
      p->restart_at = mp__now() + backoff(p->init_deaths);
    }
  } else {
    if (s.state >= MP__SLOT_IDLE) p->init_deaths = 0;
    chunk *c = held_chunk(p, w, &s);
    if (c) settle_chunk(p, w, c, &s, how);
  }
  mp__pool_reclaim(p);
  mp__pool_poke(p);
  mp__mutex_unlock(p->lock);
  mp__worker_free(w);
  mp__mutex_lock(p->lock);
}

/* ------------------------------------------------------- replacements */
static int live_workers(const mp_pool *p) {
  int n = 0;
  for (int i = 0; i < p->nworkers; i++) n += p->workers[i] != NULL;
  return n;
}

void mp__pool_replace_workers(mp_pool *p) {
  for (int i = 0; i < p->nworkers; i++) {
    if (p->workers[i] || p->broken || p->state == POOL_TERMINATING || p->state == POOL_DONE) continue;
    if (p->state == POOL_CLOSED && p->outstanding == 0 && p->open_iters == 0) continue;
    if (mp__now() < p->restart_at) return;
    mp__mutex_unlock(p->lock);
    worker *w = NULL;
    int rc = mp__worker_start(p, i, &w);
    mp__mutex_lock(p->lock);
    if (rc == MP_OK) {
      p->workers[i] = w;
      p->start_failures = 0;
      continue;
    }
    snprintf(p->start_error, sizeof p->start_error, "%s", mp_last_error());
    p->restart_at = mp__now() + backoff(++p->start_failures);
    /* With no worker left and none startable, fail the work, never hang. */
    if (p->start_failures >= DEATHS_IN_A_ROW && live_workers(p) == 0) {
      char text[320];
      snprintf(text, sizeof text, "the pool could not start a worker: %s", p->start_error);
      mp__pool_cancel_all(p, MP_ESYS, text);
    }
    return;
  }
}

/* ------------------------------------------------------------ timeouts */
/* Each running item is held to its own call's limit (mp__pool_limit_of):
 * calls with different limits share the workers. */
double mp__pool_enforce_timeouts(mp_pool *p) {
  if (p->task_timeout <= 0 && p->shortest_call_limit <= 0) return -1;
  double now = mp__now_coarse(), next = -1;
  for (int i = 0; i < p->nworkers; i++) {
    worker *w = p->workers[i];
    if (!w || w->exited || w->why) continue;
    mp__arena_slot *s = &p->arena.slots[i];
    /* A consistent look: the run count before and after. */
    uint32_t r1 = mp__atomic_load32(&s->runs);
    uint32_t st = mp__atomic_load32(&s->state);
    uint64_t seq = s->chunk;
    double started = (double)s->started_ns * 1e-9;
    uint32_t r2 = mp__atomic_load32(&s->runs);
    if (st != MP__SLOT_RUNNING || r1 != r2) continue;
    double limit = mp__pool_limit_of(p, seq);
    if (limit <= 0) continue;
    double due = started + limit;
    if (due <= now)
      mp__worker_kill_run(p, w, WHY_TIMEOUT, seq, r1);
    else if (next < 0 || due < next)
      next = due;
  }
  /* An item that starts later is due later than a full timeout from now:
   * the shortest any call may have (no worker says when an item starts). */
  double shortest = p->task_timeout;
  if (p->shortest_call_limit > 0 && (shortest <= 0 || p->shortest_call_limit < shortest))
    shortest = p->shortest_call_limit;
  if (p->outstanding && (next < 0 || next > now + shortest)) next = now + shortest;
  return next;
}
