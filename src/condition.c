/* Condition: wait/notify across processes around a Lock, as Python's
 * Condition (whose default lock is recursive, as here).
 *
 * Its segment holds a table of its waiters under a small state lock; they
 * sleep on the segment's wait point. A waiter takes a place in the table
 * while it still holds the user's lock, marked with its thread id (whose
 * high half is its pid) and the order it came in, then lets go of the
 * user's lock and sleeps. notify needs the user's lock too, so a notify
 * either comes before a waiter took its place (and is not meant for it) or
 * finds it there: no wake-up is lost. notify(n) marks the n oldest waiters
 * in the table notified, then wakes every sleeper (a marked one must wake,
 * and the wait point cannot pick it); a waiter leaves with MP_OK once it
 * finds itself marked, or with MP_ETIMEDOUT, taking its place back. A
 * notification is therefore only ever for a waiter that was there, and
 * only it can take it.
 *
 * A waiter killed in its wait leaves its place taken. notify passes over
 * (and frees) a place whose process has ended, so it is never notified in
 * a live waiter's stead, and a wait that finds the table full first frees
 * the places of the dead. (A pid the system gave again to a new process
 * keeps its dead place until that process ends too; and a waiter wrongly
 * taken for dead finds its place gone at its next wake, which whoever
 * freed it causes, and returns as if notified: a spurious wake-up, never
 * a lost one.) A thread that ends in the middle of a wait while its
 * process lives is not noticed. */
#include <limits.h>
#include <stdlib.h>

#include "deadline.h"
#include "sync.h"

typedef struct cond_waiter {
  volatile uint64_t owner; /* mp__thread_id() of the waiter; 0: a free place */
  uint32_t order;          /* when it came (wraps): notify takes the oldest */
  uint32_t notified;
} cond_waiter;

typedef struct cond_state {
  uint32_t capacity;   /* places in the table */
  uint32_t high;       /* places [0, high) may be taken */
  uint32_t next_order;
  uint32_t spare;
} cond_state;

/* The table follows the state in the segment. */
#define COND_TABLE_BYTES (MP__SYNC_COND_SIZE - 256 - sizeof(cond_state))
typedef char table_fits[COND_TABLE_BYTES / sizeof(cond_waiter) >= MP_CONDITION_MAX_WAITERS ? 1 : -1];

struct mp_condition {
  mp__sync_obj o;
  cond_state *st;
  cond_waiter *table;
  mp_lock *lock; /* a reference of the condition's own */
};

static int condition_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static void condition_destroy(mp_object *o) { mp__condition_release((mp_condition *)o); }
static void condition_after_task(mp_object *o);
static const mp__object_ops condition_ops = {MP__KIND_CONDITION, "condition", condition_export, condition_destroy,
                                             condition_after_task};

static mp_condition *condition_new(void) {
  mp_condition *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  mp__object_init(&c->o.base, &condition_ops);
  mp__sync_seg_clear(&c->o.seg);
  return c;
}

static void map_state(mp_condition *c) {
  c->st = mp__sync_state(&c->o.seg);
  c->table = (cond_waiter *)(c->st + 1);
}

void mp__condition_release(mp_condition *c) {
  if (!c) return;
  if (c->lock) mp__object_unref(mp_lock_obj(c->lock));
  mp__sync_seg_release(&c->o.seg);
  free(c);
}

int mp__condition_create_sized(mp_condition **out, mp_lock *lock, uint32_t capacity) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_condition_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_condition_create");
  if (rc != MP_OK) return rc;
  if (capacity == 0 || capacity > MP_CONDITION_MAX_WAITERS)
    return mp__set_error(MP_EINVAL, "mp_condition_create: a table of %lu waiters", (unsigned long)capacity);
  mp_condition *c = condition_new();
  if (!c) return mp__set_error(MP_ENOMEM, "mp_condition_create: out of memory");
  if (lock) {
    /* The condition keeps the lock it was given for as long as it lives. */
    c->lock = (mp_lock *)mp__object_retain(mp_lock_obj(lock));
  } else if ((rc = mp_lock_create(&c->lock, 1)) != MP_OK) {
    goto fail;
  }
  rc = mp__sync_seg_create(&c->o.seg, MP__KIND_CONDITION, MP__SYNC_WITH_LOCK | MP__SYNC_WITH_WAIT);
  if (rc != MP_OK) goto fail;
  map_state(c);
  c->st->capacity = capacity;
  *out = c;
  return MP_OK;
