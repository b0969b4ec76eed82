/* Lock: plain or recursive, across processes, robust.
 *
 * The mutual exclusion is the platform's robust lock (mp__plock: a robust
 * pthread mutex, an owner-word lock on macOS, a kernel mutex on Windows),
 * so a holder that dies hands the lock to the next acquirer with
 * MP_EOWNERDEAD. Beside it the page records which thread holds it
 * (mp__thread_id) and how many times: that is what makes a recursive lock
 * recursive, refuses a release by a thread that does not hold the lock,
 * and answers a plain lock's second acquire by its own holder at once
 * (MP_ESTATE) instead of a deadlock. Only the holder writes those
 * fields, so they need no lock of their own.
 *
 * A holder that lets go without releasing, because its task returned
 * holding the lock or it freed the lock it held, is treated as one that
 * died: it marks the lock abandoned and unlocks it, and the next acquirer
 * gets MP_EOWNERDEAD. (Unmapping a held robust mutex instead would leave
 * it held for good, and leave the thread's robust-lock list pointing into
 * memory that is gone: the kernel could not hand it on, and the thread's
 * next lock of any mutex would walk into freed memory.) */
#include <stdlib.h>

#include "deadline.h"
#include "sync.h"

typedef struct lock_state {
  volatile uint64_t owner; /* mp__thread_id() of the holder, 0 when free */
  uint32_t depth;          /* the holder's acquisitions not yet released */
  uint32_t recursive;
  uint32_t abandoned;      /* its last holder let go without releasing it */
} lock_state;

struct mp_lock {
  mp__sync_obj o;
  lock_state *st;
};

static void lock_destroy(mp_object *o) { mp__lock_release((mp_lock *)o); }
static void lock_after_task(mp_object *o) { mp__lock_abandon_if_held((mp_lock *)o); }
static const mp__object_ops lock_ops = {MP__KIND_LOCK, "lock", mp__sync_export, lock_destroy, lock_after_task};

static mp_lock *lock_new(void) {
  mp_lock *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  mp__object_init(&l->o.base, &lock_ops);
  mp__sync_seg_clear(&l->o.seg);
  return l;
}

/* Another thread of this process holds the lock (a free racing an
 * acquire is the program's own bug, but must not corrupt memory). */
static int held_by_a_sibling_thread(mp_lock *l) {
  uint64_t owner = mp__atomic_load64(&l->st->owner);
  return owner && owner != mp__thread_id() && owner >> 32 == mp__thread_id() >> 32;
}

void mp__lock_release(mp_lock *l) {
  if (!l) return;
  if (l->st) {
    mp__lock_abandon_if_held(l);
    /* That thread's robust-lock list still points into the page: leave
     * the page mapped (its handles go), or the thread's next lock of any
     * mutex would walk into memory that is gone. Its death hands the lock
     * on; this process keeps one page more. */
    if (held_by_a_sibling_thread(l)) {
      mp__handle_close(l->o.seg.shm);
      mp__handle_close(l->o.seg.lock);
      mp__handle_close(l->o.seg.wait);
      mp__sync_seg_clear(&l->o.seg);
    }
  }
  mp__sync_seg_release(&l->o.seg);
  free(l);
}

int mp_lock_create(mp_lock **out, int recursive) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_lock_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_lock_create");
  if (rc != MP_OK) return rc;
  mp_lock *l = lock_new();
  if (!l) return mp__set_error(MP_ENOMEM, "mp_lock_create: out of memory");
  if ((rc = mp__sync_seg_create(&l->o.seg, MP__KIND_LOCK, MP__SYNC_WITH_LOCK)) != MP_OK) {
    free(l);
    return mp__error_in("mp_lock_create", rc);
  }
  l->st = mp__sync_state(&l->o.seg);
  l->st->recursive = recursive != 0;
  *out = l;
  return MP_OK;
}

static void take_ownership(mp_lock *l, uint64_t me, uint32_t depth) {
  l->st->depth = depth;
  mp__atomic_store64(&l->st->owner, me);
}

static int owner_dead(const char *api) {
  return mp__set_error(MP_EOWNERDEAD,
                       "%s: acquired, but its previous holder let go without releasing it (it died, its task "
                       "returned holding it, or it freed the lock it held): repair what the lock guards",
                       api);
}

/* The platform lock, then ownership; rc as mp__plock_acquire gives it,
 * and MP_EOWNERDEAD too for a lock its last holder abandoned. */
