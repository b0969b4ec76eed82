/* Internal interfaces shared by the portable core (never by a backend). */
#ifndef MPROC_CORE_H
#define MPROC_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "mproc.h"
#include "platform.h"

#define MP__TASK_NAME_MAX 63

/* ------------------------------------------------------------- registry */
mp_task_fn mp__task_lookup(const char *name);

/* ------------------------------------------------------------ bootstrap */
/* MP_OK once mp_main() has run (or inside a worker); otherwise
 * MP_EBOOTSTRAP with a message that names api and the fix. */
int mp__require_main(const char *api);
int mp__main_has_run(void);               /* mp_main() returned, or a worker */
/* Turns an mp_start_method (DEFAULT honours MPROC_START_METHOD) into FORK
 * or SPAWN; MP_EINVAL for an unknown value, MP_ENOTSUP where impossible. */
int mp__resolve_method(int requested, int *method);
/* Marks this process as a worker (a fork child calls it first). */
void mp__enter_worker(void);

/* -------------------------------------------------------------- objects */
#define MP__OBJECT_MAX_HANDLES 8
#define MP__MAX_OBJECTS 1024

enum mp__kind {
  MP__KIND_CONN = 1,
  MP__KIND_QUEUE = 2,
  MP__KIND_LOCK = 3,
  MP__KIND_SEMAPHORE = 4,
  MP__KIND_EVENT = 5,
  MP__KIND_BARRIER = 6,
  MP__KIND_CONDITION = 7,
  MP__KIND_SHM = 8,
  MP__KIND_MANAGER = 9
};

typedef struct mp__object_ops {
  int kind;
  const char *what;                    /* "connection", in messages */
  /* Parent side: the handles a child needs and the bytes describing it. */
  int (*export_to)(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
} mp__object_ops;

struct mp_object {
  const mp__object_ops *ops;
  int borrowed;    /* rebuilt in a worker: owned by the call, not the user */
};

/* Child side: rebuild an object of kind from its handles (child values)
 * and blob. */
int mp__object_import(uint32_t kind, const mp__handle *handles, size_t nhandles,
                      const uint8_t *blob, size_t bloblen, mp_object **out);
/* Releases a rebuilt object when the worker is done with it. */
void mp__object_release(mp_object *o);
/* Checks a user's object list: MP_EINVAL for NULL entries or list. */
int mp__objects_check(const char *api, mp_object *const *objects, size_t n);

/* ----------------------------------------------------------------- call */
struct mp_call {
  const void *arg;
  size_t arg_len;
  size_t index;
  int worker_id;
  mp_object **objects;
  size_t nobjects;
  void *result;               /* result_inline, or a heap copy */
  size_t result_len;
  char *message;
  mp__handle result_handle;   /* where the worker sends the RESULT frame */
  /* Small results (most map items) are kept here: no malloc per item. */
  uint64_t result_inline[8];
};
void mp__call_release(mp_call *call);
/* For tests that play a hostile child. */
mp__handle mp__call_result_handle(mp_call *call);
mp_object *mp__call_object(mp_call *call, size_t i, int kind);

/* --------------------------------------------------------------- result */
/* RESULT frame payload: the fixed part goes in meta, the data follows. */
void mp__result_encode(mp__buf *meta, int status, int task_code, const char *message);
/* Fills *res with copies the caller clears; MP_EPROTO if malformed. */
int mp__result_decode(const uint8_t *p, size_t len, mp_result *res);
/* Sets *res to a failure with a formatted message (no data). */
void mp__result_fail(mp_result *res, int status, const char *fmt, ...) MPROC_PRINTF(3, 4);
char *mp__strdup(const char *s);

#endif
