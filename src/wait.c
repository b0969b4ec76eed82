/* mp_wait: waiting on a mixed set of jobs, processes, connections and
 * queues (Python's multiprocessing.connection.wait and
 * concurrent.futures.wait).
 *
 * One look at every object (never blocks), then one OS wait over what
 * can wake this thread: a waiter of its own, registered with the pool of
 * every job in the set (the pool signals it when one of its jobs becomes
 * ready, src/pool_watch.c) and with every queue's watcher thread (which
 * signals it when the queue becomes ready, src/queue_watch.c), a
 * process's pidfd / HANDLE, a connection's read descriptor (POSIX). What
 * has nothing to wait on (a Windows connection; a process where there is
 * no pidfd) is looked at again every WAIT_SLICE while the set has one:
 * that bounds how late it is seen. Then the waiter is cleared and every
 * object looked at again. Registered before the first look and cleared
 * before each later one, the waiter misses nothing that becomes ready. */
#include <stdlib.h>

#include "deadline.h"
#include "wait.h"

#define WAIT_SLICE 0.001 /* seconds: the documented bound (mproc.h) */

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
  return x < y ? -1 : x > y;
}

static const char *kind_name(int kind) {
  switch (kind) {
  case MP_WAIT_ASYNC: return "job";
  case MP_WAIT_PROCESS: return "process";
  case MP_WAIT_CONN: return "connection";
  case MP_WAIT_QUEUE: return "queue";
  default: return NULL;
  }
}

static int check_set(mp_waitable *set, size_t n) {
  for (size_t i = 0; i < n; i++) {
    set[i].ready = 0;
    if (!kind_name(set[i].kind))
      return mp__set_error(MP_EINVAL, "mp_wait: entry %llu has an unknown kind %d", (unsigned long long)i,
                           set[i].kind);
    if (!set[i].obj)
      return mp__set_error(MP_EINVAL, "mp_wait: entry %llu (a %s) is NULL", (unsigned long long)i,
                           kind_name(set[i].kind));
    if (set[i].kind == MP_WAIT_CONN && !mp__conn_receives((mp_conn *)set[i].obj))
      return mp__set_error(MP_ESTATE, "mp_wait: entry %llu is the end of a one-way pipe that only sends",
                           (unsigned long long)i);
  }
  return MP_OK;
}

/* ptrs: room for n. Duplicates are refused: one object twice would say
 * nothing the first did not, and for a connection it would mean two
 * receives' worth of looking at one end. */
static int check_duplicates(const mp_waitable *set, size_t n, void **ptrs) {
  for (size_t i = 0; i < n; i++) ptrs[i] = set[i].obj;
  qsort(ptrs, n, sizeof *ptrs, cmp_ptr);
  for (size_t i = 1; i < n; i++)
    if (ptrs[i] == ptrs[i - 1]) return mp__set_error(MP_EINVAL, "mp_wait: an object is in the set twice");
  return MP_OK;
}

static int is_ready(const mp_waitable *w) {
  switch (w->kind) {
  case MP_WAIT_ASYNC: return mp__job_is_ready((mp_async *)w->obj);
  case MP_WAIT_PROCESS: return !mp_process_is_alive((mp_process *)w->obj);
  case MP_WAIT_CONN: return mp_conn_poll((mp_conn *)w->obj, 0);
  default: return mp__queue_ready((mp_queue *)w->obj);
  }
}

static int look(mp_waitable *set, size_t n) {
  int count = 0;
  for (size_t i = 0; i < n; i++)
    if ((set[i].ready = is_ready(&set[i])) != 0) count++;
  return count;
}

/* What the OS can wait on for the set; *sliced when something cannot be
 * waited on so. h has room for n + 1. */
static size_t wait_handles(const mp_waitable *set, size_t n, mp__waiter *waiter, mp__handle *h, int *sliced) {
  size_t nh = 0;
  *sliced = 0;
  if (waiter) h[nh++] = mp__waiter_handle(waiter);
  for (size_t i = 0; i < n; i++) {
    mp__handle x = MP__NO_HANDLE;
    if (set[i].kind == MP_WAIT_ASYNC || set[i].kind == MP_WAIT_QUEUE) continue; /* the waiter */
    if (set[i].kind == MP_WAIT_PROCESS) x = mp__process_wait_handle((mp_process *)set[i].obj);
    if (set[i].kind == MP_WAIT_CONN) x = mp__conn_wait_handle((mp_conn *)set[i].obj);
    if (x == MP__NO_HANDLE)
      *sliced = 1;
    else
      h[nh++] = x;
  }
  return nh;
}

/* What wakes this thread for the set's jobs and queues: one waiter,
 * registered with each distinct pool of a job and with each queue's
 * watcher (src/queue_watch.c). */
