/* Queue: the shared helpers, lifetime (create, free, export, import),
 * size, close and joining. The design: src/queue_internal.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "queue_internal.h"
#include "wait.h"

void (*mp__queue_put_pause)(int where);
void (*mp__queue_owner_check_pause)(void);

static int queue_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static void queue_destroy(mp_object *o);
static const mp__object_ops queue_ops = {MP__KIND_QUEUE, "queue", queue_export, queue_destroy, NULL};

/* ------------------------------------------------------ shared helpers */
/* Makes ring bytes [0, end) usable here: Windows commits the section's
 * pages as the rings grow into them (a no-op on POSIX). */
int mp__queue_ensure_usable(mp_queue *q, int ring, uint64_t end) {
  uint64_t have = mp__atomic_load64(&q->usable[ring]);
  if (end > q->size[ring]) end = q->size[ring];
  if (end <= have) return MP_OK;
  uint64_t to = (end + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
  if (to > q->size[ring]) to = q->size[ring];
  int rc = mp__shm_commit(q->ring[ring] + have, (size_t)(to - have));
  if (rc == MP_OK) mp__atomic_store64(&q->usable[ring], to); /* a racing thread commits again: harmless */
  return rc;
}

/* Producers: marks [at, at + n) of a ring in use, for every process. */
int mp__queue_use_bytes(mp_queue *q, int ring, uint64_t at, uint64_t n) {
  uint64_t end = n > q->size[ring] - at ? q->size[ring] : at + n;
  int rc = mp__queue_ensure_usable(q, ring, end);
  if (rc == MP_OK && end > q->sh->high[ring]) mp__atomic_store64(&q->sh->high[ring], end);
  return rc;
}

/* Takes a lock by the call's deadline. The holder normally lets go within
 * a few instructions, so even a call whose time is up tries a little; a
 * holder that does not let go (stopped, say) costs no more than the
 * timeout. A dead holder left nothing half done (see the top): carry on. */
int mp__queue_take_lock(mp_queue *q, void *slot, int h, double deadline) {
  double left = mp__remaining(deadline);
  int rc = mp__plock_acquire(slot, q->h[h], left != 0 ? left : LOCK_TRY_SECONDS);
  return rc == MP_EOWNERDEAD ? MP_OK : rc;
}

int mp__queue_damaged(const char *api) {
  return mp__set_error(MP_EPROTO, "%s: the queue's memory was damaged (scribbled on)", api);
}

/* Where a side left the ring it is not in: the offset / 16 and the store
 * ring's generation then. The store ring starts again at 0 when it is
 * empty, by one store to store_epoch, which makes every offset parked
 * in an older generation read as 0: both sides' at once, so a process
 * killed in the middle leaves them agreeing. */
void mp__queue_park(queue_shared *s, volatile uint64_t *slot, uint64_t offset) {
  mp__atomic_store64(slot, ((uint64_t)(uint32_t)mp__atomic_load64(&s->store_epoch) << 32) | (offset >> 4));
}

uint64_t mp__queue_parked(queue_shared *s, int ring, uint64_t word) {
  if (ring == STORE && (uint32_t)(word >> 32) != (uint32_t)mp__atomic_load64(&s->store_epoch)) return 0;
  return (word & 0xFFFFFFFFu) << 4;
}

/* What producers and consumers have reached, from the two words. */
int mp__queue_look(mp_queue *q, uint64_t tw, uint64_t hw, mp__ring_view *v) {
  queue_shared *s = q->sh;
  v->pring = POS_RING(tw);
  v->cring = POS_RING(hw);
  v->tail[v->pring] = POS_OFFSET(tw);
  v->tail[1 - v->pring] = mp__queue_parked(s, 1 - v->pring, mp__atomic_load64(&s->tail_park[1 - v->pring]));
  v->head[v->cring] = POS_OFFSET(hw);
  v->head[1 - v->cring] = mp__queue_parked(s, 1 - v->cring, mp__atomic_load64(&s->head_park[1 - v->cring]));
  return mp__ring_view_ok(q->size, v);
}
/* ------------------------------------------------------------ lifetime */
static mp_queue *queue_new(void) {
  mp_queue *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  if (mp__mutex_new(&q->watch_lock) != MP_OK) {
    free(q);
    return NULL;
  }
  mp__object_init(&q->base, &queue_ops);
  q->tail_written = UINT64_MAX; /* no head seen yet */
  for (int i = 0; i < H_COUNT; i++) q->h[i] = MP__NO_HANDLE;
  return q;
}

static void queue_release(mp_queue *q) {
  if (!q) return;
  if (q->sh) mp__queue_watch_stop(q);
  mp__mutex_free(q->watch_lock);
  mp__shm_detach(q->sh, q->map_size);
  for (int i = 0; i < H_COUNT; i++) mp__handle_close(q->h[i]);
  free(q);
}

static void map_rings(mp_queue *q, void *mem, uint64_t warm, uint64_t store) {
  q->sh = mem;
  q->ring[WARM] = (uint8_t *)mem + HEADER_BYTES;
  q->ring[STORE] = q->ring[WARM] + warm;
  q->size[WARM] = warm;
  q->size[STORE] = store;
}

static int sizes_ok(uint64_t store, uint64_t warm) {
  return store >= 64 && warm >= 64 && !(store & (MP__RING_ALIGN - 1)) && !(warm & (MP__RING_ALIGN - 1)) &&
         store <= ((uint64_t)1 << 35) && warm <= ((uint64_t)1 << 31); /* a SKIP's length is a u32 */
}

int mp__queue_create_sized(mp_queue **out, const mp_queue_options *opts, uint64_t store, uint64_t warm) {
  if (!out) return mp__set_error(MP_EINVAL, "mp_queue_create: out is NULL");
  *out = NULL;
  int rc = mp__require_main("mp_queue_create");
  if (rc != MP_OK) return rc;
  if (!sizes_ok(store, warm)) return mp__set_error(MP_EINVAL, "mp_queue_create: bad ring sizes");
  mp_queue *q = queue_new();
  if (!q) return mp__set_error(MP_ENOMEM, "mp_queue_create: out of memory");
  q->map_size = (size_t)(HEADER_BYTES + warm + store);
  void *mem = NULL;
  rc = mp__shm_create(q->map_size, &q->h[H_SHM], &mem);
  if (rc == MP_OK && (rc = mp__shm_commit(mem, HEADER_BYTES)) != MP_OK) mp__shm_detach(mem, q->map_size);
  if (rc != MP_OK) goto fail;
  map_rings(q, mem, warm, store);
  queue_shared *s = q->sh;
  s->size[WARM] = warm;
  s->size[STORE] = store;
  s->maxsize = opts ? opts->maxsize : 0;
  s->joinable = opts && opts->joinable;
  if ((rc = mp__plock_init(s->put_lock, &q->h[H_PUT_LOCK])) != MP_OK ||
      (rc = mp__plock_init(s->get_lock, &q->h[H_GET_LOCK])) != MP_OK ||
      (rc = mp__pwait_init(s->not_empty, &q->h[H_NOT_EMPTY])) != MP_OK ||
      (rc = mp__pwait_init(s->not_full, &q->h[H_NOT_FULL])) != MP_OK ||
      (rc = mp__pwait_init(s->all_done, &q->h[H_ALL_DONE])) != MP_OK)
    goto fail;
  s->version = QUEUE_VERSION;
  s->magic = QUEUE_MAGIC;
  *out = q;
  return MP_OK;
fail:
  queue_release(q);
  return mp__error_in("mp_queue_create", rc);
}

int mp_queue_create(mp_queue **out, const mp_queue_options *opts) {
  uint64_t warm = MP__QUEUE_WARM_BYTES < MP__QUEUE_RING_BYTES / 4 ? MP__QUEUE_WARM_BYTES : MP__QUEUE_RING_BYTES / 4;
  return mp__queue_create_sized(out, opts, MP__QUEUE_RING_BYTES, warm & ~(uint64_t)(MP__RING_ALIGN - 1));
}

mp_queue *mp_queue_free(mp_queue *q) {
  /* This process lets go once nothing here needs the queue (a pool given
   * it keeps it); the others keep the segment alive until the last of
   * them does. A worker's rebuilt queue belongs to its call. */
  if (q) mp__object_free(&q->base);
  return NULL;
}

mp_object *mp_queue_obj(mp_queue *q) { return q ? &q->base : NULL; }

mp_queue *mp_call_queue(mp_call *call, size_t i) {
  return (mp_queue *)mp__call_object(call, i, MP__KIND_QUEUE, "mp_call_queue");
}

void mp__queue_release(mp_queue *q) { queue_release(q); }

static void queue_destroy(mp_object *o) { queue_release((mp_queue *)o); }

static int queue_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp_queue *q = (mp_queue *)o;
  uint32_t present = 0;
  size_t n = 0;
  for (int i = 0; i < H_COUNT; i++) {
    if (q->h[i] == MP__NO_HANDLE) continue;
    present |= 1u << i;
    handles[n++] = q->h[i];
  }
  *nhandles = n;
  mp__buf_put_u32(blob, present);
  mp__buf_put_u64(blob, q->size[WARM]);
  mp__buf_put_u64(blob, q->size[STORE]);
  return MP_OK;
}

