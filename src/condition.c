/* Condition: wait/notify across processes around a Lock, as Python's
 * Condition (whose default lock is recursive, as here).
 *
 * Its page counts the sleepers and the notifications handed out to them
 * (tickets), under a small state lock; sleepers wait on the page's wait
 * point. A waiter registers while it still holds the user's lock and
 * reads the wait point's counter then, and notify needs the user's lock
 * too, so a notify either comes before the waiter counted itself (and is
 * not meant for it) or bumps the counter it is about to sleep on: no
 * wake-up is lost. notify(n) hands out at most n tickets, never more than
 * there are sleepers without one; a sleeper that wakes and finds a ticket
 * takes it and returns MP_OK. A waiter that times out takes a ticket if
 * one is there, so none is left behind for nobody. */
#include <stdlib.h>

#include "deadline.h"
#include "sync.h"

typedef struct cond_state {
  uint32_t sleepers; /* waiters registered and not yet gone */
  uint32_t tickets;  /* notifications not yet taken; <= sleepers */
} cond_state;

struct mp_condition {
  mp__sync_obj o;
  cond_state *st;
  mp_lock *lock;
  int owns_lock; /* made by the condition, freed with it */
};

static int condition_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static const mp__object_ops condition_ops = {MP__KIND_CONDITION, "condition", condition_export};

static mp_condition *condition_new(void) {
  mp_condition *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->o.base.ops = &condition_ops;
  mp__sync_seg_clear(&c->o.seg);
  return c;
}

void mp__condition_release(mp_condition *c) {
  if (!c) return;
  if (c->owns_lock) mp__lock_release(c->lock);
  mp__sync_seg_release(&c->o.seg);
  free(c);
}

int mp_condition_create(mp_condition **out, mp_lock *lock) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_condition_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_condition_create");
  if (rc != MP_OK) return rc;
  mp_condition *c = condition_new();
  if (!c) return mp__set_error(MP_ENOMEM, "mp_condition_create: out of memory");
  c->lock = lock;
  if (!lock) {
    if ((rc = mp_lock_create(&c->lock, 1)) != MP_OK) goto fail;
    c->owns_lock = 1;
  }
  rc = mp__sync_seg_create(&c->o.seg, MP__KIND_CONDITION, MP__SYNC_WITH_LOCK | MP__SYNC_WITH_WAIT);
  if (rc != MP_OK) goto fail;
  c->st = mp__sync_state(&c->o.seg);
  *out = c;
  return MP_OK;
fail:
  mp__condition_release(c);
  return rc;
}

static void unlock_state(mp_condition *c) { mp__plock_release(mp__sync_lock_slot(&c->o.seg), c->o.seg.lock); }

/* The counters are each written in one store; after a death in between,
 * only the tickets can be more than there are sleepers to take them. */
static int lock_state(mp_condition *c) {
  int rc = mp__plock_acquire(mp__sync_lock_slot(&c->o.seg), c->o.seg.lock, MP_FOREVER);
  if (rc == MP_EOWNERDEAD) {
    if (c->st->tickets > c->st->sleepers) c->st->tickets = c->st->sleepers;
    rc = MP_OK;
  }
  return rc;
}

int mp_condition_acquire(mp_condition *c, double timeout) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_acquire: NULL condition");
  return mp_lock_acquire(c->lock, timeout);
}

int mp_condition_release(mp_condition *c) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_release: NULL condition");
  return mp_lock_release(c->lock);
}

/* Sleeps until a ticket comes or the deadline passes; 1 if notified. The
 * user's lock is not held here. */
static int sleep_for_ticket(mp_condition *c, uint32_t seen, double deadline, int *rc) {
  void *wait = mp__sync_wait_slot(&c->o.seg);
  for (;;) {
    double left = mp__remaining(deadline);
    if (left != 0) {
      *rc = mp__pwait_wait(wait, c->o.seg.wait, seen, left);
      if (*rc == MP_ETIMEDOUT) *rc = MP_OK;
    }
    int lrc = lock_state(c);
    if (lrc != MP_OK) {
      *rc = lrc; /* cannot unregister: the sleeper count stays one high */
      return 0;
    }
    if (c->st->tickets) {
      c->st->tickets--;
      c->st->sleepers--;
      unlock_state(c);
      return 1;
    }
    if (*rc != MP_OK || mp__remaining(deadline) == 0) {
      c->st->sleepers--;
      unlock_state(c);
      return 0;
    }
    seen = mp__pwait_seq(wait);
    unlock_state(c);
  }
}