typedef struct watching {
  void **anchors;         /* distinct pools of the set's jobs, then */
  size_t nanchors;
  mp_queue **queues;      /* the set's queues */
  size_t nqueues;
  mp__watch *links;       /* nanchors, then nqueues */
  mp__waiter *waiter;
} watching;

static int watch_sources(const mp_waitable *set, size_t n, watching *wt) {
  size_t k = 0, nq = 0;
  for (size_t i = 0; i < n; i++) {
    if (set[i].kind == MP_WAIT_ASYNC) wt->anchors[k++] = mp__job_anchor((mp_async *)set[i].obj);
    if (set[i].kind == MP_WAIT_QUEUE) nq++;
  }
  if (!k && !nq) return MP_OK;
  size_t u = 0;
  if (k) {
    qsort(wt->anchors, k, sizeof *wt->anchors, cmp_ptr);
    u = 1;
    for (size_t i = 1; i < k; i++)
      if (wt->anchors[i] != wt->anchors[u - 1]) wt->anchors[u++] = wt->anchors[i];
  }
  if (nq && !(wt->queues = malloc(nq * sizeof *wt->queues))) return mp__set_error(MP_ENOMEM, "mp_wait: out of memory");
  for (size_t i = 0; i < n; i++)
    if (set[i].kind == MP_WAIT_QUEUE) {
      int rc = mp__queue_watch_start((mp_queue *)set[i].obj);
      if (rc != MP_OK) return mp__error_in("mp_wait", rc);
      wt->queues[wt->nqueues++] = (mp_queue *)set[i].obj;
    }
  int rc = mp__waiter_new(&wt->waiter);
  if (rc != MP_OK) {
    wt->nqueues = 0;
    return mp__error_in("mp_wait", rc);
  }
  if (!(wt->links = malloc((u + nq) * sizeof *wt->links))) {
    wt->nqueues = 0;
    return mp__set_error(MP_ENOMEM, "mp_wait: out of memory");
  }
  for (size_t i = 0; i < u + nq; i++) wt->links[i].waiter = wt->waiter;
  for (size_t i = 0; i < u; i++) mp__anchor_watch(wt->anchors[i], &wt->links[i]);
  for (size_t i = 0; i < nq; i++) mp__queue_watch_add(wt->queues[i], &wt->links[u + i]);
  wt->nanchors = u;
  return MP_OK;
}

static void unwatch_sources(watching *wt) {
  if (wt->links) {
    for (size_t i = 0; i < wt->nanchors; i++) mp__anchor_unwatch(wt->anchors[i], &wt->links[i]);
    for (size_t i = 0; i < wt->nqueues; i++) mp__queue_watch_remove(wt->queues[i], &wt->links[wt->nanchors + i]);
  }
  free(wt->links);
  free(wt->queues);
  mp__waiter_free(wt->waiter);
}

static int wait_loop(mp_waitable *set, size_t n, double timeout, mp__waiter *waiter, mp__handle *h) {
  double deadline = mp__deadline(timeout);
  for (;;) {
    int count = look(set, n);
    if (count) return count;
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "mp_wait: nothing in the set was ready in time");
    int sliced;
    size_t nh = wait_handles(set, n, waiter, h, &sliced);
    double span = sliced && (left < 0 || left > WAIT_SLICE) ? WAIT_SLICE : left;
    int rc = mp__wait_handles(h, nh, span);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in("mp_wait", rc);
    if (waiter) mp__waiter_clear(waiter);
  }
}

int mp_wait(mp_waitable *set, size_t n, double timeout) {
  if (!set || !n) return mp__set_error(MP_EINVAL, "mp_wait: %s", !n ? "the set is empty (n is 0)" : "the set is NULL");
  if (n > MP_WAIT_MAX)
    return mp__set_error(MP_ETOOBIG, "mp_wait: %llu objects is over MP_WAIT_MAX (%d)", (unsigned long long)n,
                         MP_WAIT_MAX);
  int rc = mp__timeout_check("mp_wait", timeout);
  if (rc == MP_OK) rc = check_set(set, n);
  if (rc != MP_OK) return rc;
  void **ptrs = malloc(n * sizeof *ptrs);
  mp__handle *h = malloc((n + 1) * sizeof *h);
  watching wt = {ptrs, 0, NULL, 0, NULL, NULL};
  if (!ptrs || !h)
    rc = mp__set_error(MP_ENOMEM, "mp_wait: out of memory");
  else if ((rc = check_duplicates(set, n, ptrs)) == MP_OK && (rc = watch_sources(set, n, &wt)) == MP_OK)
    rc = wait_loop(set, n, timeout, wt.waiter, h);
  unwatch_sources(&wt);
  free(h);
  free(ptrs);
  return rc;
}