static int acquire_slot(mp_lock *l, uint64_t me, uint32_t depth, double timeout, const char *api) {
  int rc = mp__plock_acquire(mp__sync_lock_slot(&l->o.seg), l->o.seg.lock, timeout);
  if (rc != MP_OK && rc != MP_EOWNERDEAD) return rc;
  take_ownership(l, me, depth);
  if (l->st->abandoned) {
    l->st->abandoned = 0;
    rc = MP_EOWNERDEAD;
  }
  return rc == MP_EOWNERDEAD ? owner_dead(api) : MP_OK;
}

static void release_slot(mp_lock *l) {
  l->st->depth = 0;
  mp__atomic_store64(&l->st->owner, 0);
  mp__plock_release(mp__sync_lock_slot(&l->o.seg), l->o.seg.lock);
}

int mp_lock_acquire(mp_lock *l, double timeout) {
  if (!l) return mp__set_error(MP_EINVAL, "mp_lock_acquire: NULL lock");
  int rc = mp__timeout_check("mp_lock_acquire", timeout);
  if (rc != MP_OK) return rc;
  lock_state *st = l->st;
  uint64_t me = mp__thread_id();
  if (mp__atomic_load64(&st->owner) == me) {
    if (!st->recursive)
      return mp__set_error(MP_ESTATE, "mp_lock_acquire: this thread already holds the lock, which is not "
                                      "recursive (mp_lock_create(&l, 1) makes one that is)");
    if (st->depth == UINT32_MAX) return mp__set_error(MP_ETOOBIG, "mp_lock_acquire: recursion too deep");
    st->depth++;
    return MP_OK;
  }
  rc = acquire_slot(l, me, 1, mp__timeout_value(timeout), "mp_lock_acquire");
  if (rc == MP_ETIMEDOUT)
    return mp__set_error(MP_ETIMEDOUT, timeout == 0 ? "mp_lock_acquire: the lock is held by another thread"
                                                    : "mp_lock_acquire: timed out");
  return mp__error_in("mp_lock_acquire", rc);
}

int mp_lock_release(mp_lock *l) {
  if (!l) return mp__set_error(MP_EINVAL, "mp_lock_release: NULL lock");
  if (!mp__lock_held(l)) return mp__set_error(MP_ESTATE, "mp_lock_release: the calling thread does not hold the lock");
  if (--l->st->depth > 0) return MP_OK;
  release_slot(l);
  return MP_OK;
}

mp_lock *mp_lock_free(mp_lock *l) {
  /* This process lets go of the page once nothing here needs it (a pool
   * or condition given the lock keeps it); other processes keep theirs.
   * A worker's rebuilt lock belongs to its call. */
  if (l) mp__object_free(&l->o.base);
  return NULL;
}

mp_object *mp_lock_obj(mp_lock *l) { return l ? &l->o.base : NULL; }

mp_lock *mp_call_lock(mp_call *call, size_t i) {
  return (mp_lock *)mp__call_object(call, i, MP__KIND_LOCK, "mp_call_lock");
}

/* ------------------------------------------------ for Condition and import */
int mp__lock_held(mp_lock *l) { return mp__atomic_load64(&l->st->owner) == mp__thread_id(); }

uint32_t mp__lock_release_all(mp_lock *l) {
  uint32_t depth = l->st->depth;
  release_slot(l);
  return depth;
}

int mp__lock_restore(mp_lock *l, uint32_t depth, const char *api) {
  return acquire_slot(l, mp__thread_id(), depth, MP_FOREVER, api);
}

void mp__lock_abandon_if_held(mp_lock *l) {
  if (!mp__lock_held(l)) return;
  l->st->abandoned = 1; /* written by the holder, read by the next one under the lock */
  release_slot(l);
}

int mp__lock_import_part(const mp__handle *handles, size_t avail, size_t *used, mp__rd *r, mp_lock **out) {
  mp_lock *l = lock_new();
  if (!l) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a lock");
  int rc = mp__sync_seg_import(&l->o.seg, MP__KIND_LOCK, handles, avail, used, r);
  if (rc != MP_OK) {
    free(l);
    return rc;
  }
  l->st = mp__sync_state(&l->o.seg);
  *out = l;
  return MP_OK;
}

int mp__lock_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  mp_lock *l = NULL;
  size_t used = 0;
  int rc = mp__lock_import_part(handles, nhandles, &used, r, &l);
  if (rc != MP_OK) return rc;
  if (used != nhandles || r->off != r->len) {
    mp__lock_release(l);
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: lock description");
  }
  l->o.base.borrowed = 1;
  *out = &l->o.base;
  return MP_OK;
}
