/* Barrier: parties processes (or threads) wait until all have arrived.
 *
 * A round is a generation number: the last to arrive starts the next one,
 * and waiters leave when they see it move. They do not have to come back
 * to drain the round (Python's barrier counts them out), so a released
 * waiter that dies on its way out cannot wedge the barrier. Each wait gets
 * its place in the round's arrivals (0 first, parties - 1 last), as
 * Python's wait() returns it.
 *
 * Broken, as Python's BrokenBarrierError: a wait that times out breaks the
 * barrier; that waiter gets MP_ETIMEDOUT, everyone waiting with it and
 * every later wait gets MP_ESTATE, until mp_barrier_reset. A process that
 * dies holding the barrier's small state lock (in the middle of an
 * arrival) breaks it too, since nobody can tell how far it got.
 *
 * Reset breaks only the parties still waiting: it ends their round (the
 * generation moves on) and notes which generation it ended, so a waiter
 * that wakes to a moved generation can tell a round that completed (it
 * got MP_OK, even if a reset came before it looked) from one a reset
 * ended. A reset with nobody waiting ends nothing. */
#include <stdlib.h>

#include "deadline.h"
#include "sync.h"

/* The generations the last resets ended, newest at resets % RESET_LOG. A
 * waiter looks up the first reset after it arrived; one that slept
 * through more resets than this is told the barrier was reset. */
#define RESET_LOG 16

typedef struct barrier_state {
  uint32_t parties;
  uint32_t count;      /* arrived in this generation */
  uint32_t generation;
  uint32_t broken;
  uint32_t resets;     /* resets that ended a round with parties in it */
  uint32_t reset_gen[RESET_LOG]; /* the generation reset number k ended: [k % RESET_LOG] */
} barrier_state;

struct mp_barrier {
  mp__sync_obj o;
  barrier_state *st;
};

static void barrier_destroy(mp_object *o) { mp__barrier_release((mp_barrier *)o); }
static const mp__object_ops barrier_ops = {MP__KIND_BARRIER, "barrier", mp__sync_export, barrier_destroy, NULL};

static mp_barrier *barrier_new(void) {
  mp_barrier *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  mp__object_init(&b->o.base, &barrier_ops);
  mp__sync_seg_clear(&b->o.seg);
  return b;
}

void mp__barrier_release(mp_barrier *b) {
  if (!b) return;
  mp__sync_seg_release(&b->o.seg);
  free(b);
}

int mp_barrier_create(mp_barrier **out, unsigned parties) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_barrier_create: out is NULL");
  *out = NULL;
  if (parties == 0) return mp__set_error(MP_EINVAL, "mp_barrier_create: parties must be at least 1");
  int rc = mp__require_main("mp_barrier_create");
  if (rc != MP_OK) return rc;
  mp_barrier *b = barrier_new();
  if (!b) return mp__set_error(MP_ENOMEM, "mp_barrier_create: out of memory");
  rc = mp__sync_seg_create(&b->o.seg, MP__KIND_BARRIER, MP__SYNC_WITH_LOCK | MP__SYNC_WITH_WAIT);
  if (rc != MP_OK) {
    free(b);
    return mp__error_in("mp_barrier_create", rc);
  }
  b->st = mp__sync_state(&b->o.seg);
  b->st->parties = parties;
  *out = b;
  return MP_OK;
}

static void wake_all(mp_barrier *b) { mp__pwait_wake(mp__sync_wait_slot(&b->o.seg), b->o.seg.wait, 1); }

static void unlock(mp_barrier *b) { mp__plock_release(mp__sync_lock_slot(&b->o.seg), b->o.seg.lock); }

static int lock(mp_barrier *b) {
  int rc = mp__plock_acquire(mp__sync_lock_slot(&b->o.seg), b->o.seg.lock, MP_FOREVER);
  if (rc == MP_EOWNERDEAD) {
    b->st->broken = 1;
    wake_all(b);
    rc = MP_OK;
  }
  return rc;
}

static int broken_error(const char *api) {
  return mp__set_error(MP_ESTATE, "%s: the barrier is broken (a wait timed out, it was aborted, "
                                  "or a party died in it); mp_barrier_reset makes it usable again", api);
}

/* Under the lock, for a waiter that arrived in generation and saw resets
 * resets then, now that the generation has moved: was its round ended by
 * a reset (1) or did it complete (0)? */
static int round_was_reset(const barrier_state *st, uint32_t generation, uint32_t resets) {
  if (st->resets == resets) return 0;
  if (st->resets - resets > RESET_LOG) return 1; /* slept through too many to tell: it was reset */
  return st->reset_gen[resets % RESET_LOG] == generation;
}

