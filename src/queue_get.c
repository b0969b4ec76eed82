/* Queue: getting (take the next record under the get lock, skip dead
 * producers' records; see src/queue_internal.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "queue_internal.h"

/* ----------------------------------------------------------------- get */
enum { NEXT_TAKEN, NEXT_EMPTY, NEXT_BUSY };

typedef struct next_record {
  int state;          /* NEXT_* */
  int more;           /* taken, and others are queued behind it */
  int freed;          /* skipped the record of a dead producer: room freed */
  uint64_t tail_seen; /* the producers' word, for a getter that waits */
  int ring;           /* NEXT_BUSY: where the record being copied is */
  uint64_t at;
} next_record;

/* The message of a producer that died mid-copy will never come: skip it. */
static void skip_dead(mp_queue *q, uint64_t hw, uint64_t rec) {
  queue_shared *s = q->sh;
  mp__atomic_store64(&s->head, POS_WORD(POS_COUNT(hw) + 1, POS_RING(hw),
                                        mp__ring_advance(q->size[POS_RING(hw)], POS_OFFSET(hw), rec)));
  if (!s->joinable) return;
  uint64_t now = mp__atomic_load64(&s->unfinished);
  while (now && !mp__atomic_cas64(&s->unfinished, &now, now - 1)) {
  }
  if (now == 1) mp__pwait_wake(s->all_done, q->h[H_ALL_DONE], 1);
}

/* Cannot happen unless the memory was scribbled on: drop everything
 * reserved so far rather than read garbage forever. */
static int drop_all(mp_queue *q, uint64_t tw, const char *api) {
  queue_shared *s = q->sh;
  for (int r = 0; r < 2; r++) mp__atomic_store64(&s->head_park[r], mp__atomic_load64(&s->tail_park[r]));
  mp__atomic_store64(&s->head, tw);
  return mp__set_error(MP_EPROTO, "%s: a damaged record: the queue's contents were dropped", api);
}

/* With the get lock held: takes the next message into buf (cap bytes), or
 * a fresh allocation when alloc, following JUMP records and skipping the
 * records of dead producers; or says the queue is empty, or that the next
 * message is still being copied (its producer's pid is looked at only when
 * check_owner: that costs a system call). */
