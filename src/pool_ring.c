/* The task ring: the pool places, publishes and reclaims records; workers
 * take them (see pool_arena.h for the protocol). */
#include <string.h>

#include "pool_ring.h"

#define COMMIT_STEP ((uint64_t)1 << 20)
#define GAP MP__RECORD_ALIGN /* a wrapped tail never reaches low */

typedef char head_keeps_items_aligned[sizeof(mp__task_head) % 16 == 0 && sizeof(mp__task_record) % 16 == 0 ? 1 : -1];

void mp__tasks_writer_init(mp__tasks_writer *w, const mp__arena *a) {
  memset(w, 0, sizeof *w);
  w->capacity = a->ring_bytes - MP__RING_END_RESERVE;
  w->warm = MP__POOL_RING_WARM < w->capacity / 2 ? MP__POOL_RING_WARM : w->capacity / 2;
}

uint64_t mp__task_payload_packed(uint32_t n, uint64_t item_size) {
  return sizeof(mp__task_head) + (uint64_t)n * item_size;
}

uint64_t mp__task_payload_sliced(const mp_slice *items, uint32_t n) {
  uint64_t len = sizeof(mp__task_head);
  for (uint32_t i = 0; i < n; i++) len += mp__slice_span(items[i].len);
  return len;
}

/* Pages [0, end) are usable in this process (Windows commits the
 * section's pages; POSIX maps them on first touch). */