fail:
  mp__condition_release(c);
  return mp__error_in("mp_condition_create", rc);
}

int mp_condition_create(mp_condition **out, mp_lock *lock) {
  return mp__condition_create_sized(out, lock, MP_CONDITION_MAX_WAITERS);
}

static void unlock_state(mp_condition *c) { mp__plock_release(mp__sync_lock_slot(&c->o.seg), c->o.seg.lock); }

/* Each place is taken and given back by single stores, high first when it
 * grows: a process that dies holding the state lock leaves a table that
 * needs no repair (at worst a place it was taking stays taken by a dead
 * waiter, which notify frees). */
static int lock_state(mp_condition *c) {
  int rc = mp__plock_acquire(mp__sync_lock_slot(&c->o.seg), c->o.seg.lock, MP_FOREVER);
  return rc == MP_EOWNERDEAD ? MP_OK : rc;
}

int mp_condition_acquire(mp_condition *c, double timeout) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_acquire: NULL condition");
  int rc = mp__timeout_check("mp_condition_acquire", timeout);
  if (rc != MP_OK) return rc;
  rc = mp_lock_acquire(c->lock, timeout);
  return mp__error_in("mp_condition_acquire", rc);
}

int mp_condition_release(mp_condition *c) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_release: NULL condition");
  int rc = mp_lock_release(c->lock);
  return mp__error_in("mp_condition_release", rc);
}

/* ---------------------------------------------------------- the table */
/* Under the state lock: whether the waiter in place i is known to be
 * gone. This process's own threads count as alive; *alive_pid remembers
 * the last process found alive, so a notify_all over many waiters of one
 * process asks once. */
static int waiter_gone(const cond_waiter *w, int64_t *alive_pid) {
  int64_t pid = (int64_t)(w->owner >> 32);
  if (pid == (int64_t)(mp__thread_id() >> 32) || pid == *alive_pid) return 0;
  if (mp__pid_alive(pid)) {
    *alive_pid = pid;
    return 0;
  }
  return 1;
}

/* The places that may be taken: [0, in_use). Never past the table, even
 * if the shared word were scribbled on. */
static uint32_t in_use(const mp_condition *c) {
  uint32_t high = c->st->high;
  return high <= MP_CONDITION_MAX_WAITERS ? high : MP_CONDITION_MAX_WAITERS;
}

static void free_place(mp_condition *c, uint32_t i) {
  c->table[i].notified = 0;
  mp__atomic_store64(&c->table[i].owner, 0);
  uint32_t high = in_use(c);
  while (high > 0 && c->table[high - 1].owner == 0) high--;
  c->st->high = high;
}

/* Under the state lock: frees the places of waiters whose process ended;
 * 1 if it freed any. (Whoever frees a place not its own wakes every
 * sleeper afterwards: should the verdict be wrong, its waiter then finds
 * its place gone, which it takes as a wake-up, and no wake-up is lost.) */
static int free_dead_places(mp_condition *c) {
  int64_t alive_pid = 0;
  int freed = 0;
  for (uint32_t i = 0; i < in_use(c); i++)
    if (c->table[i].owner && waiter_gone(&c->table[i], &alive_pid)) {
      free_place(c, i);
      freed = 1;
    }
  return freed;
}

/* Under the state lock: a free place for the calling thread, or -1 if the
 * table is full of live waiters; *freed as free_dead_places says it. */
static int64_t take_place(mp_condition *c, int *freed) {
  cond_state *st = c->st;
  uint32_t capacity = st->capacity <= MP_CONDITION_MAX_WAITERS ? st->capacity : MP_CONDITION_MAX_WAITERS;
  for (int pass = 0; pass < 2; pass++) {
    for (uint32_t i = 0; i < capacity; i++) {
      if (c->table[i].owner) continue;
      if (i >= st->high) st->high = i + 1;
      c->table[i].notified = 0;
      c->table[i].order = st->next_order++;
      mp__atomic_store64(&c->table[i].owner, mp__thread_id());
      return i;
    }
    if (pass == 0) *freed = free_dead_places(c);
  }
  return -1;
}

