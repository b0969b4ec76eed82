/* The table of object kinds (src/kinds.h): the one place that names every
 * kind's import. */
#include "kinds.h"

static const mp__kind_info kinds[] = {
    {MP__KIND_CONN, "a connection", mp__conn_import},
    {MP__KIND_QUEUE, "a queue", mp__queue_import},
    {MP__KIND_LOCK, "a lock", mp__lock_import},
    {MP__KIND_SEMAPHORE, "a semaphore", mp__semaphore_import},
    {MP__KIND_EVENT, "an event", mp__event_import},
    {MP__KIND_BARRIER, "a barrier", mp__barrier_import},
    {MP__KIND_CONDITION, "a condition", mp__condition_import},
    {MP__KIND_SHM, "shared memory", mp__shm_import},
    {MP__KIND_MANAGER, "a manager", mp__manager_import},
    {MP__KIND_OSHANDLE, "a handle", mp__oshandle_import},
};

const mp__kind_info *mp__kind_find(uint32_t kind) {
  /* Kinds are numbered from 1 in the table's order (checked below), so a
   * lookup is an index. */
  if (kind == 0 || kind > sizeof kinds / sizeof kinds[0]) return NULL;
  const mp__kind_info *k = &kinds[kind - 1];
  return k->kind == (int)kind ? k : NULL;
}