int mp_condition_wait(mp_condition *c, double timeout) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_wait: NULL condition");
  if (!mp__lock_held(c->lock))
    return mp__set_error(MP_ESTATE, "mp_condition_wait: the calling thread does not hold the condition's lock");
  double deadline = mp__deadline(timeout);
  int rc = lock_state(c);
  if (rc != MP_OK) return rc;
  c->st->sleepers++;
  uint32_t seen = mp__pwait_seq(mp__sync_wait_slot(&c->o.seg));
  unlock_state(c);
  uint32_t depth = mp__lock_release_all(c->lock);
  int notified = sleep_for_ticket(c, seen, deadline, &rc);
  /* As Python's: the lock is taken back whatever happened, however long
   * that takes, so the caller always returns holding it. */
  int lrc = mp__lock_restore(c->lock, depth);
  if (rc != MP_OK) return rc;
  if (lrc == MP_EOWNERDEAD) return lrc;
  if (notified) return MP_OK;
  return mp__set_error(MP_ETIMEDOUT, timeout == 0 ? "mp_condition_wait: not notified"
                                                  : "mp_condition_wait: timed out");
}

int mp_condition_notify(mp_condition *c, unsigned n) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_notify: NULL condition");
  if (!mp__lock_held(c->lock))
    return mp__set_error(MP_ESTATE, "mp_condition_notify: the calling thread does not hold the condition's lock");
  if (n == 0) return MP_OK;
  int rc = lock_state(c);
  if (rc != MP_OK) return rc;
  uint32_t waiting = c->st->sleepers - c->st->tickets;
  uint32_t k = n < waiting ? (uint32_t)n : waiting;
  c->st->tickets += k;
  unlock_state(c);
  if (k) mp__pwait_wake(mp__sync_wait_slot(&c->o.seg), c->o.seg.wait, k > 1);
  return MP_OK;
}

int mp_condition_notify_all(mp_condition *c) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_notify_all: NULL condition");
  return mp_condition_notify(c, UINT32_MAX);
}

mp_condition *mp_condition_free(mp_condition *c) {
  if (c && !c->o.base.borrowed) mp__condition_release(c);
  return NULL;
}

mp_object *mp_condition_obj(mp_condition *c) { return c ? &c->o.base : NULL; }

mp_condition *mp_call_condition(mp_call *call, size_t i) {
  return (mp_condition *)mp__call_object(call, i, MP__KIND_CONDITION);
}

/* The child gets the condition's page and its lock's page, one after the
 * other, whichever lock it is. */
static int condition_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp_condition *c = (mp_condition *)o;
  *nhandles = 0;
  mp__sync_seg_export(&c->o.seg, handles, nhandles, blob);
  mp__sync_seg_export(&((mp__sync_obj *)mp_lock_obj(c->lock))->seg, handles, nhandles, blob);
  return MP_OK;
}

int mp__condition_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  mp_condition *c = condition_new();
  if (!c) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a condition");
  size_t used = 0, lock_used = 0;
  int rc = mp__sync_seg_import(&c->o.seg, MP__KIND_CONDITION, handles, nhandles, &used, r);
  if (rc == MP_OK) {
    rc = mp__lock_import_part(handles + used, nhandles - used, &lock_used, r, &c->lock);
    c->owns_lock = rc == MP_OK;
  }
  if (rc == MP_OK && (used + lock_used != nhandles || r->off != r->len))
    rc = mp__set_error(MP_EPROTO, "malformed bootstrap message: condition description");
  if (rc != MP_OK) {
    mp__condition_release(c);
    return rc;
  }
  c->st = mp__sync_state(&c->o.seg);
  c->o.base.borrowed = 1;
  *out = &c->o.base;
  return MP_OK;
}
