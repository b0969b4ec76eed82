/* A pool worker's life: run the initializer once, then run chunks of items
 * as TASK frames arrive, answering each with one CHUNK frame, until the
 * pool closes the task pipe (or the per-worker budget is spent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "pool_wire.h"
#include "wire.h"

static void reset_call(mp_call *call) {
  mp__call_release(call);
  call->arg = NULL;
  call->arg_len = 0;
}

/* An initializer that fails ends the worker with a RESULT frame saying
 * why; the pool then fails the work rather than restart it forever. */
static int run_initializer(const mp__boot *b, mp_call *call) {
  if (!b->task[0]) return MP_OK;
  mp_task_fn fn = mp__task_lookup(b->task);
  mp__buf meta;
  uint8_t room[256];
  mp__buf_init_on(&meta, room, sizeof room);
  int status = MP_ENOTASK, code = 0;
  char text[160];
  snprintf(text, sizeof text, "initializer \"%s\" is not registered in the worker", b->task);
  const char *message = text;
  if (fn) {
    call->arg = b->arg;
    call->arg_len = b->arg_len;
    code = fn(call);
    status = code == 0 ? MP_OK : MP_ETASK;
    snprintf(text, sizeof text, "initializer \"%s\" returned %d", b->task, code);
    message = call->message ? call->message : text;
  }
  int failed = status != MP_OK;
  if (failed) {
    mp__result_encode(&meta, status, code, message);
    mp__frame_write(b->result, MP__FRAME_RESULT, 0, meta.data, meta.len, NULL, 0);
  }
  mp__buf_release(&meta);
  reset_call(call);
  return failed ? MP_ETASK : MP_OK;
}

static void run_chunk(const mp__task_chunk *c, mp_call *call, mp__chunk_builder *out) {
  mp_task_fn fn = mp__task_lookup(c->task);
  char text[160];
  mp__chunk_builder_reset(out);
  for (uint32_t i = 0; i < c->n; i++) {
    if (!fn) {
      snprintf(text, sizeof text, "no task registered under \"%s\" in the worker", c->task);
      mp__chunk_builder_add(out, MP_ENOTASK, 0, text, NULL, 0);
      continue;
    }
    call->arg = mp__task_chunk_item(c, i, &call->arg_len);
    call->index = (size_t)(c->first + i);
    int ret = fn(call);
    if (ret == 0) {
      mp__chunk_builder_add_ok(out, call->result ? call->result : "", call->result_len);
    } else {
      snprintf(text, sizeof text, "task \"%s\" returned %d", c->task, ret);
      mp__chunk_builder_add(out, MP_ETASK, ret, call->message ? call->message : text, NULL, 0);
    }
    /* Most items leave nothing to free: skip the calls then. */
    if (call->message || call->result != (void *)call->result_inline) mp__call_release(call);
    call->result = NULL;
    call->result_len = 0;
  }
}

int mp__pool_worker_loop(const mp__boot *b, mp_call *call) {
  if (run_initializer(b, call) != MP_OK) return 1;
  mp__frame_reader reader;
  mp__chunk_builder out;
  memset(&out, 0, sizeof out);
  mp__frame_reader_init(&reader, b->tasks, MP__POOL_FRAME_MAX);
  /* This loop is the task pipe's only reader, and it always waits. */
  (void)mp__handle_reads_block(b->tasks);
  uint32_t chunks = 0;
  int code = 0;
  for (;;) {
    mp__frame_header h;
    void *payload = NULL;
    mp__task_chunk c;
    int rc = mp__frame_read_header(&reader, MP_FOREVER, &h);
    if (rc == MP_ECLOSED) break; /* the pool is done with us */
    if (rc == MP_OK && h.type != MP__FRAME_TASK) rc = mp__set_error(MP_EPROTO, "worker: unexpected frame");
    if (rc == MP_OK) rc = mp__frame_read_body(&reader, NULL, MP_FOREVER, &payload);
    if (rc == MP_OK) rc = mp__task_chunk_decode(payload, (size_t)h.len, &c);
    if (rc != MP_OK) {
      fprintf(stderr, "mproc pool worker %d: %s\n", b->worker_id, mp_last_error());
      free(payload);
      code = MP__EXIT_BAD_BOOT;
      break;
    }
    run_chunk(&c, call, &out);
    mp__task_chunk_release(&c);
    free(payload);
    if (mp__chunk_builder_send(&out, b->result, h.id) != MP_OK) break; /* the pool is gone */
    if (b->max_tasks && ++chunks >= b->max_tasks) break;
  }
  mp__chunk_builder_release(&out);
  mp__frame_reader_release(&reader);
  mp__handle_close(b->tasks);
  return code;
}
