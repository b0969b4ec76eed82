/* Queue: putting (reserve under the put lock, then copy; see
 * src/queue_internal.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "queue_internal.h"

/* ----------------------------------------------------------------- put */
typedef struct reservation {
  int ring;
  uint64_t at;
  uint64_t head_seen; /* the consumers' word, for a putter that waits */
} reservation;

/* The store ring is empty and everyone is in the warm ring: start it again
 * at 0, where its pages are in memory already, rather than march on into
 * new ones; and give those past the first STORE_RETAIN back, a step per
 * put (no record lives there, and no one but a producer holding the put
 * lock writes there). */
static void restart_store(mp_queue *q, mp__ring_view *v) {
  queue_shared *s = q->sh;
  if (v->pring != WARM || v->cring != WARM || v->head[STORE] != v->tail[STORE]) return;
  if (v->tail[STORE] != 0) {
    mp__atomic_store64(&s->store_epoch, s->store_epoch + 1);
    v->head[STORE] = v->tail[STORE] = 0;
    s->discard_at = q->size[STORE] / 4 < STORE_RETAIN ? q->size[STORE] / 4 : STORE_RETAIN;
    return;
  }
  uint64_t high = s->high[STORE] < q->size[STORE] ? s->high[STORE] : q->size[STORE], at = s->discard_at;
  if (at >= high) return;
  uint64_t step = high - at < GIVE_BACK_STEP ? high - at : GIVE_BACK_STEP;
  mp__shm_discard(q->ring[STORE] + at, (size_t)step);
  s->discard_at = at + step;
}

/* Where a record of rec bytes goes, given the consumers' word hw: MP_OK
 * with *ring and the view, or MP_EFULL. */
static int find_room(mp_queue *q, uint64_t tw, uint64_t hw, uint64_t rec, mp__ring_view *v, int *ring, int *skip) {
  queue_shared *s = q->sh;
  if (s->maxsize && (uint32_t)(POS_COUNT(tw) - POS_COUNT(hw)) >= s->maxsize) return MP_EFULL;
  if (!mp__queue_look(q, tw, hw, v)) return mp__queue_damaged("mp_queue_put");
  return mp__ring_place(q->size, v, rec, ring, skip) ? MP_OK : MP_EFULL;
}

static int reserve(mp_queue *q, size_t len, uint32_t owner, reservation *res) {
  queue_shared *s = q->sh;
  if (is_closed(s)) return mp__set_error(MP_ECLOSED, "mp_queue_put: the queue is closed");
  uint64_t tw = s->tail, rec = mp__ring_record_size(len);
  mp__ring_view v;
  if (tw != q->tail_written) q->head_seen = mp__atomic_load64(&s->head);
  int ring = WARM, skip = 0, rc = find_room(q, tw, q->head_seen, rec, &v, &ring, &skip);
  int look_again = rc == MP_OK && v.pring == WARM && !skip && v.tail[WARM] >= mp__ring_rewind_at(q->size[WARM]) &&
                   v.tail[WARM] >= q->rewind_look;
  if (rc == MP_EFULL || (rc == MP_OK && ring != WARM) || look_again) {
    /* No room in the warm ring, or time to see whether it can wrap early:
     * what have the consumers freed? */
    q->head_seen = mp__atomic_load64(&s->head);
    rc = find_room(q, tw, q->head_seen, rec, &v, &ring, &skip);
    q->rewind_look = skip ? 0 : v.tail[WARM] + (q->size[WARM] / 8 < REWIND_LOOK_STEP ? q->size[WARM] / 8 : REWIND_LOOK_STEP);
  }
  res->head_seen = q->head_seen;
  if (rc != MP_OK) return rc;
  if (skip && (rc = mp__queue_use_bytes(q, WARM, v.tail[WARM], MP__RING_RECORD_HEAD)) != MP_OK) return rc;
  if (skip) {
    uint64_t rest = q->size[WARM] - v.tail[WARM];
    mp__ring_write_head(q->ring[WARM], q->size[WARM], v.tail[WARM], (uint32_t)(rest - MP__RING_RECORD_HEAD),
                        MP__RING_SKIP_MARK, 0);
    v.tail[WARM] = 0;
  }
  uint64_t at = v.tail[ring];
  rc = mp__queue_use_bytes(q, ring, at, rec);
  if (rc == MP_OK && ring != v.pring) rc = mp__queue_use_bytes(q, v.pring, v.tail[v.pring], MP__RING_RECORD_HEAD);
  if (rc != MP_OK) return rc;
  if (ring != v.pring) {
    /* Consumers reaching this go on where they last left the other ring,
     * which is where this record goes. */
    mp__ring_write_head(q->ring[v.pring], q->size[v.pring], v.tail[v.pring], 0, MP__RING_JUMP_MARK, 0);
    mp__queue_park(s, &s->tail_park[v.pring], mp__ring_advance(q->size[v.pring], v.tail[v.pring], MP__RING_RECORD_HEAD));
  }
  mp__ring_write_head(q->ring[ring], q->size[ring], at, (uint32_t)len, MP__RING_BUSY_MARK, owner);
  if (s->joinable) mp__atomic_add64(&s->unfinished, 1);
  /* Publish: from now on consumers wait for this record, or skip it if
   * its producer dies. */
  q->tail_written = POS_WORD(POS_COUNT(tw) + 1, ring, mp__ring_advance(q->size[ring], at, rec));
  mp__atomic_store64(&s->tail, q->tail_written);
  v.pring = ring;
  v.tail[ring] = mp__ring_advance(q->size[ring], at, rec);
  restart_store(q, &v);
  res->ring = ring;
  res->at = at;
  return MP_OK;
}

