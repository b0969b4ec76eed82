/* The object kinds and how a worker rebuilds each: one table
 * (src/kinds.c) maps a kind's number to its import function and the
 * phrase messages use for it. The object layer (src/object.c) looks kinds
 * up here and knows none of them; each kind's file defines the import
 * declared below and depends only on the core, so the dependency runs one
 * way: object.c -> kinds.c -> each kind -> core. A new kind adds its
 * number in core.h, its import here and one row in src/kinds.c. */
#ifndef MPROC_KINDS_H
#define MPROC_KINDS_H

#include "core.h"

/* Rebuilds, in a worker, an object from its handles (child values) and
 * its description, read from r (the whole of what its export_to wrote;
 * the import checks it took all of it). The object it makes is the
 * call's (borrowed). MP_EPROTO for a malformed description. */
typedef int (*mp__import_fn)(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);

typedef struct mp__kind_info {
  int kind;             /* an enum mp__kind */
  const char *phrase;   /* "a queue": a kind in a sentence */
  mp__import_fn import;
} mp__kind_info;

/* The row for kind, or NULL for a number no kind has. */
const mp__kind_info *mp__kind_find(uint32_t kind);

int mp__conn_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__queue_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__lock_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__semaphore_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__event_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__barrier_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__condition_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__shm_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__manager_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);
int mp__oshandle_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out);

#endif
