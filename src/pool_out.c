/* A worker's result ring: the worker's writer and the pool's reader. */
#include <stdlib.h>
#include <string.h>

#include "pool_out.h"

static uint64_t align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* ------------------------------------------------------------ a worker */
void mp__out_writer_init(mp__out_writer *w, mp__arena *a) {
  memset(w, 0, sizeof *w);
  w->a = a;
  w->slot = &a->slots[a->own_slot];
  w->ring = mp__arena_result_ring(a, a->own_slot);
  w->cap = a->result_bytes;
  w->tail = mp__atomic_load64(&w->slot->res_tail);
  w->head_seen = mp__atomic_load64(&w->slot->res_head);
}

void mp__out_ring_sleeper(mp__out_writer *w) {
  mp__pwait_wake_sleepers(w->a->h->parent_bell, w->a->parent_bell, 1);
}

/* Waits until total bytes are free. The pool drains the ring whenever it
 * looks; tell it we wait, then sleep until it says it took something. */
static void wait_for_room(mp__out_writer *w, uint64_t total) {
  for (;;) {
    w->head_seen = mp__atomic_load64(&w->slot->res_head);
    if (w->cap - (w->tail - w->head_seen) >= total) return;
    mp__pwait_wake_sleepers(w->a->h->parent_bell, w->a->parent_bell, 1);
    uint32_t seen = mp__pwait_prepare(w->slot->space_bell);
    w->head_seen = mp__atomic_load64(&w->slot->res_head);
    if (w->cap - (w->tail - w->head_seen) >= total) {
      mp__pwait_cancel(w->slot->space_bell);
      return;
    }
    /* A bounded sleep: the pool rings after it reads, but a look now and
     * then costs nothing and survives any wake-up lost to a race. */
    (void)mp__pwait_commit(w->slot->space_bell, w->a->space_bells[0], seen, 0.05);
  }
}

/* Room for a record of len bytes (a multiple of 8, at most cap / 2),
 * contiguous: a PAD fills the ring's end first if the record does not fit
 * there. Returns where to write it. */
static uint8_t *reserve(mp__out_writer *w, uint64_t len) {
  w->run = NULL; /* a record after the run makes it whole */
  uint64_t pos = w->tail & (w->cap - 1), to_end = w->cap - pos;
  uint64_t total = len + (len > to_end ? to_end : 0);
  if (w->cap - (w->tail - w->head_seen) < total) wait_for_room(w, total);
  if (len > to_end) {
    mp__out_head *pad = (mp__out_head *)(w->ring + pos);
    pad->len = (uint32_t)to_end;
    pad->type = MP__OUT_PAD;
    pad->reserved = 0;
    w->tail += to_end;
    pos = 0;
  }
  return w->ring + pos;
}

static void publish(mp__out_writer *w, uint64_t len) {
  w->tail += len;
  mp__atomic_store64(&w->slot->res_tail, w->tail); /* release: the bytes first */
  /* Counted even when len is 0 (a run grown inside its last word): the
   * pool reads when this moves, not the tail. A plain store (this worker
   * alone writes it), no fence: a locked add here, per item, stalled the
   * worker on the line its collector reads, and made a map of small items
   * five times slower. The fence is mp__out_ring_pool's, before its look
   * at `collectors`. */
  mp__atomic_store64(&w->slot->res_pub, w->slot->res_pub + 1);
}

static void put_head(uint8_t *at, uint64_t len, int type) {
  mp__out_head *h = (mp__out_head *)at;
  h->len = (uint32_t)len;
  h->type = (uint16_t)type;
  h->reserved = 0;
}

void mp__out_chunk(mp__out_writer *w, uint64_t seq) {
  uint8_t *at = reserve(w, 16);
  put_head(at, 16, MP__OUT_CHUNK);
  memcpy(at + 8, &seq, 8);
  publish(w, 16);
}

/* Appends an item to the open run, if it can grow by len bytes where it
 * is (to the ring's end, within a quarter of the ring, into free room). */
