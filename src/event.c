/* Event: a flag processes wait for, as Python's Event.
 *
 * The flag is one word; set stores it and wakes every sleeper. Only set
 * bumps the wait point's counter, so a waiter that sees the counter move
 * knows a set happened while it waited, and returns MP_OK even if a clear
 * came right after (Python's waiters are woken by set() the same way). */
#include <stdlib.h>

#include "deadline.h"
#include "sync.h"

typedef struct event_state {
  volatile uint32_t flag;
} event_state;

struct mp_event {
  mp__sync_obj o;
  event_state *st;
};

static void event_destroy(mp_object *o) { mp__event_release((mp_event *)o); }
static const mp__object_ops event_ops = {MP__KIND_EVENT, "event", mp__sync_export, event_destroy, NULL};

static mp_event *event_new(void) {
  mp_event *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  mp__object_init(&e->o.base, &event_ops);
  mp__sync_seg_clear(&e->o.seg);
  return e;
}

void mp__event_release(mp_event *e) {
  if (!e) return;
  mp__sync_seg_release(&e->o.seg);
  free(e);
}

int mp_event_create(mp_event **out) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_event_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_event_create");
  if (rc != MP_OK) return rc;
  mp_event *e = event_new();
  if (!e) return mp__set_error(MP_ENOMEM, "mp_event_create: out of memory");
  if ((rc = mp__sync_seg_create(&e->o.seg, MP__KIND_EVENT, MP__SYNC_WITH_WAIT)) != MP_OK) {
    free(e);
    return mp__error_in("mp_event_create", rc);
  }
  e->st = mp__sync_state(&e->o.seg);
  *out = e;
  return MP_OK;
}

int mp_event_set(mp_event *e) {
  if (!e) return mp__set_error(MP_EINVAL, "mp_event_set: NULL event");
  mp__atomic_store32(&e->st->flag, 1);
  mp__pwait_wake(mp__sync_wait_slot(&e->o.seg), e->o.seg.wait, 1);
  return MP_OK;
}

int mp_event_clear(mp_event *e) {
  if (!e) return mp__set_error(MP_EINVAL, "mp_event_clear: NULL event");
  mp__atomic_store32(&e->st->flag, 0);
  return MP_OK;
}

/* A predicate: 1 or 0, never an error code (mproc.h's conventions). */
int mp_event_is_set(mp_event *e) {
  if (!e) {
    mp__set_error(MP_EINVAL, "mp_event_is_set: NULL event");
    return 0;
  }
  return mp__atomic_load32(&e->st->flag) != 0;
}

int mp_event_wait(mp_event *e, double timeout) {
  if (!e) return mp__set_error(MP_EINVAL, "mp_event_wait: NULL event");
  int rc = mp__timeout_check("mp_event_wait", timeout);
  if (rc != MP_OK) return rc;
  void *wait = mp__sync_wait_slot(&e->o.seg);
  uint32_t seen = mp__pwait_seq(wait);
  if (mp__atomic_load32(&e->st->flag)) return MP_OK;
  double deadline = mp__deadline(timeout);
  for (;;) {
    double left = mp__remaining(deadline);
    if (left == 0)
      return mp__set_error(MP_ETIMEDOUT, timeout == 0 ? "mp_event_wait: the event is not set"
                                                      : "mp_event_wait: timed out");
    rc = mp__pwait_wait(wait, e->o.seg.wait, seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in("mp_event_wait", rc);
    if (mp__pwait_seq(wait) != seen || mp__atomic_load32(&e->st->flag)) return MP_OK;
  }
}

mp_event *mp_event_free(mp_event *e) {
  if (e) mp__object_free(&e->o.base);
  return NULL;
}

mp_object *mp_event_obj(mp_event *e) { return e ? &e->o.base : NULL; }

mp_event *mp_call_event(mp_call *call, size_t i) {
  return (mp_event *)mp__call_object(call, i, MP__KIND_EVENT, "mp_call_event");
}

int mp__event_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  mp_event *e = event_new();
  if (!e) return mp__set_error(MP_ENOMEM, "out of memory rebuilding an event");
  size_t used = 0;
  int rc = mp__sync_seg_import(&e->o.seg, MP__KIND_EVENT, handles, nhandles, &used, r);
  if (rc == MP_OK && (used != nhandles || r->off != r->len))
    rc = mp__set_error(MP_EPROTO, "malformed bootstrap message: event description");
  if (rc != MP_OK) {
    mp__event_release(e);
    return rc;
  }
  e->st = mp__sync_state(&e->o.seg);
  e->o.base.borrowed = 1;
  *out = &e->o.base;
  return MP_OK;
}