static int take_next(mp_queue *q, const char *api, int check_owner, void *buf, size_t cap, int alloc, void **data,
                     size_t *len, next_record *nx) {
  queue_shared *s = q->sh;
  nx->more = nx->freed = 0;
  for (int jumps = 0;;) {
    uint64_t hw = mp__atomic_load64(&s->head), tw = q->tail_seen;
    /* The seen tail counts only while it is ahead of head, and by no more
     * records than the rings could hold (a consumer idle for 2^31 puts
     * would otherwise see it ahead again). */
    uint32_t ahead = POS_COUNT(tw) - POS_COUNT(hw);
    if (ahead == 0 || ahead > (q->size[WARM] + q->size[STORE]) / MP__RING_RECORD_HEAD) {
      q->tail_seen = tw = mp__atomic_load64(&s->tail);
      if (POS_COUNT(tw) == POS_COUNT(hw)) {
        nx->tail_seen = tw;
        nx->state = NEXT_EMPTY;
        return MP_OK;
      }
    }
    int ring = POS_RING(hw);
    uint64_t at = POS_OFFSET(hw);
    int rc = mp__queue_ensure_usable(q, ring, mp__atomic_load64(&s->high[ring]));
    if (rc != MP_OK) return rc;
    mp__ring_head h;
    if (!mp__ring_read_head(q->ring[ring], q->size[ring], at, &h)) return drop_all(q, mp__atomic_load64(&s->tail), api);
    if (h.mark == MP__RING_SKIP_MARK) {
      if (++jumps > 1) return drop_all(q, mp__atomic_load64(&s->tail), api);
      mp__atomic_store64(&s->head, POS_WORD(POS_COUNT(hw), ring, 0));
      continue;
    }
    if (h.mark == MP__RING_JUMP_MARK) {
      /* Two in a row: never written so. */
      uint64_t next = mp__queue_parked(s, 1 - ring, mp__atomic_load64(&s->head_park[1 - ring]));
      if (++jumps > 1 || !mp__ring_offset_ok(q->size[1 - ring], next)) return drop_all(q, mp__atomic_load64(&s->tail), api);
      mp__queue_park(s, &s->head_park[ring], mp__ring_advance(q->size[ring], at, MP__RING_RECORD_HEAD));
      mp__atomic_store64(&s->head, POS_WORD(POS_COUNT(hw), 1 - ring, next));
      continue;
    }
    jumps = 0;
    uint64_t rec = mp__ring_record_size(h.len);
    if (h.mark == MP__RING_BUSY_MARK) {
      void (*pause)(void) = mp__queue_owner_check_pause;
      if (check_owner && pause) pause();
      if (!check_owner || mp__pid_alive(h.owner)) {
        nx->tail_seen = mp__atomic_load64(&s->tail);
        nx->state = NEXT_BUSY;
        nx->ring = ring;
        nx->at = at;
        return MP_OK;
      }
      /* Its producer may have finished, been acknowledged, and died since
       * the mark was read: only a mark read after its death is final. */
      if (mp__ring_mark(q->ring[ring], at) != MP__RING_BUSY_MARK) continue;
      skip_dead(q, hw, rec);
      nx->freed = 1;
      continue;
    }
    *len = h.len;
    if (alloc) {
      buf = malloc(h.len ? h.len : 1);
      if (!buf) return mp__set_error(MP_ENOMEM, "%s: out of memory for %lu bytes", api, (unsigned long)h.len);
      *data = buf;
    } else if (h.len > cap) {
      return mp__set_error(MP_ETOOBIG, "%s: the message has %lu bytes, the buffer %llu", api, (unsigned long)h.len,
                           (unsigned long long)cap);
    }
    mp__ring_copy_out(q->ring[ring], q->size[ring], at, buf, h.len);
    /* Retire: only now may a producer reuse the bytes. */
    mp__atomic_store64(&s->head, POS_WORD(POS_COUNT(hw) + 1, ring, mp__ring_advance(q->size[ring], at, rec)));
    nx->state = NEXT_TAKEN;
    /* Whether others wait behind it matters only to a sleeper. */
    if (mp__pwait_sleepers(s->not_empty)) nx->more = POS_COUNT(mp__atomic_load64(&s->tail)) != POS_COUNT(hw) + 1;
    return MP_OK;
  }
}

/* Spins a little before a consumer sleeps: a producer usually comes with
 * the next message (or finishes copying it) sooner than a sleep and a
 * wake would take. */
static void spin_for_message(mp_queue *q, const next_record *nx) {
  queue_shared *s = q->sh;
  for (int i = 0; i < SPIN_ROUNDS; i++) {
    if (mp__atomic_load64(&s->tail) != nx->tail_seen || is_closed(s)) return;
    if (nx->state == NEXT_BUSY && mp__ring_mark(q->ring[nx->ring], nx->at) != MP__RING_BUSY_MARK) return;
    /* Mostly on the CPU (the producer is on another one); now and then
     * let go of it, in case the producer waits for this very CPU. */
    if ((i & 1023) == 1023)
      mp__yield();
    else
      mp__cpu_relax();
  }
}

