/* Pool: the public calls. The parts are listed in pool_internal.h, and
 * docs/architecture.md ("Pool") draws how a task travels through them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_internal.h"

/* mp_pool_free on a pool with no work left closes it and gives the
 * workers this long to leave on their own (flushing what they printed)
 * before it kills them. */
#define GRACEFUL_END 2.0

/* ============================================================ creation */
static void pool_destroy(mp_pool *p) {
  for (int i = 0; p->workers && i < p->nworkers; i++) mp__worker_free(p->workers[i]);
  free(p->workers);
  mp__pool_free_queues(p);
  mp__arena_release(&p->arena);
  free(p->initarg);
  for (size_t i = 0; i < p->nobjects; i++) mp__object_unref(p->objects[i]);
  free(p->objects);
  free(p->broken);
  mp__cond_free(p->cb_cond);
  free(p);
}

static int check_pool_options(const mp_pool_options *o) {
  if (!o) return MP_OK;
  if (o->workers < 0 || o->workers > POOL_MAX_WORKERS)
    return mp__set_error(MP_EINVAL, "mp_pool_create: workers must be 0..%d, not %d", POOL_MAX_WORKERS, o->workers);
  if (o->initarg_len && !o->initarg) return mp__set_error(MP_EINVAL, "mp_pool_create: initarg is NULL");
  if (o->initarg_len > MP_MAX_MESSAGE) return mp__set_error(MP_ETOOBIG, "mp_pool_create: initarg over MP_MAX_MESSAGE");
  if (o->task_timeout < 0 || o->task_timeout != o->task_timeout)
    return mp__set_error(MP_EINVAL, "mp_pool_create: task_timeout must be >= 0 seconds");
  if (o->initializer && (strlen(o->initializer) > MP__TASK_NAME_MAX || !mp__task_lookup(o->initializer)))
    return mp__set_error(MP_ENOTASK, "mp_pool_create: no task registered as \"%.63s\" (the initializer)",
                         o->initializer);
  return mp__objects_check("mp_pool_create", o->objects, o->nobjects);
}

static int new_anchor(mp_pool *p) {
  pool_anchor *a = calloc(1, sizeof *a);
  if (!a) return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  int rc = mp__mutex_new(&a->lock);
  if (rc == MP_OK) rc = mp__cond_new(&a->waiters);
  if (rc != MP_OK) {
    mp__cond_free(a->waiters);
    mp__mutex_free(a->lock);
    free(a);
    return rc;
  }
  a->pool = p;
  a->refs = 1;
  p->anchor = a;
  p->lock = a->lock;
  return MP_OK;
}

static int copy_options(mp_pool *p, const mp_pool_options *o) {
  p->nworkers = o && o->workers ? o->workers : mp_cpu_count();
  if (!o) return MP_OK;
  if (o->initializer) memcpy(p->initializer, o->initializer, strlen(o->initializer) + 1); /* checked; not strcpy, which MSVC deprecates */
  p->max_tasks = o->max_tasks_per_child;
  /* INFINITY (or longer than anything can run) is no limit at all. */
  p->task_timeout = o->task_timeout > MP__TIMEOUT_FOREVER_ABOVE ? 0 : o->task_timeout;
  if (o->initarg_len) {
    if (!(p->initarg = malloc(o->initarg_len))) return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
    memcpy(p->initarg, o->initarg, o->initarg_len);
    p->initarg_len = o->initarg_len;
  }
  if (o->nobjects) {
    if (!(p->objects = malloc(o->nobjects * sizeof *p->objects)))
      return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
    memcpy(p->objects, o->objects, o->nobjects * sizeof *p->objects);
    p->nobjects = o->nobjects;
    /* Replacement workers get them too: they must outlive the user's free. */
    for (size_t i = 0; i < p->nobjects; i++) mp__object_retain(p->objects[i]);
  }
  return MP_OK;
}

/* A pool half made: its workers killed and buried, its threads ended, its
 * memory freed; the failure's code and sentence stay. */
