/* A pool's part in waiting on many: the mp_wait calls watching its jobs
 * now, and the pollable handle of mp_pool_fileno. Both hang on the
 * anchor, which outlives the pool, so a wait on a job whose pool is freed
 * meanwhile is told so, and stays safe. */
#include "pool_internal.h"
#include "wait.h"

void mp__anchor_notify(pool_anchor *a) {
  for (mp__watch *w = a->watchers; w; w = w->next) mp__waiter_signal(w->waiter);
  if (a->handle) mp__waiter_signal(a->handle);
}

void *mp__job_anchor(mp_async *a) { return ((job *)a)->anchor; }

void mp__anchor_watch(void *anchor, mp__watch *w) {
  pool_anchor *a = anchor;
  mp__mutex_lock(a->lock);
  w->next = a->watchers;
  a->watchers = w;
  mp__mutex_unlock(a->lock);
}

void mp__anchor_unwatch(void *anchor, mp__watch *w) {
  pool_anchor *a = anchor;
  mp__mutex_lock(a->lock);
  for (mp__watch **at = &a->watchers; *at; at = &(*at)->next)
    if (*at == w) {
      *at = w->next;
      break;
    }
  mp__mutex_unlock(a->lock);
}

int mp__job_is_ready(mp_async *as) {
  job *j = (job *)as;
  mp__mutex_lock(j->anchor->lock);
  int r = j->ready != 0 || !j->anchor->pool;
  mp__mutex_unlock(j->anchor->lock);
  return r;
}

int mp_pool_fileno(mp_pool *p, mp_os_handle *out) {
  if (out) *out = (mp_os_handle)MP__NO_HANDLE;
  if (!p || !out) return mp__set_error(MP_EINVAL, "mp_pool_fileno: NULL argument");
  pool_anchor *a = p->anchor;
  int rc = MP_OK;
  mp__mutex_lock(a->lock);
  if (!a->handle) rc = mp__waiter_new(&a->handle);
  if (rc == MP_OK) *out = (mp_os_handle)mp__waiter_handle(a->handle);
  mp__mutex_unlock(a->lock);
  return rc == MP_OK ? MP_OK : mp__error_in("mp_pool_fileno", rc);
}

int mp_pool_fileno_clear(mp_pool *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_fileno_clear: the pool is NULL");
  pool_anchor *a = p->anchor;
  mp__mutex_lock(a->lock);
  if (a->handle) mp__waiter_clear(a->handle);
  mp__mutex_unlock(a->lock);
  return MP_OK;
}