static uint32_t my_pid(void) { return (uint32_t)(mp__thread_id() >> 32); }

static void pause_here(int where) {
  void (*pause)(int) = mp__queue_put_pause;
  if (pause) pause(where);
}

/* A full bounded queue: spin a little before sleeping, as a consumer does
 * on an empty one. A consumer usually frees room within microseconds, and
 * then neither side pays for a sleep and a wake. */
static void spin_for_room(queue_shared *s, uint64_t head_seen) {
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (mp__atomic_load64(&s->head) != head_seen || is_closed(s)) return;
    if ((i & 1023) == 1023)
      mp__yield();
    else
      mp__cpu_relax();
  }
}

int mp_queue_put(mp_queue *q, const void *data, size_t len, double timeout) {
  if (!q || (!data && len)) return mp__set_error(MP_EINVAL, "mp_queue_put: NULL argument");
  if (len > MP_QUEUE_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "mp_queue_put: %llu bytes is over MP_QUEUE_MAX_MESSAGE",
                         (unsigned long long)len);
  queue_shared *s = q->sh;
  uint64_t rec = mp__ring_record_size(len);
  if (!mp__ring_fits(q->size[STORE], 0, 0, rec) && !mp__ring_fits(q->size[WARM], 0, 0, rec))
    return mp__set_error(MP_ETOOBIG, "mp_queue_put: %llu bytes can never fit this queue's %llu-byte store",
                         (unsigned long long)len, (unsigned long long)q->size[STORE]);
  int rc = mp__timeout_check("mp_queue_put", timeout);
  if (rc != MP_OK) return rc;
  double deadline = mp__deadline(timeout);
  /* Sleeping takes two looks: announce, look again under the lock, sleep
   * only if there is still no room (so a getter's wake is never missed,
   * and costs nothing when nobody announced). */
  uint32_t seen = 0;
  int spun = 0, announced = 0;
  for (;;) {
    if ((rc = mp__queue_take_lock(q, s->put_lock, H_PUT_LOCK, deadline)) != MP_OK) {
      if (rc == MP_ETIMEDOUT)
        rc = mp__set_error(MP_ETIMEDOUT, "mp_queue_put: timed out waiting for the put lock, which another "
                                         "process holds and does not let go (stopped?)");
      break;
    }
    reservation res;
    rc = reserve(q, len, my_pid(), &res);
    if (rc == MP_OK) pause_here(MP__QUEUE_PAUSE_LOCKED);
    mp__plock_release(s->put_lock, q->h[H_PUT_LOCK]);
    if (rc == MP_OK) {
      size_t half = len / 2;
      uint8_t *ring = q->ring[res.ring];
      mp__ring_copy_in(ring, q->size[res.ring], res.at, data, half);
      if (len) pause_here(MP__QUEUE_PAUSE_COPYING);
      mp__ring_copy_in(ring, q->size[res.ring], mp__ring_advance(q->size[res.ring], res.at, half),
                       (const uint8_t *)data + half, len - half);
      mp__ring_set_mark(ring, res.at, MP__RING_READY_MARK);
      mp__pwait_wake_sleepers(s->not_empty, q->h[H_NOT_EMPTY], 0);
      break;
    }
    if (rc != MP_EFULL) break;
    if (!s->maxsize) {
      /* Unbounded: never wait for a slow consumer. The only limit is the
       * store, and running into it is an error. */
      rc = mp__set_error(MP_ENOMEM, "mp_queue_put: the queue's %llu-byte store is full",
                         (unsigned long long)q->size[STORE]);
      break;
    }
    double left = mp__remaining(deadline);
    if (left == 0) {
      rc = timeout == 0 ? mp__set_error(MP_EFULL, "mp_queue_put: the queue is full")
                        : mp__set_error(MP_ETIMEDOUT, "mp_queue_put: timed out waiting for room");
      break;
    }
    if (!spun) {
      spun = 1;
      spin_for_room(s, res.head_seen);
      continue;
    }
    if (!announced) {
      seen = mp__pwait_prepare(s->not_full);
      announced = 1;
      continue;
    }
    announced = 0;
    spun = 0;
    rc = mp__pwait_commit(s->not_full, q->h[H_NOT_FULL], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in("mp_queue_put", rc);
  }
  if (announced) mp__pwait_cancel(s->not_full);
  return mp__error_in("mp_queue_put", rc);
}

int mp__queue_abandon_put(mp_queue *q, size_t len, uint32_t owner) {
  queue_shared *s = q->sh;
  int rc = mp__queue_take_lock(q, s->put_lock, H_PUT_LOCK, -1.0);
  if (rc != MP_OK) return rc;
  reservation res;
  rc = reserve(q, len, owner, &res);
  mp__plock_release(s->put_lock, q->h[H_PUT_LOCK]);
  if (rc == MP_EFULL && !s->maxsize) return mp__set_error(MP_ENOMEM, "mp__queue_abandon_put: the store is full");
  return rc == MP_EFULL ? mp__set_error(MP_EFULL, "mp__queue_abandon_put: the queue is full") : rc;
}