static int undo(mp_pool *p, int rc) {
  char keep[512];
  snprintf(keep, sizeof keep, "%s", mp_last_error());
  for (int i = 0; p->workers && i < p->nworkers; i++) {
    worker *w = p->workers[i];
    if (!w) continue;
    mp__child_signal(w->child, MP__SIG_KILL);
    mp__thread_join(w->watcher); /* ends once the killed worker has */
    w->watcher = NULL;
  }
  if (p->callbacker) {
    mp__mutex_lock(p->lock);
    p->cb_quit = 1;
    mp__cond_signal(p->cb_cond);
    mp__mutex_unlock(p->lock);
    mp__thread_join(p->callbacker);
  }
  pool_anchor *a = p->anchor;
  pool_destroy(p);
  if (a) {
    a->pool = NULL;
    mp__anchor_unref(a);
  }
  return mp__set_error(rc, "%s", keep);
}

int mp_pool_create(mp_pool **out, const mp_pool_options *opts) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_pool_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_pool_create");
  if (rc == MP_OK) rc = check_pool_options(opts);
  if (rc != MP_OK) return rc;
  mp_pool *p = calloc(1, sizeof *p);
  if (!p) return mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
  p->first_seq = p->next_seq = 1;
  if ((rc = mp__resolve_method(opts ? opts->start_method : MP_START_DEFAULT, &p->method)) != MP_OK ||
      (rc = copy_options(p, opts)) != MP_OK || (rc = new_anchor(p)) != MP_OK) {
    pool_destroy(p);
    return mp__error_in("mp_pool_create", rc);
  }
  if ((rc = mp__arena_create(&p->arena, (uint32_t)p->nworkers)) != MP_OK) goto fail;
  mp__tasks_writer_init(&p->ring, &p->arena);
  p->arena.h->timed = p->task_timeout > 0;
  if (!(p->workers = calloc((size_t)p->nworkers, sizeof *p->workers))) {
    rc = mp__set_error(MP_ENOMEM, "mp_pool_create: out of memory");
    goto fail;
  }
  /* All workers now, so a failure (RLIMIT_NPROC, say) leaves no half pool. */
  for (int i = 0; i < p->nworkers; i++)
    if ((rc = mp__worker_start(p, i, &p->workers[i])) != MP_OK) goto fail;
  if ((rc = mp__pool_start_threads(p)) != MP_OK) goto fail;
  *out = p;
  return MP_OK;
fail:
  return mp__error_in("mp_pool_create", undo(p, rc));
}

/* ========================================================== submitting */
static size_t default_chunksize(const mp_pool *p, size_t n) {
  /* Python's rule: about four chunks per worker. */
  size_t per = (size_t)p->nworkers * 4;
  size_t c = n / per + (n % per != 0);
  return c ? c : 1;
}

static size_t pick_chunksize(const mp_pool *p, size_t n, const mp_map_options *opts) {
  return opts && opts->chunksize ? opts->chunksize : default_chunksize(p, n);
}

/* An async job over slices in: its own results, its callback, a handle
 * for the caller if it wants one. On failure the job is gone. */
static int submit_async(mp_pool *p, job *j, size_t chunksize, const mp_slice *in, mp_callback cb, void *ud,
                        mp_async **out, const char *api) {
  if (!(j->results = calloc(j->n ? j->n : 1, sizeof *j->results))) {
    free(j);
    return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  }
  j->owns_results = 1;
  j->cb = cb;
  j->ud = ud;
  mp__mutex_lock(p->lock);
  if (out) {
    j->user_ref = 1;
    p->anchor->refs++;
  }
  mp__mutex_unlock(p->lock);
  chunk_src src = {NULL, 0, in};
  int rc = mp__pool_submit(p, j, 0, j->n, chunksize, &src, 0, api);
  if (rc != MP_OK) {
    mp__mutex_lock(p->lock);
    if (out) p->anchor->refs--;
    j->user_ref = j->pool_ref = 0;
    mp__job_release(j);
    mp__mutex_unlock(p->lock);
    return rc;
  }
  if (out) *out = (mp_async *)j;
  return MP_OK;
}

