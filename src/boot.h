/* The bootstrap message: everything a new worker needs to know, in bytes,
 * because a spawned child shares no memory with its parent. A fork child
 * decodes the very same bytes, so both start methods follow one path.
 *
 * Payload of a BOOT frame: u32 meta_len, meta (below), then the argument.
 * The spawned child's command line carries only a token naming the handle
 * to read that frame from. */
#ifndef MPROC_BOOT_H
#define MPROC_BOOT_H

#include "core.h"

#define MP__TOKEN_PREFIX "--mproc-worker="
#define MP__TOKEN_MAX 64

enum mp__role { MP__ROLE_PROCESS = 1, MP__ROLE_POOL_WORKER = 2 };

typedef struct mp__boot_object {
  uint32_t kind;
  uint32_t nhandles;
  mp__handle handles[MP__OBJECT_MAX_HANDLES];
  const uint8_t *blob;
  size_t bloblen;
} mp__boot_object;

typedef struct mp__boot {
  uint32_t role;
  int32_t worker_id;
  char task[MP__TASK_NAME_MAX + 1];  /* the task; a pool worker: its initializer or "" */
  mp__handle result;            /* a Process's RESULT frames; MP__NO_HANDLE in a pool worker */
  uint32_t max_tasks;           /* a pool worker exits after this many chunks; 0: never */
  /* A pool worker's arena (src/pool_arena.h): its handles and description. */
  uint32_t nchannel;
  mp__handle channel[MP__OBJECT_MAX_HANDLES];
  const uint8_t *channel_blob;
  size_t channel_bloblen;
  size_t nobjects;
  mp__boot_object *objects;     /* decode: malloc'd; blobs point into meta */
  const uint8_t *arg;
  size_t arg_len;
} mp__boot;

void mp__boot_encode(const mp__boot *b, mp__buf *meta);
/* MP_OK or MP_EPROTO; on success release with mp__boot_release. */
int mp__boot_decode(const uint8_t *meta, size_t meta_len, const uint8_t *arg, size_t arg_len,
                    mp__boot *out);
/* Splits a BOOT payload into meta and argument, then decodes. */
int mp__boot_decode_payload(const uint8_t *payload, size_t len, mp__boot *out);
void mp__boot_release(mp__boot *b);

/* "--mproc-worker=1:<handle>" (version 1). */
void mp__token_format(mp__handle boot, char out[MP__TOKEN_MAX]);
/* MP_OK and *boot, or MP_EPROTO for anything else. */
int mp__token_parse(const char *arg, mp__handle *boot);

/* Runs the worker a BOOT message describes; returns the exit code. */
int mp__worker_run(const mp__boot *b);
/* A pool worker's loop, once its objects are rebuilt (src/pool_worker.c);
 * if that failed (import_rc), it tells the pool why and ends. */
int mp__pool_worker_loop(const mp__boot *b, mp_call *call, int import_rc, const char *import_text);

/* Starts a worker (src/launch.c). The caller makes the pipes and keeps its
 * own ends; the child's ends given here are handed over, not closed. */
typedef struct mp__launch_spec {
  int method;                   /* resolved: MP_START_FORK or MP_START_SPAWN */
  uint32_t role;
  int worker_id;
  const char *task;
  const void *arg;
  size_t arg_len;
  mp_object *const *objects;
  size_t nobjects;
  mp__handle result_wr;         /* a Process only */
  uint32_t max_tasks;
  /* A pool worker's arena: handles handed over as they are, and bytes. */
  const mp__handle *channel;
  size_t nchannel;
  const uint8_t *channel_blob;
  size_t channel_bloblen;
} mp__launch_spec;
int mp__launch(const mp__launch_spec *spec, mp__child **child);

#define MP__EXIT_BAD_BOOT 70   /* the bootstrap could not be read */

#endif
