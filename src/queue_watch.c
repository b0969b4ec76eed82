/* A queue's part in waiting on many: a thread of this process that
 * watches the queue for mp_wait and mp_queue_fileno, started the first
 * time either asks, stopped when this process lets go of the queue.
 *
 * Other processes fill a queue, so nothing of this process runs when it
 * becomes ready: the watcher sleeps where a consumer would (announced on
 * not_empty, src/queue_get.c's protocol), and, while the queue is ready,
 * where a producer of a full queue would (not_full, which every get that
 * takes a message wakes, all of them). It announces itself before each
 * look, so whatever changes the queue after a look wakes it to look
 * again. On each change between ready and not it sets or clears the
 * queue's handle, and at each look that sees it ready it tells every
 * mp_wait registered. A put wakes one sleeper; if that was the
 * watcher, it wakes another in its place, so a consumer asleep in
 * mp_queue_get is never left sleeping on a message because the watcher
 * took its wake. The sleeps are bounded (WATCH_SLICE) so that what wakes
 * nobody (a producer that died mid-copy, a put refused by a close) is
 * still seen. */
#include <stdlib.h>

#include "queue_internal.h"
#include "wait.h"

#define WATCH_SLICE 0.05

struct mp__queue_watch {
  mp__mutex *lock;
  mp__thread *thread;
  mp__waiter *handle;   /* mp_queue_fileno's: set while ready */
  mp__watch *watchers;  /* mp_wait calls now */
  int ready;            /* as last seen */
  volatile uint32_t quit;
};

/* What the watcher saw at a look. The handle follows the changes; every
 * mp_wait registered is told at each look that sees the queue ready, not
 * only at a change: one may have registered, and seen the queue empty,
 * after the watcher last saw it ready and before it looked again. */
static void publish(mp__queue_watch *w, int ready) {
  mp__mutex_lock(w->lock);
  if (ready)
    for (mp__watch *x = w->watchers; x; x = x->next) mp__waiter_signal(x->waiter);
  if (ready != w->ready) {
    w->ready = ready;
    if (ready)
      mp__waiter_signal(w->handle);
    else
      mp__waiter_clear(w->handle);
  }
  mp__mutex_unlock(w->lock);
}

static void watch_loop(void *ud) {
  mp_queue *q = ud;
  mp__queue_watch *w = q->watch;
  queue_shared *s = q->sh;
  while (!mp__atomic_load32(&w->quit)) {
    uint32_t seen = mp__pwait_prepare(s->not_empty);
    int ready = mp__queue_ready(q);
    if (!ready) {
      publish(w, 0);
      (void)mp__pwait_commit(s->not_empty, q->h[H_NOT_EMPTY], seen, WATCH_SLICE);
      if (mp__queue_ready(q)) mp__pwait_wake_sleepers(s->not_empty, q->h[H_NOT_EMPTY], 0); /* pass it on */
      continue;
    }
    mp__pwait_cancel(s->not_empty);
    publish(w, 1);
    if (is_closed(s)) {
      mp__sleep(WATCH_SLICE); /* ready for good: only quit matters now */
      continue;
    }
    seen = mp__pwait_prepare(s->not_full);
    if (mp__queue_ready(q))
      (void)mp__pwait_commit(s->not_full, q->h[H_NOT_FULL], seen, WATCH_SLICE);
    else
      mp__pwait_cancel(s->not_full);
  }
}

int mp__queue_watch_start(mp_queue *q) {
  mp__mutex_lock(q->watch_lock);
  int rc = MP_OK;
  if (!q->watch) {
    mp__queue_watch *w = calloc(1, sizeof *w);
    if (!w) {
      rc = mp__set_error(MP_ENOMEM, "out of memory for a queue's watcher");
    } else if ((rc = mp__mutex_new(&w->lock)) != MP_OK || (rc = mp__waiter_new(&w->handle)) != MP_OK) {
      mp__mutex_free(w->lock);
      free(w);
    } else {
      q->watch = w;
      if ((rc = mp__thread_start(&w->thread, watch_loop, q)) != MP_OK) {
        q->watch = NULL;
        mp__waiter_free(w->handle);
        mp__mutex_free(w->lock);
        free(w);
      }
    }
  }
  mp__mutex_unlock(q->watch_lock);
  return rc;
}

void mp__queue_watch_stop(mp_queue *q) {
  mp__queue_watch *w = q->watch;
  if (!w) return;
  mp__atomic_store32(&w->quit, 1);
  /* Everyone asleep on the queue looks again (they re-check; a spurious
   * wake is allowed), so the watcher leaves now, not a slice later. */
  mp__pwait_wake_sleepers(q->sh->not_empty, q->h[H_NOT_EMPTY], 1);
  mp__pwait_wake_sleepers(q->sh->not_full, q->h[H_NOT_FULL], 1);
  mp__thread_join(w->thread);
  mp__waiter_free(w->handle);
  mp__mutex_free(w->lock);
  free(w);
  q->watch = NULL;
}

void mp__queue_watch_add(mp_queue *q, mp__watch *x) {
  mp__queue_watch *w = q->watch;
  mp__mutex_lock(w->lock);
  x->next = w->watchers;
  w->watchers = x;
  mp__mutex_unlock(w->lock);
}

void mp__queue_watch_remove(mp_queue *q, mp__watch *x) {
  mp__queue_watch *w = q->watch;
  mp__mutex_lock(w->lock);
  for (mp__watch **at = &w->watchers; *at; at = &(*at)->next)
    if (*at == x) {
      *at = x->next;
      break;
    }
  mp__mutex_unlock(w->lock);
}

int mp_queue_fileno(mp_queue *q, mp_os_handle *out) {
  if (out) *out = (mp_os_handle)MP__NO_HANDLE;
  if (!q || !out) return mp__set_error(MP_EINVAL, "mp_queue_fileno: NULL argument");
  int rc = mp__queue_watch_start(q);
  if (rc != MP_OK) return mp__error_in("mp_queue_fileno", rc);
  *out = (mp_os_handle)mp__waiter_handle(q->watch->handle);
  return MP_OK;
}
