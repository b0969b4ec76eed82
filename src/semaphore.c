/* Semaphore: counting, or bounded by a maximum, across processes.
 *
 * The count is one word in shared memory changed only by compare-and-swap,
 * so there is no lock to die holding: a process killed at any instant
 * leaves a valid count. Sleepers wait on the page's wait point; a release
 * costs a system call only when somebody sleeps. An acquirer reads the
 * wait point's counter before it looks at the count, so a release that
 * comes in between (it bumps the counter) cannot be slept through. */
#include <stdlib.h>

#include "deadline.h"
#include "sync.h"

typedef struct sem_state {
  volatile uint32_t value;
  uint32_t max; /* 0: unbounded (then UINT32_MAX is the ceiling) */
} sem_state;

/* The count is a 32-bit word shared by every process. */
typedef char unsigned_is_32_bits[sizeof(unsigned) == 4 ? 1 : -1];

struct mp_semaphore {
  mp__sync_obj o;
  sem_state *st;
};

static void semaphore_destroy(mp_object *o) { mp__semaphore_release((mp_semaphore *)o); }
static const mp__object_ops semaphore_ops = {MP__KIND_SEMAPHORE, "semaphore", mp__sync_export, semaphore_destroy,
                                             NULL};

static mp_semaphore *semaphore_new(void) {
  mp_semaphore *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  mp__object_init(&s->o.base, &semaphore_ops);
  mp__sync_seg_clear(&s->o.seg);
  return s;
}

void mp__semaphore_release(mp_semaphore *s) {
  if (!s) return;
  mp__sync_seg_release(&s->o.seg);
  free(s);
}

int mp_semaphore_create(mp_semaphore **out, unsigned value, unsigned max) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_semaphore_create: out is NULL");
  *out = NULL;
  if (max && value > max)
    return mp__set_error(MP_EINVAL, "mp_semaphore_create: value %u is over the maximum %u", value, max);
  int rc = mp__require_main("mp_semaphore_create");
  if (rc != MP_OK) return rc;
  mp_semaphore *s = semaphore_new();
  if (!s) return mp__set_error(MP_ENOMEM, "mp_semaphore_create: out of memory");
  if ((rc = mp__sync_seg_create(&s->o.seg, MP__KIND_SEMAPHORE, MP__SYNC_WITH_WAIT)) != MP_OK) {
    free(s);
    return mp__error_in("mp_semaphore_create", rc);
  }
  s->st = mp__sync_state(&s->o.seg);
  s->st->max = (uint32_t)max;
  s->st->value = (uint32_t)value;
  *out = s;
  return MP_OK;
}

/* One decrement if the count is above zero: 1 if it took one. */
static int try_take(sem_state *st) {
  uint32_t v = mp__atomic_load32(&st->value);
  while (v > 0)
    if (mp__atomic_cas32(&st->value, &v, v - 1)) return 1;
  return 0;
}

int mp_semaphore_acquire(mp_semaphore *s, double timeout) {
  if (!s) return mp__set_error(MP_EINVAL, "mp_semaphore_acquire: NULL semaphore");
  int rc = mp__timeout_check("mp_semaphore_acquire", timeout);
  if (rc != MP_OK) return rc;
  void *wait = mp__sync_wait_slot(&s->o.seg);
  if (try_take(s->st)) return MP_OK;
  double deadline = mp__deadline(timeout);
  for (;;) {
    uint32_t seen = mp__pwait_seq(wait);
    if (try_take(s->st)) return MP_OK;
    double left = mp__remaining(deadline);
    if (left == 0)
      return mp__set_error(MP_ETIMEDOUT, timeout == 0 ? "mp_semaphore_acquire: the count is zero"
                                                      : "mp_semaphore_acquire: timed out");
    rc = mp__pwait_wait(wait, s->o.seg.wait, seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in("mp_semaphore_acquire", rc);
  }
}

int mp_semaphore_release(mp_semaphore *s) {
  if (!s) return mp__set_error(MP_EINVAL, "mp_semaphore_release: NULL semaphore");
  sem_state *st = s->st;
  uint32_t ceiling = st->max ? st->max : UINT32_MAX;
  uint32_t v = mp__atomic_load32(&st->value);
  do {
    if (v >= ceiling)
      return mp__set_error(MP_EFULL, "mp_semaphore_release: the count is already at its maximum %lu",
                           (unsigned long)ceiling);
  } while (!mp__atomic_cas32(&st->value, &v, v + 1));
  mp__pwait_wake(mp__sync_wait_slot(&s->o.seg), s->o.seg.wait, 0);
  return MP_OK;
}

int mp_semaphore_value(mp_semaphore *s, unsigned *value) {
  if (!s || !value) return mp__set_error(MP_EINVAL, "mp_semaphore_value: NULL argument");
  *value = mp__atomic_load32(&s->st->value);
  return MP_OK;
}

mp_semaphore *mp_semaphore_free(mp_semaphore *s) {
  if (s) mp__object_free(&s->o.base);
  return NULL;
}

mp_object *mp_semaphore_obj(mp_semaphore *s) { return s ? &s->o.base : NULL; }

mp_semaphore *mp_call_semaphore(mp_call *call, size_t i) {
  return (mp_semaphore *)mp__call_object(call, i, MP__KIND_SEMAPHORE, "mp_call_semaphore");
}

int mp__semaphore_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  mp_semaphore *s = semaphore_new();
  if (!s) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a semaphore");
  size_t used = 0;
  int rc = mp__sync_seg_import(&s->o.seg, MP__KIND_SEMAPHORE, handles, nhandles, &used, r);
  if (rc == MP_OK && (used != nhandles || r->off != r->len))
    rc = mp__set_error(MP_EPROTO, "malformed bootstrap message: semaphore description");
  if (rc != MP_OK) {
    mp__semaphore_release(s);
    return rc;
  }
  s->st = mp__sync_state(&s->o.seg);
  s->o.base.borrowed = 1;
  *out = &s->o.base;
  return MP_OK;
}