int mp__queue_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  uint32_t present = mp__rd_u32(r);
  uint64_t warm = mp__rd_u64(r), store = mp__rd_u64(r);
  size_t want = 0;
  for (int i = 0; i < H_COUNT; i++) want += (present >> i) & 1u;
  if (r->failed || r->off != r->len || (present >> H_COUNT) || !(present & 1u) || want != nhandles ||
      !sizes_ok(store, warm))
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: queue description");
  mp_queue *q = queue_new();
  if (!q) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a queue");
  size_t k = 0;
  for (int i = 0; i < H_COUNT; i++)
    if (present & (1u << i)) q->h[i] = handles[k++];
  q->map_size = (size_t)(HEADER_BYTES + warm + store);
  void *mem = NULL;
  int rc = mp__shm_attach(q->h[H_SHM], q->map_size, &mem);
  if (rc == MP_OK && (rc = mp__shm_commit(mem, HEADER_BYTES)) != MP_OK) mp__shm_detach(mem, q->map_size);
  if (rc != MP_OK) {
    queue_release(q);
    return rc;
  }
  map_rings(q, mem, warm, store);
  if (q->sh->magic != QUEUE_MAGIC || q->sh->version != QUEUE_VERSION || q->sh->size[WARM] != warm ||
      q->sh->size[STORE] != store) {
    queue_release(q);
    return mp__set_error(MP_EPROTO, "malformed queue: the shared header does not match");
  }
  q->base.borrowed = 1;
  *out = &q->base;
  return MP_OK;
}