static int barrier_wait(mp_barrier *b, double timeout, unsigned *index, const char *api) {
  barrier_state *st = b->st;
  void *wait = mp__sync_wait_slot(&b->o.seg);
  double deadline = mp__deadline(timeout);
  int rc = lock(b);
  if (rc != MP_OK) return mp__error_in(api, rc);
  if (st->broken) {
    unlock(b);
    return broken_error(api);
  }
  uint32_t generation = st->generation, resets = st->resets;
  if (index) *index = st->count;
  if (++st->count >= st->parties) {
    st->count = 0;
    st->generation++;
    unlock(b);
    wake_all(b);
    return MP_OK;
  }
  for (;;) {
    /* Read under the lock: whatever changes the state after this bumps it. */
    uint32_t seen = mp__pwait_seq(wait);
    unlock(b);
    double left = mp__remaining(deadline);
    if (left != 0) {
      rc = mp__pwait_wait(wait, b->o.seg.wait, seen, left);
      if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in(api, rc);
    }
    if ((rc = lock(b)) != MP_OK) return mp__error_in(api, rc);
    if (st->generation != generation) {
      int reset = round_was_reset(st, generation, resets);
      unlock(b);
      if (reset) return mp__set_error(MP_ESTATE, "%s: the barrier was reset while this party waited", api);
      return MP_OK;
    }
    if (st->broken) {
      unlock(b);
      return broken_error(api);
    }
    if (mp__remaining(deadline) == 0) {
      st->broken = 1;
      unlock(b);
      wake_all(b);
      return mp__set_error(MP_ETIMEDOUT, "%s: timed out; the barrier is now broken for every party", api);
    }
  }
}

int mp_barrier_wait(mp_barrier *b, double timeout) {
  if (!b) return mp__set_error(MP_EINVAL, "mp_barrier_wait: NULL barrier");
  int rc = mp__timeout_check("mp_barrier_wait", timeout);
  return rc != MP_OK ? rc : barrier_wait(b, timeout, NULL, "mp_barrier_wait");
}

int mp_barrier_wait_index(mp_barrier *b, double timeout, unsigned *index) {
  if (!b) return mp__set_error(MP_EINVAL, "mp_barrier_wait_index: NULL barrier");
  int rc = mp__timeout_check("mp_barrier_wait_index", timeout);
  return rc != MP_OK ? rc : barrier_wait(b, timeout, index, "mp_barrier_wait_index");
}

int mp_barrier_reset(mp_barrier *b) {
  if (!b) return mp__set_error(MP_EINVAL, "mp_barrier_reset: NULL barrier");
  int rc = lock(b);
  if (rc != MP_OK) return mp__error_in("mp_barrier_reset", rc);
  barrier_state *st = b->st;
  if (st->count > 0) {
    /* Parties are waiting: their round ends, as a reset one. Those a
     * completed round released are not among them (count went to 0). */
    st->reset_gen[st->resets % RESET_LOG] = st->generation;
    st->resets++;
    st->generation++;
    st->count = 0;
  }
  st->broken = 0;
  unlock(b);
  wake_all(b);
  return MP_OK;
}

int mp_barrier_abort(mp_barrier *b) {
  if (!b) return mp__set_error(MP_EINVAL, "mp_barrier_abort: NULL barrier");
  int rc = lock(b);
  if (rc != MP_OK) return mp__error_in("mp_barrier_abort", rc);
  b->st->broken = 1;
  unlock(b);
  wake_all(b);
  return MP_OK;
}

mp_barrier *mp_barrier_free(mp_barrier *b) {
  if (b) mp__object_free(&b->o.base);
  return NULL;
}

mp_object *mp_barrier_obj(mp_barrier *b) { return b ? &b->o.base : NULL; }

mp_barrier *mp_call_barrier(mp_call *call, size_t i) {
  return (mp_barrier *)mp__call_object(call, i, MP__KIND_BARRIER, "mp_call_barrier");
}

int mp__barrier_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  mp_barrier *b = barrier_new();
  if (!b) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a barrier");
  size_t used = 0;
  int rc = mp__sync_seg_import(&b->o.seg, MP__KIND_BARRIER, handles, nhandles, &used, r);
  if (rc == MP_OK && (used != nhandles || r->off != r->len))
    rc = mp__set_error(MP_EPROTO, "malformed bootstrap message: barrier description");
  if (rc != MP_OK) {
    mp__barrier_release(b);
    return rc;
  }
  b->st = mp__sync_state(&b->o.seg);
  b->o.base.borrowed = 1;
  *out = &b->o.base;
  return MP_OK;
}