static int run_append(mp__out_writer *w, uint32_t index, const void *data, size_t len) {
  if (w->run_size != len || index != w->run_next) return 0;
  uint64_t old = w->tail - w->run_start;
  uint64_t grown = align8(MP__OUT_RUN_HEAD + (uint64_t)(w->run_count + 1) * len);
  if (grown > w->cap / 4 || (w->run_start & (w->cap - 1)) + grown > w->cap) return 0;
  uint64_t need = grown - old;
  if (w->cap - (w->tail - w->head_seen) < need) {
    w->head_seen = mp__atomic_load64(&w->slot->res_head);
    if (w->cap - (w->tail - w->head_seen) < need) return 0; /* a new record waits for room */
  }
  uint8_t *r = w->run;
  mp__move(r + MP__OUT_RUN_HEAD + (size_t)w->run_count * len, data, len);
  w->run_count++;
  w->run_next++;
  /* The count first, then the length, then the tail: a reader that sees
   * the tail sees an item it covers whole. */
  mp__atomic_store32_release((volatile uint32_t *)(r + 16), w->run_count);
  mp__atomic_store32_release((volatile uint32_t *)r, (uint32_t)grown);
  publish(w, need);
  return 1;
}

void mp__out_ok(mp__out_writer *w, uint32_t index, const void *data, size_t len) {
  if (w->run && run_append(w, index, data, len)) return;
  uint64_t first_run = align8(MP__OUT_RUN_HEAD + (uint64_t)len);
  if (first_run <= w->cap / 8) {
    /* A new run, of one item so far. */
    uint8_t *at = reserve(w, first_run);
    uint32_t zero = 0, one = 1, n = (uint32_t)len;
    put_head(at, first_run, MP__OUT_RUN);
    memcpy(at + 8, &index, 4);
    memcpy(at + 12, &n, 4);
    memcpy(at + 16, &one, 4);
    memcpy(at + 20, &zero, 4);
    mp__move(at + MP__OUT_RUN_HEAD, data, len);
    w->run = at;
    w->run_start = w->tail;
    w->run_next = index + 1;
    w->run_size = n;
    w->run_count = 1;
    publish(w, first_run);
    return;
  }
  uint64_t whole = align8(16 + (uint64_t)len);
  if (whole <= w->cap / 2) {
    uint8_t *at = reserve(w, whole);
    put_head(at, whole, MP__OUT_OK);
    uint32_t n = (uint32_t)len;
    memcpy(at + 8, &index, 4);
    memcpy(at + 12, &n, 4);
    if (len) memcpy(at + 16, data, len);
    publish(w, whole);
    return;
  }
  /* Too big for one record: its size first, then pieces of a quarter of
   * the ring, so the pool can drain one while the next is written. */
  uint8_t *at = reserve(w, 24);
  uint32_t zero = 0;
  uint64_t total = len;
  put_head(at, 24, MP__OUT_BIG);
  memcpy(at + 8, &index, 4);
  memcpy(at + 12, &zero, 4);
  memcpy(at + 16, &total, 8);
  publish(w, 24);
  uint64_t piece_max = w->cap / 4 - 8;
  for (uint64_t done = 0; done < total;) {
    uint64_t piece = total - done < piece_max ? total - done : piece_max;
    uint64_t rec = align8(8 + piece);
    at = reserve(w, rec);
    put_head(at, rec, MP__OUT_MORE);
    memcpy(at + 8, (const uint8_t *)data + done, (size_t)piece);
    publish(w, rec);
    done += piece;
  }
}

static size_t cut(const char *text) {
  size_t n = text ? strlen(text) : 0;
  return n > MP__OUT_TEXT_MAX ? MP__OUT_TEXT_MAX : n;
}

void mp__out_fail(mp__out_writer *w, uint32_t index, int status, int code, const char *text) {
  uint32_t n = (uint32_t)cut(text);
  uint64_t whole = align8(24 + (uint64_t)n);
  uint8_t *at = reserve(w, whole);
  int32_t st = status, c = code;
  put_head(at, whole, MP__OUT_FAIL);
  memcpy(at + 8, &index, 4);
  memcpy(at + 12, &st, 4);
  memcpy(at + 16, &c, 4);
  memcpy(at + 20, &n, 4);
  if (n) memcpy(at + 24, text, n);
  publish(w, whole);
}