static int apply_async(mp_pool *p, const char *task, const void *arg, size_t len, const mp_call_options *call,
                       mp_callback cb, void *ud, mp_async **out, const char *api) {
  if (out) *out = NULL;
  if (!p) return mp__set_error(MP_EINVAL, "%s: the pool is NULL", api);
  if (!arg && len) return mp__set_error(MP_EINVAL, "%s: arg is NULL but len is %llu", api, (unsigned long long)len);
  int rc = mp__check_task(api, task);
  if (rc == MP_OK) rc = mp__call_options_check(api, call);
  if (rc != MP_OK) return rc;
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "%s: an argument of %llu bytes is over MP_MAX_MESSAGE", api,
                         (unsigned long long)len);
  job *j = mp__job_new(p, JOB_APPLY, task, 1);
  if (!j) return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  mp__job_take_call_options(p, j, call);
  mp_slice one = {arg, len};
  return submit_async(p, j, 1, &one, cb, ud, out, api);
}

int mp_pool_apply_async(mp_pool *p, const char *task, const void *arg, size_t len, mp_callback cb, void *ud,
                        mp_async **out) {
  return apply_async(p, task, arg, len, NULL, cb, ud, out, "mp_pool_apply_async");
}

int mp_pool_apply_async_opts(mp_pool *p, const char *task, const void *arg, size_t len, const mp_call_options *call,
                             mp_callback cb, void *ud, mp_async **out) {
  return apply_async(p, task, arg, len, call, cb, ud, out, "mp_pool_apply_async_opts");
}

/* A blocking call's job: the caller holds it (and the anchor) meanwhile. */
static job *blocking_job(mp_pool *p, int kind, const char *task, size_t n) {
  job *j = mp__job_new(p, kind, task, n);
  if (!j) return NULL;
  mp__mutex_lock(p->lock);
  j->user_ref = 1;
  p->anchor->refs++;
  mp__mutex_unlock(p->lock);
  return j;
}

static int apply(mp_pool *p, const char *task, const void *arg, size_t len, const mp_call_options *call,
                 mp_result *res, const char *api) {
  if (res) memset(res, 0, sizeof *res);
  if (!p || !res) return mp__set_error(MP_EINVAL, "%s: %s is NULL", api, p ? "res" : "the pool");
  if (!arg && len) return mp__set_error(MP_EINVAL, "%s: arg is NULL but len is %llu", api, (unsigned long long)len);
  int rc = mp__check_task(api, task);
  if (rc == MP_OK) rc = mp__call_options_check(api, call);
  if (rc != MP_OK) return rc;
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "%s: an argument of %llu bytes is over MP_MAX_MESSAGE", api,
                         (unsigned long long)len);
  job *j = blocking_job(p, JOB_APPLY, task, 1);
  if (!j || !(j->results = calloc(1, sizeof *j->results))) {
    if (j) mp__job_unref(j);
    return mp__set_error(MP_ENOMEM, "%s: out of memory", api);
  }
  j->owns_results = 1;
  mp__job_take_call_options(p, j, call);
  mp_slice one = {arg, len};
  chunk_src src = {NULL, 0, &one};
  rc = mp__pool_submit(p, j, 0, 1, 1, &src, 0, api);
  if (rc == MP_OK) {
    mp__job_wait(j, MP_FOREVER, api);
    *res = j->results[0]; /* hand the bytes over, no copy */
    memset(&j->results[0], 0, sizeof j->results[0]);
  } else {
    mp__mutex_lock(p->lock);
    j->pool_ref = 0;
    mp__mutex_unlock(p->lock);
  }
  mp__job_unref(j);
  return rc;
}

int mp_pool_apply(mp_pool *p, const char *task, const void *arg, size_t len, mp_result *res) {
  return apply(p, task, arg, len, NULL, res, "mp_pool_apply");
}

int mp_pool_apply_opts(mp_pool *p, const char *task, const void *arg, size_t len, const mp_call_options *call,
                       mp_result *res) {
  return apply(p, task, arg, len, call, res, "mp_pool_apply_opts");
}

/* A blocking map after its submit (which gave rc): waits for every item,
 * then answers with the lowest-index failure's status and sentence. */