static void wake_sleepers(mp_condition *c) { mp__pwait_wake(mp__sync_wait_slot(&c->o.seg), c->o.seg.wait, 1); }

/* ------------------------------------------------------------- waiting */
/* Sleeps until this waiter (in place i) is notified or the deadline
 * passes; 1 if notified. The user's lock is not held here. */
static int sleep_in_place(mp_condition *c, uint32_t i, uint32_t seen, double deadline, int *rc) {
  void *wait = mp__sync_wait_slot(&c->o.seg);
  for (;;) {
    double left = mp__remaining(deadline);
    if (left != 0) {
      *rc = mp__pwait_wait(wait, c->o.seg.wait, seen, left);
      if (*rc == MP_ETIMEDOUT) *rc = MP_OK;
    }
    int lrc = lock_state(c);
    if (lrc != MP_OK) {
      *rc = lrc; /* cannot give the place back: notify frees it once this process ends */
      return 0;
    }
    if (c->table[i].owner != mp__thread_id()) {
      /* Freed by someone who took this waiter for dead: a wake-up. */
      unlock_state(c);
      return 1;
    }
    int notified = c->table[i].notified != 0;
    if (notified || *rc != MP_OK || mp__remaining(deadline) == 0) {
      free_place(c, i);
      unlock_state(c);
      return notified;
    }
    seen = mp__pwait_seq(wait);
    unlock_state(c);
  }
}

/* mp_condition_wait, for api (which has checked c and the timeout). */
static int condition_wait(mp_condition *c, double timeout, const char *api) {
  if (!mp__lock_held(c->lock))
    return mp__set_error(MP_ESTATE, "%s: the calling thread does not hold the condition's lock", api);
  double deadline = mp__deadline(timeout);
  int rc = lock_state(c);
  if (rc != MP_OK) return mp__error_in(api, rc);
  int freed = 0;
  int64_t place = take_place(c, &freed);
  uint32_t seen = mp__pwait_seq(mp__sync_wait_slot(&c->o.seg));
  unlock_state(c);
  if (freed) wake_sleepers(c);
  if (place < 0)
    return mp__set_error(MP_ETOOBIG, "%s: %lu threads already wait on this condition, the most it takes", api,
                         (unsigned long)c->st->capacity);
  uint32_t depth = mp__lock_release_all(c->lock);
  int notified = sleep_in_place(c, (uint32_t)place, seen, deadline, &rc);
  /* As Python's: the lock is taken back whatever happened, however long
   * that takes, so the caller always returns holding it. */
  int lrc = mp__lock_restore(c->lock, depth, api);
  if (rc != MP_OK) return mp__error_in(api, rc);
  if (lrc == MP_EOWNERDEAD) return lrc;
  if (notified) return MP_OK;
  return mp__set_error(MP_ETIMEDOUT, timeout == 0 ? "%s: not notified" : "%s: timed out", api);
}

int mp_condition_wait(mp_condition *c, double timeout) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_wait: NULL condition");
  int rc = mp__timeout_check("mp_condition_wait", timeout);
  return rc != MP_OK ? rc : condition_wait(c, timeout, "mp_condition_wait");
}

int mp_condition_wait_for(mp_condition *c, mp_predicate pred, void *ud, double timeout) {
  static const char api[] = "mp_condition_wait_for";
  if (!c || !pred) return mp__set_error(MP_EINVAL, "%s: NULL %s", api, c ? "predicate" : "condition");
  int rc = mp__timeout_check(api, timeout);
  if (rc != MP_OK) return rc;
  if (!mp__lock_held(c->lock))
    return mp__set_error(MP_ESTATE, "%s: the calling thread does not hold the condition's lock", api);
  double deadline = mp__deadline(timeout);
  /* As Python's: the predicate first, and once more when time is up. */
  while (!pred(ud)) {
    double left = mp__remaining(deadline);
    if (left == 0) return mp__set_error(MP_ETIMEDOUT, "%s: timed out with the predicate still false", api);
    rc = condition_wait(c, left, api);
    if (rc == MP_ETIMEDOUT) {
      if (pred(ud)) return MP_OK;
      return mp__set_error(MP_ETIMEDOUT, "%s: timed out with the predicate still false", api);
    }
    if (rc != MP_OK) return rc; /* MP_EOWNERDEAD too: the caller repairs, then asks again */
  }
  return MP_OK;
}

