/* Options of one call (mp_call_options): checked, then carried by the
 * call's job. A call's timeout overrides the pool's task_timeout for that
 * call's items only. The scheduler finds an item's limit from the chunk
 * its worker's slot names, so calls with different limits run at once on
 * the same workers, and the record of a timed chunk tells its worker to
 * write each item's start (MP__TASK_TIMED). */
#include "pool_internal.h"

int mp__call_options_check(const char *api, const mp_call_options *call) {
  if (!call) return MP_OK;
  if (call->timeout < 0 || call->timeout != call->timeout)
    return mp__set_error(MP_EINVAL, "%s: call->timeout must be >= 0 seconds (0: the pool's, INFINITY: none), not %g",
                         api, call->timeout);
  int rc = mp__objects_check(api, call->objects, call->nobjects);
  if (rc != MP_OK) return rc;
  if (call->nobjects)
    return mp__set_error(MP_ENOTSUP,
                         "%s: objects given to one call are not supported yet (call->nobjects is %llu): give them "
                         "to the pool (mp_pool_options.objects)",
                         api, (unsigned long long)call->nobjects);
  return MP_OK;
}

void mp__job_take_call_options(mp_pool *p, job *j, const mp_call_options *call) {
  if (!call || call->timeout == 0) return; /* the pool's, set by mp__job_new */
  /* INFINITY (or longer than anything can run): no limit, even if the
   * pool has one. */
  j->limit = call->timeout > MP__TIMEOUT_FOREVER_ABOVE ? 0 : call->timeout;
  j->own_limit = 1;
  if (j->limit > 0) {
    mp__mutex_lock(p->lock);
    /* Never raised again: the scheduler looks at running items at least
     * this often while work is outstanding, a few wake-ups too many at
     * worst once the short call is gone. */
    if (p->shortest_call_limit <= 0 || j->limit < p->shortest_call_limit) p->shortest_call_limit = j->limit;
    mp__mutex_unlock(p->lock);
  }
}

double mp__pool_limit_of(mp_pool *p, uint64_t seq) {
  chunk *c = mp__chunk_of(p, seq);
  /* A chunk without its job is one being dropped (cancelled): the pool's. */
  return c && c->job ? c->job->limit : p->task_timeout;
}