static int run_blocking(mp_pool *p, job *j, int rc, const char *api) {
  if (rc != MP_OK) {
    mp__mutex_lock(p->lock);
    j->pool_ref = 0;
    mp__mutex_unlock(p->lock);
    mp__job_unref(j);
    return rc;
  }
  mp__job_wait(j, MP_FOREVER, api);
  rc = j->first_fail_status;
  if (rc != MP_OK)
    mp__set_error(rc, "%s: item %llu failed (%s): %s", api, (unsigned long long)j->first_fail, mp_err_name(rc),
                  j->first_fail_text ? j->first_fail_text : "");
  mp__job_unref(j);
  return rc;
}

static job *map_job(mp_pool *p, const char *api, const char *task, size_t n, const mp_map_options *opts, int *rc) {
  *rc = MP_OK;
  if (!p) {
    *rc = mp__set_error(MP_EINVAL, "%s: the pool is NULL", api);
    return NULL;
  }
  if ((*rc = mp__check_task(api, task)) != MP_OK) return NULL;
  if ((*rc = mp__call_options_check(api, opts ? opts->call : NULL)) != MP_OK) return NULL;
  job *j = blocking_job(p, JOB_MAP, task, n);
  if (!j) {
    *rc = mp__set_error(MP_ENOMEM, "%s: out of memory", api);
    return NULL;
  }
  if (opts) {
    j->progress = opts->progress;
    j->progress_ud = opts->progress_ud;
    /* Its caller waits anyway: it reports, so no other job's slow
     * callback on the callback thread can hold it up. */
    j->caller_reports = j->progress != NULL;
    mp__job_take_call_options(p, j, opts->call);
  }
  return j;
}

int mp_pool_map(mp_pool *p, const char *task, const void *in, size_t in_size, size_t n, void *out, size_t out_size,
                const mp_map_options *opts) {
  if (n && (!in || !out)) return mp__set_error(MP_EINVAL, "mp_pool_map: %s is NULL", in ? "out" : "in");
  if (n && (in_size > MP_MAX_MESSAGE || out_size > MP_MAX_MESSAGE))
    return mp__set_error(MP_ETOOBIG, "mp_pool_map: items of %llu bytes are over MP_MAX_MESSAGE",
                         (unsigned long long)(in_size > out_size ? in_size : out_size));
  if (n && (SIZE_MAX / n < in_size || SIZE_MAX / n < out_size))
    return mp__set_error(MP_EINVAL, "mp_pool_map: n * size overflows");
  int rc;
  job *j = map_job(p, "mp_pool_map", task, n, opts, &rc);
  if (!j) return rc;
  j->fixed_out = out;
  j->out_size = out_size;
  if (opts && opts->results) {
    j->results = opts->results;
    memset(j->results, 0, n * sizeof *j->results);
  }
  chunk_src src = {n ? in : (const uint8_t *)"", in_size, NULL};
  return run_blocking(p, j, mp__pool_submit(p, j, 0, n, pick_chunksize(p, n, opts), &src, 0, "mp_pool_map"),
                      "mp_pool_map");
}

static int check_slices(const char *api, const mp_slice *in, size_t n) {
  if (n && !in) return mp__set_error(MP_EINVAL, "%s: in is NULL", api);
  for (size_t i = 0; i < n; i++)
    if ((!in[i].data && in[i].len) || in[i].len > MP_MAX_MESSAGE)
      return mp__set_error(MP_EINVAL, "%s: item %llu is NULL with a length, or over MP_MAX_MESSAGE", api,
                           (unsigned long long)i);
  return MP_OK;
}

int mp_pool_map_slices(mp_pool *p, const char *task, const mp_slice *in, size_t n, mp_result *out,
                       const mp_map_options *opts) {
  if (n && !out) return mp__set_error(MP_EINVAL, "mp_pool_map_slices: out is NULL");
  int rc = check_slices("mp_pool_map_slices", in, n);
  if (rc != MP_OK) return rc;
  job *j = map_job(p, "mp_pool_map_slices", task, n, opts, &rc);
  if (!j) return rc;
  j->results = out;
  if (n) memset(out, 0, n * sizeof *out);
  chunk_src src = {NULL, 0, in};
  return run_blocking(p, j,
                      mp__pool_submit(p, j, 0, n, pick_chunksize(p, n, opts), &src, 0, "mp_pool_map_slices"),
                      "mp_pool_map_slices");
}