static int get(mp_queue *q, const char *api, void *buf, size_t cap, int alloc, void **data, size_t *len,
               double timeout) {
  queue_shared *s = q->sh;
  int rc = mp__timeout_check(api, timeout);
  if (rc != MP_OK) return rc;
  double deadline = mp__deadline(timeout);
  /* As in put: spin a little, then announce, look again, and sleep. */
  uint32_t seen = 0;
  int spun = 0, announced = 0, check_owner = 0, settled = 0, put_held = 0;
  for (;;) {
    if ((rc = mp__queue_take_lock(q, s->get_lock, H_GET_LOCK, deadline)) != MP_OK) {
      if (rc == MP_ETIMEDOUT)
        rc = timeout == 0 ? mp__set_error(MP_EEMPTY, "%s: another consumer holds the get lock", api)
                          : mp__set_error(MP_ETIMEDOUT, "%s: timed out waiting for the get lock", api);
      break;
    }
    /* closed first: a put reserved before the close is then seen below. */
    int closed = is_closed(s);
    next_record nx = {NEXT_EMPTY, 0, 0, 0, 0, 0};
    rc = take_next(q, api, check_owner, buf, cap, alloc, data, len, &nx);
    mp__plock_release(s->get_lock, q->h[H_GET_LOCK]);
    if (nx.freed || (rc == MP_OK && nx.state == NEXT_TAKEN))
      mp__pwait_wake_sleepers(s->not_full, q->h[H_NOT_FULL], 1);
    /* A message left for others (refused, or behind this one): whoever a
     * put woke for it may be this very getter, so wake another. */
    if (rc == MP_ETOOBIG || rc == MP_ENOMEM || (rc == MP_OK && nx.more))
      mp__pwait_wake_sleepers(s->not_empty, q->h[H_NOT_EMPTY], 0);
    if (rc != MP_OK || nx.state == NEXT_TAKEN) break;
    if (closed && nx.state == NEXT_EMPTY) {
      /* Drained only once no put is still reserving (a close does not
       * wait for one): then one more look, and that is the end. */
      if (settled) {
        rc = mp__set_error(MP_ECLOSED, "%s: the queue is closed and drained", api);
        break;
      }
      put_held = !mp__queue_puts_settled(q);
      if (!put_held) {
        settled = 1;
        continue;
      }
    }
    double left = mp__remaining(deadline);
    if (left == 0) {
      if (nx.state == NEXT_BUSY && !check_owner) {
        check_owner = 1; /* one more look, at whether its producer still lives */
        continue;
      }
      rc = timeout == 0 ? mp__set_error(MP_EEMPTY, "%s: the queue is empty", api)
                        : mp__set_error(MP_ETIMEDOUT, "%s: timed out waiting for a message", api);
      break;
    }
    if (!spun) {
      spun = 1;
      spin_for_message(q, &nx);
      continue;
    }
    if (!announced) {
      seen = mp__pwait_prepare(s->not_empty);
      announced = 1;
      continue;
    }
    announced = 0;
    spun = 0;
    /* A producer that dies mid-copy wakes nobody: look at it now and then. */
    check_owner = nx.state == NEXT_BUSY;
    /* Nor does a put that finds the queue closed: look again now and then. */
    int slices = check_owner || put_held;
    rc = mp__pwait_commit(s->not_empty, q->h[H_NOT_EMPTY], seen,
                          slices && (left < 0 || left > OWNER_SLICE) ? OWNER_SLICE : left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in(api, rc);
  }
  if (announced) mp__pwait_cancel(s->not_empty);
  return mp__error_in(api, rc);
}

int mp_queue_get(mp_queue *q, void **data, size_t *len, double timeout) {
  if (data) *data = NULL;
  if (len) *len = 0;
  if (!q || !data || !len) return mp__set_error(MP_EINVAL, "mp_queue_get: NULL argument");
  return get(q, "mp_queue_get", NULL, 0, 1, data, len, timeout);
}

int mp_queue_get_into(mp_queue *q, void *buf, size_t cap, size_t *len, double timeout) {
  if (len) *len = 0;
  if (!q || !len || (!buf && cap)) return mp__set_error(MP_EINVAL, "mp_queue_get_into: NULL argument");
  return get(q, "mp_queue_get_into", buf, cap, 0, NULL, len, timeout);
}