/* ------------------------------------------------- size, close, joining */
int mp_queue_qsize(mp_queue *q, size_t *n) {
  if (!q || !n) return mp__set_error(MP_EINVAL, "mp_queue_qsize: NULL argument");
  *n = queued(q->sh);
  return MP_OK;
}

uint32_t mp__queue_sleepers(mp_queue *q, int putters) {
  return mp__pwait_sleepers(putters ? q->sh->not_full : q->sh->not_empty);
}

int mp_queue_close(mp_queue *q) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_close: NULL queue");
  /* Under the put lock if it comes at once (it is held only while a put
   * reserves its room): a put either reserved before (its message stays
   * to be drained) or sees the flag. A holder that does not let go (a
   * stopped process) does not make close wait: the flag is set all the
   * same, and a getter calls the queue drained only once the put lock is
   * free (mp__queue_puts_settled), so that holder's message is not lost. */
  int rc = mp__queue_take_lock(q, q->sh->put_lock, H_PUT_LOCK, mp__deadline(0));
  if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in("mp_queue_close", rc);
  mp__atomic_store32(&q->sh->closed, 1);
  if (rc == MP_OK) mp__plock_release(q->sh->put_lock, q->h[H_PUT_LOCK]);
  /* Everyone waiting must look again: getters drain, putters fail. */
  mp__pwait_wake_sleepers(q->sh->not_empty, q->h[H_NOT_EMPTY], 1);
  mp__pwait_wake_sleepers(q->sh->not_full, q->h[H_NOT_FULL], 1);
  return MP_OK;
}

int mp__queue_puts_settled(mp_queue *q) {
  if (mp__queue_take_lock(q, q->sh->put_lock, H_PUT_LOCK, mp__deadline(0)) != MP_OK) return 0;
  mp__plock_release(q->sh->put_lock, q->h[H_PUT_LOCK]);
  return 1;
}

int mp_queue_task_done(mp_queue *q) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_task_done: NULL queue");
  if (!q->sh->joinable) return mp__set_error(MP_ESTATE, "mp_queue_task_done: the queue is not joinable");
  uint64_t now = mp__atomic_load64(&q->sh->unfinished);
  do {
    if (now == 0) return mp__set_error(MP_ESTATE, "mp_queue_task_done: called more times than items were put");
  } while (!mp__atomic_cas64(&q->sh->unfinished, &now, now - 1));
  if (now == 1) mp__pwait_wake(q->sh->all_done, q->h[H_ALL_DONE], 1);
  return MP_OK;
}

int mp_queue_join(mp_queue *q, double timeout) {
  if (!q) return mp__set_error(MP_EINVAL, "mp_queue_join: NULL queue");
  if (!q->sh->joinable) return mp__set_error(MP_ESTATE, "mp_queue_join: the queue is not joinable");
  int rc = mp__timeout_check("mp_queue_join", timeout);
  if (rc != MP_OK) return rc;
  double deadline = mp__deadline(timeout);
  for (;;) {
    uint32_t seen = mp__pwait_seq(q->sh->all_done);
    uint64_t left_items = mp__atomic_load64(&q->sh->unfinished);
    if (left_items == 0) return MP_OK;
    double left = mp__remaining(deadline);
    if (left == 0)
      return mp__set_error(MP_ETIMEDOUT, "mp_queue_join: %llu item(s) not yet task_done",
                           (unsigned long long)left_items);
    rc = mp__pwait_wait(q->sh->all_done, q->h[H_ALL_DONE], seen, left);
    if (rc != MP_OK && rc != MP_ETIMEDOUT) return mp__error_in("mp_queue_join", rc);
  }
}

int mp__queue_ready(mp_queue *q) { return queued(q->sh) > 0 || is_closed(q->sh); }
