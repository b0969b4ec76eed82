/* Jobs: what a caller submitted, the outcomes as they come in, waiting
 * for them, and the mp_async calls. A job's handle may outlive its pool:
 * it holds the anchor (the lock and the waiters' condition), never the
 * pool itself, and finds the pool gone (NULL) once it was freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

job *mp__job_new(mp_pool *p, int kind, const char *task, size_t n) {
  job *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->anchor = p->anchor;
  j->kind = kind;
  memcpy(j->task, task, strlen(task) + 1); /* the caller checked its length (not strcpy: MSVC deprecates it) */
  j->n = n;
  j->first_fail = n;
  j->first_fail_status = MP_OK;
  j->pool_ref = 1;
  j->limit = p->task_timeout;
  return j;
}

void mp__job_release(job *j) {
  if (!j || j->user_ref || j->pool_ref || j->live_chunks) return;
  if (j->owns_results && j->results) {
    size_t n = j->kind == JOB_IMAP ? 0 : j->n; /* imap clears its own ring */
    for (size_t i = 0; i < n; i++) mp_result_clear(&j->results[i]);
    free(j->results);
  }
  free(j->first_fail_text);
  free(j);
}

/* The anchor goes with its last holder, after the lock is released. */
static int anchor_drop(pool_anchor *a) { return --a->refs == 0; }

static void anchor_destroy(pool_anchor *a) {
  mp__waiter_free(a->handle);
  mp__cond_free(a->waiters);
  mp__mutex_free(a->lock);
  free(a);
}

void mp__anchor_unref(pool_anchor *a) {
  mp__mutex_lock(a->lock);
  int last = anchor_drop(a);
  mp__mutex_unlock(a->lock);
  if (last) anchor_destroy(a);
}

/* Marks j complete once every outcome is in. It never frees j: the
 * caller, who still holds it, releases it after. */
void mp__job_check_completed(mp_pool *p, job *j) {
  if (j->completed || j->outcomes < j->n || j->kind == JOB_IMAP) return;
  j->completed = 1;
  if (!j->cb && (!j->progress || j->caller_reports)) {
    /* No user code to run first: ready now, no hop through a thread. */
    mp__atomic_store32(&j->ready, 1);
    j->pool_ref = 0;
    mp__cond_broadcast(j->anchor->waiters);
    mp__anchor_notify(j->anchor);
    return;
  }
  mp__pool_queue_callbacks(p, j);
}

static void note_failure(job *j, size_t i, int status, const char *text) {
  if (status == MP_OK || j->kind == JOB_IMAP || i >= j->first_fail) return;
  j->first_fail = i;
  j->first_fail_status = status;
  free(j->first_fail_text);
  j->first_fail_text = mp__strdup(text ? text : "");
}

/* Item index's outcome. A result that came in pieces (big) is taken
 * over rather than copied. Lock held. */
void mp__job_deliver(job *j, size_t index, int status, int code, const char *text, const void *data, size_t len,
                     mp__buf *big) {
  size_t i = j->kind == JOB_IMAP ? index % j->ring : index; /* imap keeps a ring */
  char why[200];
  if (status == MP_OK && j->fixed_out && len != j->out_size) {
    status = MP_EINVAL;
    snprintf(why, sizeof why, "task \"%s\" returned %llu bytes for item %llu; mp_pool_map wants out_size %llu",
             j->task, (unsigned long long)len, (unsigned long long)index, (unsigned long long)j->out_size);
    text = why;
  }
  if (j->fixed_out && status == MP_OK && len) memcpy((uint8_t *)j->fixed_out + i * j->out_size, data, len);
  if (j->results) {
    mp_result *r = &j->results[i];
    mp_result_clear(r);
    r->status = status;
    r->task_code = code;
    if (text) r->message = mp__strdup(text);
    if (status == MP_OK && !j->fixed_out && len) { /* none: data stays NULL */
      if (big && big->data && big->len == len && !big->borrowed) {
        r->data = big->data; /* the pieces' buffer becomes the result */
        big->data = NULL;
        big->len = big->cap = 0;
      } else if ((r->data = malloc(len)) != NULL) {
        memcpy(r->data, data, len);
      }
      if (r->data) {
        r->len = len;
      } else {
        r->status = status = MP_ENOMEM;
        r->message = mp__strdup("out of memory for the result");
      }
    }
  }
  note_failure(j, index, status, text);
  j->outcomes++;
  if (j->kind == JOB_IMAP) mp__iter_delivered(j->iter, index);
  if (j->progress) mp__pool_note_progress(j->anchor->pool, j);
}

void mp__job_fail_items(job *j, size_t first, size_t n, int status, const char *text) {
  for (size_t k = 0; k < n; k++) mp__job_deliver(j, first + k, status, 0, text, NULL, 0, NULL);
}

