/* What mp_wait (src/wait.c) needs of each kind of object it waits on,
 * without knowing its insides: is it ready now (never blocks), and what
 * can a wait watch for it to become so. */
#ifndef MPROC_WAIT_H
#define MPROC_WAIT_H

#include "core.h"

/* A waiter registered with a pool for the length of one mp_wait: the pool
 * signals it whenever one of its jobs becomes ready, or the pool is freed. */
typedef struct mp__watch {
  mp__waiter *waiter;
  struct mp__watch *next;
} mp__watch;

/* pool_watch.c */
void *mp__job_anchor(mp_async *a);              /* what watch/unwatch take: one per pool */
void mp__anchor_watch(void *anchor, mp__watch *w);
void mp__anchor_unwatch(void *anchor, mp__watch *w);
int mp__job_is_ready(mp_async *a);              /* ready, or its pool freed */

/* process.c: the child's wait handle while it runs; MP__NO_HANDLE once
 * reaped, or where there is none. */
mp__handle mp__process_wait_handle(mp_process *p);

/* conn.c */
int mp__conn_receives(const mp_conn *c);
mp__handle mp__conn_wait_handle(const mp_conn *c);

/* queue.c: a message is queued (or being copied in), or it is closed. */
int mp__queue_ready(mp_queue *q);
/* queue_watch.c: starts the queue's watcher (once), which signals every
 * registered waiter when the queue becomes ready. */
int mp__queue_watch_start(mp_queue *q);
void mp__queue_watch_add(mp_queue *q, mp__watch *w);
void mp__queue_watch_remove(mp_queue *q, mp__watch *w);

#endif
