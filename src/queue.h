/* Queue internals the object layer needs. */
#ifndef MPROC_QUEUE_H
#define MPROC_QUEUE_H

#include "core.h"

int mp__queue_import(const mp__handle *handles, size_t nhandles, const uint8_t *blob, size_t bloblen,
                     mp_object **out);
void mp__queue_release(mp_queue *q);

#endif
