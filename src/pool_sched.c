/* A pool's two threads.
 *
 * The scheduler buries workers that ended and starts their replacements,
 * kills items over task_timeout, moves queued chunks into the ring as room
 * frees, collects outcomes when no caller does, and ends the pool once it
 * is closed and drained (or terminated). It sleeps on the arena's parent
 * bell, which workers ring after an outcome when nobody else reads the
 * rings, and which the pool's own calls ring through mp__pool_poke. While
 * outcomes stream in it naps instead, so a busy worker does not pay a
 * wake-up per outcome.
 *
 * The callback thread runs the user's callbacks and progress reports, in
 * order, with the lock released: a slow callback delays other callbacks,
 * never a caller waiting for its own job. It starts with the first job
 * that brings one (mp__pool_need_callbacks). */
#include <string.h>

#include "pool_internal.h"

#define STREAM_NAP 100e-6

void mp__pool_poke(mp_pool *p) {
  p->events++;
  mp__pwait_wake_sleepers(p->arena.h->parent_bell, p->arena.parent_bell, 1);
}

void mp__pool_queue_callbacks(mp_pool *p, job *j) {
  j->next_done = NULL;
  if (p->done_tail)
    p->done_tail->next_done = j;
  else
    p->done_head = j;
  p->done_tail = j;
  mp__cond_signal(p->cb_cond);
}

void mp__pool_note_progress(mp_pool *p, job *j) {
  if (j->caller_reports) {
    mp__cond_broadcast(p->anchor->waiters); /* a sleeping caller reports it */
    return;
  }
  if (j->progress_queued) return;
  j->progress_queued = 1;
  j->next_progress = p->progress_jobs;
  p->progress_jobs = j;
  mp__cond_signal(p->cb_cond);
}

static int callbacks_pending(const mp_pool *p) { return p->done_head || p->progress_jobs || p->cb_running; }

static void callbacks_main(void *arg) {
  mp_pool *p = arg;
  mp__mutex_lock(p->lock);
  for (;;) {
    if (p->progress_jobs) {
      job *j = p->progress_jobs;
      p->progress_jobs = j->next_progress;
      j->progress_queued = 0;
      size_t done = j->outcomes, total = j->n;
      p->cb_running = 1;
      mp__mutex_unlock(p->lock);
      j->progress(done, total, j->progress_ud);
      mp__mutex_lock(p->lock);
      p->cb_running = 0;
      continue;
    }
    if (p->done_head) {
      job *j = p->done_head;
      p->done_head = j->next_done;
      if (!p->done_head) p->done_tail = NULL;
      p->cb_running = 1;
      mp__mutex_unlock(p->lock);
      if (j->cb) j->cb((mp_async *)j, j->ud);
      mp__mutex_lock(p->lock);
      p->cb_running = 0;
      mp__atomic_store32(&j->ready, 1);
      j->pool_ref = 0;
      mp__cond_broadcast(p->anchor->waiters);
      mp__anchor_notify(p->anchor);
      mp__job_release(j);
      mp__pool_poke(p); /* the end of the pool may wait for it */
      continue;
    }
    if (p->cb_quit) break;
    mp__cond_wait(p->cb_cond, p->lock, MP_FOREVER);
  }
  mp__mutex_unlock(p->lock);
}

static int any_exited(const mp_pool *p) {
  for (int i = 0; i < p->nworkers; i++)
    if (p->workers[i] && p->workers[i]->exited) return 1;
  return 0;
}

static int live_workers(const mp_pool *p) {
  int n = 0;
  for (int i = 0; i < p->nworkers; i++) n += p->workers[i] != NULL;
  return n;
}

static void stop_everything(mp_pool *p) {
  mp__pool_cancel_all(p, MP_ECANCELLED, "the pool was terminated");
  for (int i = 0; i < p->nworkers; i++)
    if (p->workers[i]) mp__worker_kill(p, p->workers[i], WHY_TERMINATE);
}

/* Closed and drained: workers leave once the ring is empty. */
static void let_workers_go(mp_pool *p) {
  if (mp__atomic_load32(&p->arena.h->closing)) return;
  mp__atomic_store32(&p->arena.h->closing, 1);
  mp__pwait_wake(p->arena.h->work_bell, p->arena.work_bell, 1);
}

static double earliest(double a, double b) { return a < 0 ? b : b < 0 ? a : a < b ? a : b; }

static void scheduler_main(void *arg) {
  mp_pool *p = arg;
  mp__mutex_lock(p->lock);
  for (;;) {
    unsigned seen = p->events;
    size_t got = mp__pool_collect(p);
    for (int i = 0; i < p->nworkers; i++)
      if (p->workers[i] && p->workers[i]->exited) mp__worker_bury(p, p->workers[i]);
    double due = -1;
    if (p->state == POOL_TERMINATING) {
      stop_everything(p);
    } else {
      mp__pool_replace_workers(p);
      due = mp__pool_enforce_timeouts(p);
      if (p->restart_at > mp__now() && live_workers(p) < p->nworkers) due = earliest(due, p->restart_at);
    }
    if (p->state == POOL_CLOSED && p->outstanding == 0 && p->open_iters == 0) let_workers_go(p);
    if ((p->state == POOL_CLOSED || p->state == POOL_TERMINATING) && live_workers(p) == 0 && p->outstanding == 0 &&
        !callbacks_pending(p)) {
      p->state = POOL_DONE;
      mp__cond_broadcast(p->anchor->waiters);
      break;
    }
    if (p->events != seen || any_exited(p)) {
      /* Something came while this round ran: another, letting others in. */
      mp__mutex_unlock(p->lock);
      mp__mutex_lock(p->lock);
      continue;
    }
    if (got) {
      mp__mutex_unlock(p->lock);
      mp__sleep(STREAM_NAP);
      mp__mutex_lock(p->lock);
      continue;
    }
    /* Announce, look, sleep (platform.h): a ring after the look wakes us. */
    uint32_t bell = mp__pwait_prepare(p->arena.h->parent_bell);
    if (p->events != seen || mp__pool_outcomes_waiting(p)) {
      mp__pwait_cancel(p->arena.h->parent_bell);
      mp__mutex_unlock(p->lock);
      mp__mutex_lock(p->lock);
      continue;
    }
    double left = due < 0 ? MP_FOREVER : due - mp__now();
    if (due >= 0 && left < 0.001) left = 0.001;
    mp__mutex_unlock(p->lock);
    (void)mp__pwait_commit(p->arena.h->parent_bell, p->arena.parent_bell, bell, left);
    mp__mutex_lock(p->lock);
  }
  mp__mutex_unlock(p->lock);
}

int mp__pool_start_threads(mp_pool *p) {
  int rc = mp__cond_new(&p->cb_cond);
  if (rc == MP_OK) rc = mp__thread_start(&p->scheduler, scheduler_main, p);
  return rc;
}

/* The callback thread starts with the first job that has user code for
 * it: most pools never need it, and a thread's start and end are a
 * measurable part of a short-lived pool's life. Lock held. */
int mp__pool_need_callbacks(mp_pool *p, const job *j, const char *api) {
  if (!j->cb && !(j->progress && !j->caller_reports)) return MP_OK;
  if (p->callbacker) return MP_OK;
  int rc = mp__thread_start(&p->callbacker, callbacks_main, p);
  return rc == MP_OK ? MP_OK : mp__error_in(api, rc);
}