/* ----------------------------------------------------------- notifying */
/* Under the state lock: the oldest live waiter not yet notified (freeing
 * the places of dead ones it passes, and saying so in *freed), or -1. */
static int64_t oldest_waiting(mp_condition *c, int64_t *alive_pid, int *freed) {
  for (;;) {
    int64_t best = -1;
    for (uint32_t i = 0; i < in_use(c); i++) {
      const cond_waiter *w = &c->table[i];
      if (!w->owner || w->notified) continue;
      if (best < 0 || (int32_t)(w->order - c->table[best].order) < 0) best = i;
    }
    if (best < 0 || !waiter_gone(&c->table[best], alive_pid)) return best;
    free_place(c, (uint32_t)best);
    *freed = 1;
  }
}

static int notify(mp_condition *c, unsigned n, const char *api) {
  if (!mp__lock_held(c->lock))
    return mp__set_error(MP_ESTATE, "%s: the calling thread does not hold the condition's lock", api);
  if (n == 0) return MP_OK;
  int rc = lock_state(c);
  if (rc != MP_OK) return mp__error_in(api, rc);
  int64_t alive_pid = 0;
  unsigned woken = 0;
  int freed = 0;
  if (n >= in_use(c)) {
    /* All of them (notify_all): one pass, no order to keep. */
    for (uint32_t i = 0; i < in_use(c) && woken < n; i++) {
      cond_waiter *w = &c->table[i];
      if (!w->owner || w->notified) continue;
      if (waiter_gone(w, &alive_pid)) {
        free_place(c, i);
        freed = 1;
      } else {
        w->notified = 1;
        woken++;
      }
    }
  } else {
    while (woken < n) {
      int64_t i = oldest_waiting(c, &alive_pid, &freed);
      if (i < 0) break;
      c->table[i].notified = 1;
      woken++;
    }
  }
  unlock_state(c);
  if (woken || freed) wake_sleepers(c);
  return MP_OK;
}

int mp_condition_notify(mp_condition *c, unsigned n) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_notify: NULL condition");
  return notify(c, n, "mp_condition_notify");
}

int mp_condition_notify_all(mp_condition *c) {
  if (!c) return mp__set_error(MP_EINVAL, "mp_condition_notify_all: NULL condition");
  return notify(c, UINT_MAX, "mp_condition_notify_all");
}

mp_condition *mp_condition_free(mp_condition *c) {
  if (c) mp__object_free(&c->o.base);
  return NULL;
}

mp_object *mp_condition_obj(mp_condition *c) { return c ? &c->o.base : NULL; }

mp_condition *mp_call_condition(mp_call *call, size_t i) {
  return (mp_condition *)mp__call_object(call, i, MP__KIND_CONDITION, "mp_call_condition");
}

/* A task that returns holding the condition's lock leaves it as a dead
 * holder would (the lock it came with is rebuilt inside the condition, so
 * its own object is not in the call's list). */
static void condition_after_task(mp_object *o) { mp__lock_abandon_if_held(((mp_condition *)o)->lock); }

/* The child gets the condition's segment and its lock's page, one after
 * the other, whichever lock it is. */
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
  if (rc == MP_OK) rc = mp__lock_import_part(handles + used, nhandles - used, &lock_used, r, &c->lock);
  if (rc == MP_OK && (used + lock_used != nhandles || r->off != r->len))
    rc = mp__set_error(MP_EPROTO, "malformed bootstrap message: condition description");
  if (rc == MP_OK) {
    map_state(c);
    if (c->st->capacity == 0 || c->st->capacity > MP_CONDITION_MAX_WAITERS ||
        c->st->high > c->st->capacity)
      rc = mp__set_error(MP_EPROTO, "malformed shared object: a condition's table of %lu waiters",
                         (unsigned long)c->st->capacity);
  }
  if (rc != MP_OK) {
    mp__condition_release(c);
    return rc;
  }
  c->o.base.borrowed = 1;
  *out = &c->o.base;
  return MP_OK;
}
