/* Queue internals the object layer and the tests need. */
#ifndef MPROC_QUEUE_H
#define MPROC_QUEUE_H

#include "core.h"

void mp__queue_release(mp_queue *q);

/* mp_queue_create with a store ring of store bytes and a warm ring of warm
 * bytes (multiples of 16, at least 64 each) instead of the build's
 * MP__QUEUE_RING_BYTES and MP__QUEUE_WARM_BYTES: tests drive small rings
 * through wrap, backlog and a full store in a few operations. A child
 * handed such a queue maps it as it is. */
int mp__queue_create_sized(mp_queue **out, const mp_queue_options *opts, uint64_t store, uint64_t warm);

/* Tests: reserves room for a len-byte message as a put does and leaves it
 * half made, as a producer killed in the middle of its copy would; owner
 * is the pid the reservation names (0, or one that has ended, is dead). */
int mp__queue_abandon_put(mp_queue *q, size_t len, uint32_t owner);

/* Tests: how many getters (putters = 0) or putters (putters = 1) have
 * announced they are going to sleep, or sleep. */
uint32_t mp__queue_sleepers(mp_queue *q, int putters);

/* Tests: called, when set, in the middle of every put of this process:
 * with MP__QUEUE_PAUSE_LOCKED while it holds the put lock (room reserved),
 * with MP__QUEUE_PAUSE_COPYING half way through its copy, the lock let go.
 * A task that sleeps there plays a producer stopped or slow at that point. */
enum { MP__QUEUE_PAUSE_LOCKED = 1, MP__QUEUE_PAUSE_COPYING = 2 };
extern void (*mp__queue_put_pause)(int where);
/* Tests: called, when set, when a get of this process found the next
 * record still being copied and is about to look whether its producer
 * lives: a test ends the producer there. */
extern void (*mp__queue_owner_check_pause)(void);

#endif