/* ---------------------------------------------------------- waiting */
static int job_ready(void *ud) { return ((job *)ud)->ready != 0; }

/* A blocking map's caller: reports what came since it last did (out of
 * the lock: the report is the user's code), then looks if it is done. */
static int job_reported_and_ready(void *ud) {
  job *j = ud;
  pool_anchor *a = j->anchor;
  while (j->reported != j->outcomes) {
    size_t done = j->outcomes;
    j->reported = done;
    mp__mutex_unlock(a->lock);
    j->progress(done, j->n, j->progress_ud);
    mp__mutex_lock(a->lock);
  }
  return j->ready != 0;
}

int mp__job_wait(job *j, double timeout, const char *api) {
  pool_anchor *a = j->anchor;
  int rc = mp__timeout_check(api, timeout);
  if (rc != MP_OK) return rc;
  double deadline = mp__deadline(timeout);
  mp__mutex_lock(a->lock);
  int (*done)(void *) = j->caller_reports ? job_reported_and_ready : job_ready;
  if (!done(j)) {
    if (!a->pool)
      rc = mp__set_error(MP_ESTATE, "%s: its pool was freed before the job finished", api);
    else if (mp__pool_wait_until(a->pool, done, j, deadline) != MP_OK)
      rc = mp__set_error(MP_ETIMEDOUT, "%s: the job is not done yet", api);
  }
  mp__mutex_unlock(a->lock);
  return rc;
}

void mp__job_unref(job *j) {
  pool_anchor *a = j->anchor;
  mp__mutex_lock(a->lock);
  j->user_ref = 0;
  int last = anchor_drop(a);
  mp__job_release(j);
  mp__mutex_unlock(a->lock);
  if (last) anchor_destroy(a);
}

int mp__check_task(const char *api, const char *task) {
  if (!task) return mp__set_error(MP_EINVAL, "%s: task is NULL", api);
  if (strlen(task) > MP__TASK_NAME_MAX || !mp__task_lookup(task))
    return mp__set_error(MP_ENOTASK, "%s: no task registered as \"%.63s\"", api, task);
  return MP_OK;
}

/* ------------------------------------------------------- mp_async_* */
int mp_async_wait(mp_async *a, double timeout) {
  if (!a) return mp__set_error(MP_EINVAL, "mp_async_wait: the job is NULL");
  return mp__job_wait((job *)a, timeout, "mp_async_wait");
}

int mp_async_ready(mp_async *a) {
  if (!a) {
    (void)mp__set_error(MP_EINVAL, "mp_async_ready: the job is NULL");
    return 0;
  }
  job *j = (job *)a;
  mp__mutex_lock(j->anchor->lock);
  int r = j->ready != 0;
  mp__mutex_unlock(j->anchor->lock);
  return r;
}

/* Every outcome is in: what mp_async_result may show, also to the job's
 * own callback, which runs before the job counts as ready. */
static int job_has_results(job *j) {
  mp__mutex_lock(j->anchor->lock);
  int r = j->completed || j->ready;
  mp__mutex_unlock(j->anchor->lock);
  return r;
}

const mp_result *mp_async_result(mp_async *a) {
  if (!a || !job_has_results((job *)a)) return NULL;
  job *j = (job *)a;
  return j->n ? &j->results[0] : NULL;
}

const mp_result *mp_async_results(mp_async *a, size_t *n) {
  if (n) *n = 0;
  if (!a || !job_has_results((job *)a)) return NULL;
  job *j = (job *)a;
  if (n) *n = j->n;
  return j->results;
}

int mp_async_cancel(mp_async *a) {
  if (!a) return mp__set_error(MP_EINVAL, "mp_async_cancel: the job is NULL");
  job *j = (job *)a;
  pool_anchor *an = j->anchor;
  mp__mutex_lock(an->lock);
  mp_pool *p = an->pool;
  int rc = MP_OK;
  /* Items that finished keep their results: read what the workers have
   * published first (a worker rings only at a chunk's end, so its
   * finished items may still sit in its ring). */
  if (p && !j->completed) (void)mp__pool_collect(p);
  if (!p) {
    rc = mp__set_error(MP_ESTATE, "mp_async_cancel: its pool was freed");
  } else if (j->completed) {
    rc = mp__set_error(MP_ESTATE, "mp_async_cancel: the job has already finished");
  } else {
    j->cancelled = 1;
    mp__pool_cancel_job(p, j, MP_ECANCELLED, "cancelled (mp_async_cancel)");
    mp__pool_poke(p);
  }
  mp__mutex_unlock(an->lock);
  return rc;
}

mp_async *mp_async_free(mp_async *a) {
  if (a) mp__job_unref((job *)a);
  return NULL;
}
