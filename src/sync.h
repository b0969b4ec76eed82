/* Synchronization objects and shared memory: what they share, and what
 * the object layer (src/object.c) calls to rebuild them in a worker.
 *
 * Every lock, semaphore, event, barrier and condition lives in one page of
 * shared memory of its own (a "sync segment"): a header naming its kind,
 * one lock slot and one wait-point slot (src/platform.h), then the
 * object's own state. The slots a kind needs are set up by its creator;
 * on Windows each comes with a kernel handle that travels with the page. */
#ifndef MPROC_SYNC_H
#define MPROC_SYNC_H

#include "core.h"

#define MP__SYNC_PAGE 4096

enum { MP__SYNC_WITH_LOCK = 1, MP__SYNC_WITH_WAIT = 2 };

typedef struct mp__sync_seg {
  uint8_t *mem;             /* MP__SYNC_PAGE bytes, or NULL */
  mp__handle shm, lock, wait;
} mp__sync_seg;

/* The start of every sync object: its object header, then its segment. */
typedef struct mp__sync_obj {
  mp_object base;
  mp__sync_seg seg;
} mp__sync_obj;

void mp__sync_seg_clear(mp__sync_seg *s);
/* A fresh zeroed page of kind with the slots asked for (MP__SYNC_WITH_*). */
int mp__sync_seg_create(mp__sync_seg *s, int kind, unsigned slots);
void mp__sync_seg_release(mp__sync_seg *s);
void *mp__sync_lock_slot(const mp__sync_seg *s);
void *mp__sync_wait_slot(const mp__sync_seg *s);
/* The object's own state: MP__SYNC_PAGE - 256 bytes, zeroed at creation. */
void *mp__sync_state(const mp__sync_seg *s);

/* Parent side: appends the segment's handles and description. */
void mp__sync_seg_export(const mp__sync_seg *s, mp__handle *handles, size_t *nhandles, mp__buf *blob);
/* Child side: maps the segment described at r, taking its handles from
 * handles[0..avail); *used tells how many it took. MP_EPROTO when the
 * description or the page's header do not match kind. */
int mp__sync_seg_import(mp__sync_seg *s, int kind, const mp__handle *handles, size_t avail, size_t *used,
                        mp__rd *r);
/* Export function shared by the kinds whose object is just a segment. */
int mp__sync_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);

/* Object layer: every kind from MP__KIND_LOCK to MP__KIND_SHM. */
int mp__sync_import(uint32_t kind, const mp__handle *handles, size_t nhandles, const uint8_t *blob,
                    size_t bloblen, mp_object **out);
void mp__sync_release(mp_object *o);

/* Each kind's import (whole blob) and release of a rebuilt object. */
int mp__lock_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__semaphore_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__event_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__barrier_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__condition_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__shm_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
void mp__lock_release(mp_lock *l);
void mp__semaphore_release(mp_semaphore *s);
void mp__event_release(mp_event *e);
void mp__barrier_release(mp_barrier *b);
void mp__condition_release(mp_condition *c);
void mp__shm_release(mp_shm *s);

/* What a condition needs of its lock. */
/* Rebuilds a lock from its part of a larger description (a condition's). */
int mp__lock_import_part(const mp__handle *handles, size_t avail, size_t *used, mp__rd *r, mp_lock **out);
int mp__lock_held(mp_lock *l);                 /* by the calling thread: 1 or 0 */
/* Lets go of every level the calling thread holds; returns how many. */
uint32_t mp__lock_release_all(mp_lock *l);
/* Takes the lock again (blocking) at that depth: MP_OK or MP_EOWNERDEAD. */
int mp__lock_restore(mp_lock *l, uint32_t depth);

#endif