int mp_pool_map_async(mp_pool *p, const char *task, const mp_slice *in, size_t n, const mp_map_options *opts,
                      mp_callback cb, void *ud, mp_async **out) {
  if (out) *out = NULL;
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_map_async: the pool is NULL");
  int rc = check_slices("mp_pool_map_async", in, n);
  if (rc == MP_OK) rc = mp__check_task("mp_pool_map_async", task);
  if (rc == MP_OK) rc = mp__call_options_check("mp_pool_map_async", opts ? opts->call : NULL);
  if (rc != MP_OK) return rc;
  job *j = mp__job_new(p, JOB_MAP, task, n);
  if (!j) return mp__set_error(MP_ENOMEM, "mp_pool_map_async: out of memory");
  if (opts) {
    j->progress = opts->progress;
    j->progress_ud = opts->progress_ud;
    mp__job_take_call_options(p, j, opts->call);
  }
  return submit_async(p, j, pick_chunksize(p, n, opts), in, cb, ud, out, "mp_pool_map_async");
}

/* ============================================================ lifecycle */
int mp_pool_close(mp_pool *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_close: the pool is NULL");
  mp__mutex_lock(p->lock);
  if (p->state == POOL_RUNNING) p->state = POOL_CLOSED;
  mp__pool_poke(p);
  mp__mutex_unlock(p->lock);
  return MP_OK;
}

int mp_pool_terminate(mp_pool *p) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_terminate: the pool is NULL");
  mp__mutex_lock(p->lock);
  if (p->state != POOL_DONE) p->state = POOL_TERMINATING;
  mp__pool_poke(p);
  mp__mutex_unlock(p->lock);
  return MP_OK;
}

int mp_pool_join(mp_pool *p, double timeout) {
  if (!p) return mp__set_error(MP_EINVAL, "mp_pool_join: the pool is NULL");
  int trc = mp__timeout_check("mp_pool_join", timeout);
  if (trc != MP_OK) return trc;
  double deadline = mp__deadline(timeout);
  mp__mutex_lock(p->lock);
  if (p->state == POOL_RUNNING) {
    mp__mutex_unlock(p->lock);
    return mp__set_error(MP_ESTATE, "mp_pool_join: close or terminate the pool first");
  }
  while (p->state != POOL_DONE) {
    double left = mp__remaining(deadline);
    if (left == 0) {
      mp__mutex_unlock(p->lock);
      return mp__set_error(MP_ETIMEDOUT, "mp_pool_join: workers are still at work");
    }
    mp__cond_wait(p->anchor->waiters, p->lock, left);
  }
  mp__thread *sched = p->scheduler, *cb = p->callbacker;
  p->scheduler = p->callbacker = NULL;
  p->cb_quit = 1;
  mp__cond_signal(p->cb_cond);
  mp__mutex_unlock(p->lock);
  /* Another thread's join may have taken them already. */
  if (sched) mp__thread_join(sched);
  if (cb) mp__thread_join(cb);
  return MP_OK;
}

mp_pool *mp_pool_free(mp_pool *p) {
  if (!p) return NULL;
  mp__mutex_lock(p->lock);
  int idle = p->state == POOL_RUNNING && p->outstanding == 0 && p->open_iters == 0;
  mp__mutex_unlock(p->lock);
  /* No work left: let the workers leave on their own, so what they
   * printed reaches its file; kill only those that do not. */
  if (idle) {
    mp_pool_close(p);
    if (mp_pool_join(p, GRACEFUL_END) != MP_OK) mp_pool_terminate(p);
  } else {
    mp_pool_terminate(p);
  }
  mp_pool_join(p, MP_FOREVER);
  pool_anchor *a = p->anchor;
  mp__mutex_lock(a->lock);
  a->pool = NULL; /* job handles now find it gone */
  mp__anchor_notify(a);
  mp__mutex_unlock(a->lock);
  pool_destroy(p);
  mp__anchor_unref(a);
  return NULL;
}