void mp__out_init_failed(mp__out_writer *w, int code, const char *text) {
  uint32_t n = (uint32_t)cut(text);
  uint64_t whole = align8(16 + (uint64_t)n);
  uint8_t *at = reserve(w, whole);
  int32_t c = code;
  put_head(at, whole, MP__OUT_INIT_FAILED);
  memcpy(at + 8, &c, 4);
  memcpy(at + 12, &n, 4);
  if (n) memcpy(at + 16, text, n);
  publish(w, whole);
}

/* ------------------------------------------------------------ the pool */
void mp__out_reader_init(mp__out_reader *r) {
  memset(r, 0, sizeof *r);
  mp__buf_init(&r->big);
}

void mp__out_reader_release(mp__out_reader *r) {
  mp__buf_release(&r->big);
  mp__out_reader_init(r);
}

static int bad(const char *what) { return mp__set_error(MP_EPROTO, "a malformed outcome from a worker: %s", what); }

static int known_failure(int status) { return status < 0 && status >= MP_ESYS; }

static void copy_text(mp__out_event *e, const uint8_t *p, uint32_t n) {
  memcpy(e->text, p, n);
  e->text[n] = 0;
}

/* Decodes one record (len bytes at p, already bounded); *deliver says
 * whether e is an outcome to hand on. */
static int decode(mp__out_reader *r, const uint8_t *p, uint64_t len, int type, mp__out_event *e, int *deliver) {
  uint32_t a = 0, b = 0, n = 0;
  *deliver = 0;
  if (r->in_big && type != MP__OUT_MORE && type != MP__OUT_PAD) return bad("a result cut short");
  switch (type) {
  case MP__OUT_PAD:
    return MP_OK;
  case MP__OUT_CHUNK:
    if (len != 16) return bad("chunk record");
    e->type = type;
    memcpy(&e->seq, p + 8, 8);
    *deliver = 1;
    return MP_OK;
  case MP__OUT_OK:
    if (len < 16) return bad("result record");
    memcpy(&a, p + 8, 4);
    memcpy(&n, p + 12, 4);
    if (n > len - 16) return bad("result length");
    e->type = type;
    e->index = a;
    e->data = p + 16;
    e->len = n;
    e->big = NULL;
    *deliver = 1;
    return MP_OK;
  case MP__OUT_FAIL: {
    int32_t st, c;
    if (len < 24) return bad("failure record");
    memcpy(&a, p + 8, 4);
    memcpy(&st, p + 12, 4);
    memcpy(&c, p + 16, 4);
    memcpy(&n, p + 20, 4);
    if (n > MP__OUT_TEXT_MAX || n > len - 24) return bad("failure text");
    if (!known_failure(st)) return bad("failure status");
    e->type = type;
    e->index = a;
    e->status = st;
    e->code = c;
    copy_text(e, p + 24, n);
    *deliver = 1;
    return MP_OK;
  }
  case MP__OUT_BIG: {
    uint64_t total;
    if (len != 24) return bad("large result record");
    memcpy(&a, p + 8, 4);
    memcpy(&b, p + 12, 4);
    memcpy(&total, p + 16, 8);
    if (b != 0 || total > MP_MAX_MESSAGE) return bad("large result size");
    r->in_big = 1;
    r->big_index = a;
    r->big_total = total;
    r->big.len = 0;
    break;
  }
  case MP__OUT_MORE:
    if (!r->in_big || len < 8) return bad("a piece of no result");
    {
      /* The record's bytes beyond the piece are padding: its end is the
       * result's end or the record's, whichever comes first. */
      uint64_t piece = len - 8, left = r->big_total - r->big.len;
      if (piece > left) piece = left;
      if (piece == 0 && left) return bad("an empty piece");
      mp__buf_put(&r->big, p + 8, (size_t)piece);
      if (r->big.failed) return mp__set_error(MP_ENOMEM, "out of memory for a worker's result of %llu bytes",
                                              (unsigned long long)r->big_total);
    }
    break;
  case MP__OUT_INIT_FAILED: {
    int32_t c;
    if (len < 16) return bad("initializer record");
    memcpy(&c, p + 8, 4);
    memcpy(&n, p + 12, 4);
    if (n > MP__OUT_TEXT_MAX || n > len - 16) return bad("initializer text");
    e->type = type;
    e->code = c;
    copy_text(e, p + 16, n);
    *deliver = 1;
    return MP_OK;
  }
  default:
    return bad("record type");
  }
  if (r->in_big && r->big.len == r->big_total) {
    r->in_big = 0;
    e->type = MP__OUT_OK;
    e->index = r->big_index;
    e->data = r->big.data ? r->big.data : (const uint8_t *)"";
    e->len = (size_t)r->big_total;
    e->big = &r->big;
    *deliver = 1;
  }
  return MP_OK;
}

