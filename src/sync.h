/* Synchronization objects and shared memory: what they share, and what
 * the object layer (src/object.c) calls to rebuild them in a worker.
 *
 * Every lock, semaphore, event, barrier and condition lives in shared
 * memory of its own (a "sync segment"): a header naming its kind, one lock
 * slot and one wait-point slot (src/platform.h), then the object's own
 * state. A segment is one page, except a condition's, which also holds a
 * table of its waiters (MP__SYNC_COND_SIZE). The slots a kind needs are set
 * up by its creator; on Windows each comes with a kernel handle that
 * travels with the memory. */
#ifndef MPROC_SYNC_H
#define MPROC_SYNC_H

#include "kinds.h"

#define MP__SYNC_PAGE 4096
/* A condition's segment: room for MP_CONDITION_MAX_WAITERS waiters of 16
 * bytes after the header and state, in whole pages. */
#define MP__SYNC_COND_SIZE (5 * MP__SYNC_PAGE)

enum { MP__SYNC_WITH_LOCK = 1, MP__SYNC_WITH_WAIT = 2 };

typedef struct mp__sync_seg {
  uint8_t *mem;             /* size bytes, or NULL */
  size_t size;              /* MP__SYNC_PAGE, or MP__SYNC_COND_SIZE for a condition */
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
/* The object's own state: the segment's size - 256 bytes, zeroed at
 * creation. */
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

/* The destruction of each kind (the object's last reference gone, or one
 * half made). Their imports are in src/kinds.h. */
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
/* Takes the lock again (blocking) at that depth: MP_OK or MP_EOWNERDEAD
 * (a message naming api). */
int mp__lock_restore(mp_lock *l, uint32_t depth, const char *api);
/* If the calling thread holds l, lets go of it as its death would: the
 * next acquirer gets MP_EOWNERDEAD. What a task's return and a free of a
 * held lock do. */
void mp__lock_abandon_if_held(mp_lock *l);

/* Tests: a condition whose waiter table has capacity places (at most
 * MP_CONDITION_MAX_WAITERS), to reach a full table with a few waiters. */
int mp__condition_create_sized(mp_condition **out, mp_lock *lock, uint32_t capacity);

#endif
