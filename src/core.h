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
  MP__KIND_MANAGER = 9,
  MP__KIND_OSHANDLE = 10
};

typedef struct mp__object_ops {
  int kind;
  const char *what;                    /* "connection", in messages */
  /* Parent side: the handles a child needs and the bytes describing it. */
  int (*export_to)(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
  /* Frees the object in this process: called when its last reference
   * goes (the user's mp_X_free, a pool that held it, a worker's call). */
  void (*destroy)(mp_object *o);
  /* Optional (NULL: nothing to do): in a worker, after each task, puts
   * right what the task left behind in the object, so the next task (or
   * process) does not inherit it: a lock this thread still holds. */
  void (*after_task)(mp_object *o);
} mp__object_ops;

/* Every object is counted: the user holds one reference (mp_X_free drops
 * it), and whatever must outlive the user's free holds another (a pool
 * re-exports its objects to every replacement worker; a condition keeps
 * the lock it was given). The last reference destroys the object. */
struct mp_object {
  const mp__object_ops *ops;
  int borrowed;           /* rebuilt in a worker: owned by the call, not the user */
  volatile uint32_t refs; /* references; the object is destroyed at 0 */
};

/* Sets o up with its kind's ops and one reference (the creator's). */
void mp__object_init(mp_object *o, const mp__object_ops *ops);
/* Takes one more reference; returns o. */
mp_object *mp__object_retain(mp_object *o);
/* Drops one reference (NULL is fine); the last one destroys o. */
void mp__object_unref(mp_object *o);
/* What mp_X_free does: drops the user's reference, unless the object
 * was rebuilt in a worker and so belongs to the call. */
void mp__object_free(mp_object *o);
/* "a lock", "an event", "shared memory": a kind in a sentence. */
const char *mp__kind_phrase(int kind);

/* Child side: rebuild an object of kind from its handles (child values)
 * and blob. */
int mp__object_import(uint32_t kind, const mp__handle *handles, size_t nhandles,
                      const uint8_t *blob, size_t bloblen, mp_object **out);
/* Releases a rebuilt object when the worker is done with it. */
void mp__object_release(mp_object *o);
/* After a task returned, in the worker that ran it: each object's kind
 * cleans up what the task left (a Lock or RLock this thread still holds
 * is let go so that its next acquirer gets MP_EOWNERDEAD, as if the
 * holder had died). Called by the worker once per task. */
void mp__objects_after_task(mp_object **objects, size_t n);
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
  mp__handle result_handle;   /* a Process's result area */
  /* Small results (most map items) are kept here: no malloc per item. */
  uint64_t result_inline[8];
};
void mp__call_release(mp_call *call);
/* For tests that play a hostile child: writes bytes over the start of
 * its result area, as a task scribbling on it would. */
int mp__call_scribble_result(mp_call *call, const void *bytes, size_t n);
/* The i-th object of a call if it is of kind; otherwise NULL with
 * mp_last_error() saying, for api, what is wrong. */
mp_object *mp__call_object(mp_call *call, size_t i, int kind, const char *api);

/* --------------------------------------------------------------- result */
/* RESULT frame payload: the fixed part goes in meta, the data follows. */
void mp__result_encode(mp__buf *meta, int status, int task_code, const char *message);
/* Fills *res with copies the caller clears; MP_EPROTO if malformed. */
int mp__result_decode(const uint8_t *p, size_t len, mp_result *res);
/* Sets *res to a failure with a formatted message (no data). */
void mp__result_fail(mp_result *res, int status, const char *fmt, ...) MPROC_PRINTF(3, 4);
char *mp__strdup(const char *s);

#endif