static int ensure_committed(const mp__arena *a, uint64_t *committed, uint64_t end) {
  if (end <= *committed) return MP_OK;
  uint64_t to = (end + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
  if (to > a->ring_bytes) to = a->ring_bytes;
  int rc = mp__shm_commit(a->ring + *committed, (size_t)(to - *committed));
  if (rc == MP_OK) *committed = to;
  return rc;
}

static void write_wrap(mp__arena *a, uint64_t at) {
  mp__task_record *r = (mp__task_record *)(a->ring + at);
  r->len = 0;
  r->mark = MP__REC_WRAP;
}

/* Nothing lives in [from, high) any more: those pages go back to the OS
 * (for every process: it is one segment). Never the warm window, never a
 * WRAP record a taker may still have to read. */
static void give_back(mp__tasks_writer *w, mp__arena *a, uint64_t from) {
  if (from < w->warm) from = w->warm;
  if (w->high > from) mp__shm_discard(a->ring + from, (size_t)(w->high - from));
  w->high = from < w->tail ? w->tail : from;
}

/* Have the takers gone past the last WRAP record? (At it, head reads
 * (wrap_count, wrap_at); past it, a later count or another offset.) */
static int wrap_passed(const mp__tasks_writer *w, const mp__arena *a) {
  uint64_t h = mp__atomic_load64(&a->h->head);
  int32_t ahead = (int32_t)(MP__POS_COUNT(h) - w->wrap_count);
  return ahead > 0 || (ahead == 0 && MP__POS_OFFSET(h) != w->wrap_at);
}

static void wrap_here(mp__tasks_writer *w, mp__arena *a) {
  write_wrap(a, w->tail);
  w->wrap_at = w->tail;
  w->wrap_count = w->count;
  w->wrap_live = 1;
  w->tail = 0;
}

int mp__tasks_place(mp__tasks_writer *w, mp__arena *a, uint64_t len, uint64_t *at) {
  uint64_t span = mp__record_span(len);
  if (span > w->capacity)
    return mp__set_error(MP_ETOOBIG, "a chunk of %llu bytes is over the pool's task ring of %llu bytes",
                         (unsigned long long)len, (unsigned long long)w->capacity);
  if (w->wrap_live && !w->wrapped && wrap_passed(w, a)) w->wrap_live = 0;
  /* Going forward from tail stops at the end, or at a WRAP still needed. */
  uint64_t end = w->wrap_live && !w->wrapped && w->wrap_at >= w->tail ? w->wrap_at : w->capacity;
  int wrap = 0;
  uint64_t where;
  if (w->live == 0) {
    /* Empty (so every WRAP was passed): back to the start once past the
     * warm window. */
    w->wrap_live = 0;
    end = w->capacity;
    if (w->tail != 0 && (w->tail > w->warm || w->tail + span > end)) wrap = 1;
    where = wrap ? 0 : w->tail;
  } else if (!w->wrapped) {
    int fits_here = w->tail + span <= end;
    /* Only one WRAP at a time: a second would leave the first unread. */
    int fits_start = !w->wrap_live && span + GAP <= w->low;
    if (fits_start && (!fits_here || w->tail + span > w->warm)) {
      wrap = 1;
      where = 0;
    } else if (fits_here) {
      where = w->tail;
    } else {
      return MP_EFULL;
    }
  } else {
    if (w->tail + span + GAP > w->low) return MP_EFULL;
    where = w->tail;
  }
  int rc = ensure_committed(a, &w->committed, where + span);
  if (rc != MP_OK) return rc;
  if (wrap) {
    int empty = w->live == 0;
    uint64_t old_tail = w->tail;
    wrap_here(w, a);
    if (empty) {
      give_back(w, a, old_tail + GAP);
      w->low = 0;
    } else {
      w->wrapped = 1;
    }
  } else if (w->live == 0) {
    w->low = w->tail;
    w->wrapped = 0;
  }
  *at = where;
  return MP_OK;
}

uint8_t *mp__tasks_payload(mp__arena *a, uint64_t at) { return a->ring + at + sizeof(mp__task_record); }

void mp__task_write_head(uint8_t *payload, const char *task, uint64_t first, uint32_t n, uint32_t item_size) {
  mp__task_head *h = (mp__task_head *)payload;
  memset(h->task, 0, sizeof h->task);
  memcpy(h->task, task, strlen(task) + 1); /* the caller checked its length (not strcpy: MSVC deprecates it) */
  h->first = first;
  h->n = n;
  h->item_size = item_size;
}

uint64_t mp__task_write_slices(uint8_t *payload, const mp_slice *items, uint32_t n) {
  uint8_t *at = payload + sizeof(mp__task_head);
  for (uint32_t i = 0; i < n; i++) {
    uint64_t len = items[i].len, pad = mp__slice_span(len) - 16 - len;
    memcpy(at, &len, 8);
    memset(at + 8, 0, 8);
    if (len) memcpy(at + 16, items[i].data, (size_t)len);
    if (pad) memset(at + 16 + len, 0, (size_t)pad);
    at += mp__slice_span(len);
  }
  return (uint64_t)(at - payload);
}

void mp__tasks_publish(mp__tasks_writer *w, mp__arena *a, uint64_t at, uint64_t seq, uint64_t len, uint32_t flags) {
  mp__task_record *r = (mp__task_record *)(a->ring + at);
  r->len = (uint32_t)len;
  r->mark = MP__REC_TASK;
  r->seq = seq;
  r->state = MP__TAKE_STATE(seq, MP__TAKE_QUEUED);
  r->cancel = 0;
  r->flags = flags;
  w->tail = at + mp__record_span(len);
  if (w->tail > w->high) w->high = w->tail;
  w->count++;
  w->live++;
  mp__atomic_store64(&a->h->tail, MP__POS(w->count, w->tail)); /* release: the record first */
}

void mp__tasks_reclaim(mp__tasks_writer *w, mp__arena *a, uint64_t next) {
  if (w->live) w->live--;
  if (w->live == 0) {
    w->low = w->tail;
    w->wrapped = 0;
    return;
  }
  if (w->wrapped && next < w->low) {
    /* The oldest record is past the wrap: everything lives in [next,
     * tail), and beyond it only the WRAP record may still be read. */
    w->wrapped = 0;
    give_back(w, a, w->tail > w->wrap_at + GAP ? w->tail : w->wrap_at + GAP);
  }
  w->low = next;
}

uint32_t mp__tasks_queued(const mp__arena *a) {
  uint64_t t = mp__atomic_load64(&a->h->tail), h = mp__atomic_load64(&a->h->head);
  return MP__POS_COUNT(t) - MP__POS_COUNT(h);
}

/* ----------------------------------------------------------- a worker */
int mp__tasks_record(const mp__arena *a, uint64_t at, mp__task_record **rec, const uint8_t **payload) {
  if (at % MP__RECORD_ALIGN || at + sizeof(mp__task_record) > a->ring_bytes)
    return mp__set_error(MP_EPROTO, "pool worker: a task record at %llu is outside the ring",
                         (unsigned long long)at);
  mp__task_record *r = (mp__task_record *)(a->ring + at);
  if (r->mark == MP__REC_TASK) {
    if (r->len > a->ring_bytes - at - sizeof(mp__task_record))
      return mp__set_error(MP_EPROTO, "pool worker: a task record of %lu bytes runs past the ring",
                           (unsigned long)r->len);
  } else if (r->mark != MP__REC_WRAP) {
    return mp__set_error(MP_EPROTO, "pool worker: no task record at %llu (the ring was scribbled on)",
                         (unsigned long long)at);
  }
  *rec = r;
  if (payload) *payload = a->ring + at + sizeof(mp__task_record);
  return MP_OK;
}

int mp__tasks_take(mp__arena *a, int slot, uint64_t *at, uint64_t *committed) {
  mp__arena_header *h = a->h;
  mp__arena_slot *s = &a->slots[slot];
  for (;;) {
    uint64_t head = mp__atomic_load64(&h->head);
    uint64_t tail = mp__atomic_load64(&h->tail);
    if (head == tail) return 0;
    uint64_t off = MP__POS_OFFSET(head);
    /* The header first (its page may be new here), then the whole record. */
    int rc = ensure_committed(a, committed, off + sizeof(mp__task_record));
    mp__task_record *r = NULL;
    if (rc == MP_OK) rc = mp__tasks_record(a, off, &r, NULL);
    if (rc != MP_OK) return rc;
    if (r->mark == MP__REC_WRAP) {
      mp__atomic_cas64(&h->head, &head, MP__POS(MP__POS_COUNT(head), 0));
      continue;
    }
    uint64_t seq = r->seq, span = mp__record_span(r->len);
    uint64_t next = MP__POS(MP__POS_COUNT(head) + 1, off + span);
    uint64_t state = mp__atomic_load64(&r->state);
    int won = 0;
    if (state == MP__TAKE_STATE(seq, MP__TAKE_QUEUED)) {
      /* Say what we take before taking it: a pool burying us finds the
       * chunk through our slot, and owns up to it through the record. */
      s->chunk = seq;
      s->record = off;
      s->item = MP__SLOT_NO_ITEM;
      mp__atomic_store32(&s->state, MP__SLOT_TAKING);
      won = mp__atomic_cas64(&r->state, &state, MP__TAKE_STATE(seq, MP__TAKE_BY + (uint32_t)slot));
    }
    mp__atomic_cas64(&h->head, &head, next); /* ours, or helping whoever took it */
    if (won) {
      /* Ours. (Had the record been reused since we read head, the seq in
       * its state would have made us lose: it is the record we named.) */
      if ((rc = mp__tasks_record(a, off, &r, NULL)) != MP_OK ||
          (rc = ensure_committed(a, committed, off + mp__record_span(r->len))) != MP_OK)
        return rc;
      *at = off;
      return 1;
    }
    if (s->state == MP__SLOT_TAKING) {
      s->chunk = 0;
      mp__atomic_store32(&s->state, MP__SLOT_IDLE);
    }
  }
}

int mp__task_items_open(const uint8_t *payload, uint64_t len, mp__task_items *it) {
  memset(it, 0, sizeof *it);
  if (len < sizeof(mp__task_head)) return mp__set_error(MP_EPROTO, "pool worker: a task record too short");
  memcpy(&it->head, payload, sizeof it->head);
  const mp__task_head *h = &it->head;
  if (memchr(h->task, 0, sizeof h->task) == NULL || !h->task[0] || h->n == 0 || h->n > MP__CHUNK_MAX_ITEMS)
    return mp__set_error(MP_EPROTO, "pool worker: a malformed task record");
  uint64_t room = len - sizeof(mp__task_head);
  if (h->item_size != MP__ITEMS_SLICED && (uint64_t)h->n * h->item_size > room)
    return mp__set_error(MP_EPROTO, "pool worker: a task record's items run past it");
  it->at = payload + sizeof(mp__task_head);
  it->end = payload + len;
  return MP_OK;
}

int mp__task_items_next(mp__task_items *it, const uint8_t **data, size_t *len) {
  if (it->next >= it->head.n) return 0;
  if (it->head.item_size != MP__ITEMS_SLICED) {
    *data = it->at;
    *len = it->head.item_size;
    it->at += it->head.item_size;
  } else {
    uint64_t n;
    if (it->end - it->at < 16) return mp__set_error(MP_EPROTO, "pool worker: a task record's items run past it");
    memcpy(&n, it->at, 8);
    if (n > (uint64_t)(it->end - it->at) - 16)
      return mp__set_error(MP_EPROTO, "pool worker: a task record's items run past it");
    *data = it->at + 16;
    *len = (size_t)n;
    it->at += mp__slice_span(n) <= (uint64_t)(it->end - it->at) ? mp__slice_span(n) : (uint64_t)(it->end - it->at);
  }
  it->next++;
  return 1;
}