/* The run at p (avail bytes of the ring from it, to_end to the ring's
 * end): hands out its items not yet handed out; *open if it may grow. */
static int read_run(mp__out_reader *r, const uint8_t *p, uint64_t avail, uint64_t to_end, mp__out_event *e,
                    int (*each)(void *ud, mp__out_event *e), void *ud, int *stop, int *open) {
  *stop = 0;
  if (to_end < MP__OUT_RUN_HEAD || avail < MP__OUT_RUN_HEAD) return bad("run record cut short");
  uint32_t len = mp__atomic_load32((volatile uint32_t *)p), first, size;
  uint32_t count = mp__atomic_load32((volatile uint32_t *)(p + 16));
  memcpy(&first, p + 8, 4);
  memcpy(&size, p + 12, 4);
  if (r->in_big) return bad("a result cut short");
  if (len < MP__OUT_RUN_HEAD || len % 8 || len > to_end || size > MP_MAX_MESSAGE)
    return bad("run record");
  /* Bytes after it: the worker began another record, so this one is whole. */
  int closed = avail > len;
  uint64_t body = (closed || len < avail ? len : avail) - MP__OUT_RUN_HEAD;
  uint64_t items = size ? body / size : count;
  if (items > count) items = count;
  if (closed && (uint64_t)count * size > (uint64_t)len - MP__OUT_RUN_HEAD) return bad("run length");
  if (closed) items = count;
  if (r->run_done > items) return bad("a run that shrank");
  if (items > r->run_done) {
    e->type = MP__OUT_RUN;
    e->index = first + r->run_done;
    e->count = (uint32_t)(items - r->run_done);
    e->len = size;
    e->data = p + MP__OUT_RUN_HEAD + (size_t)r->run_done * size;
    e->big = NULL;
    r->run_done = (uint32_t)items;
    *stop = each(ud, e);
  }
  *open = !closed;
  return MP_OK;
}

int mp__out_read(mp__out_reader *r, const uint8_t *ring, uint64_t cap, uint64_t tail,
                 int (*each)(void *ud, mp__out_event *e), void *ud) {
  mp__out_event e;
  if (tail - r->head > cap || tail < r->head) return bad("positions");
  while (r->head < tail) {
    uint64_t pos = r->head & (cap - 1), avail = tail - r->head, to_end = cap - pos;
    mp__out_head h;
    if (avail < 8 || pos % 8) return bad("a record cut short");
    memcpy(&h, ring + pos, sizeof h);
    int stop = 0;
    if (h.type == MP__OUT_RUN) {
      int open = 0;
      int rc = read_run(r, ring + pos, avail, to_end, &e, each, ud, &stop, &open);
      if (rc != MP_OK) return rc;
      if (open) break; /* it may grow: read it again next time */
      r->head += h.len;
      r->run_done = 0;
      if (stop) break;
      continue;
    }
    if (h.len < 8 || h.len % 8 || h.len > avail || h.len > to_end) return bad("record length");
    int deliver = 0;
    int rc = decode(r, ring + pos, h.len, h.type, &e, &deliver);
    if (rc != MP_OK) return rc;
    stop = deliver ? each(ud, &e) : 0;
    r->head += h.len;
    if (stop) break;
  }
  return MP_OK;
}
