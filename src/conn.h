/* Connection internals the object layer needs. */
#ifndef MPROC_CONN_H
#define MPROC_CONN_H

#include "core.h"

void mp__conn_release(mp_conn *c);
/* Tests: the most this end allocates for one message it receives, to see
 * what running out of memory does. */
void mp__conn_limit_alloc(mp_conn *c, size_t most);

#endif
