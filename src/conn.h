/* Connection internals the object layer needs. */
#ifndef MPROC_CONN_H
#define MPROC_CONN_H

#include "core.h"

int mp__conn_import(const mp__handle *handles, size_t nhandles, const uint8_t *blob, size_t bloblen,
                    mp_object **out);
void mp__conn_release(mp_conn *c);

#endif
