/* A Process's result: a block of shared memory the parent makes (and does
 * not map) at start and the child writes once, just before it exits. So
 * a child never waits for its parent to read (a result of any size is
 * written and the child is gone: is_alive turns 0), and no other child of
 * the parent inherits a mapping of it. The parent maps it once the child
 * has ended; a child that died before it was done left `done` 0.
 *
 * Layout: the header below, the text at 64 (up to 1023 bytes and a NUL),
 * the result's bytes at 1088. Written by another process: the reader
 * bounds every length by its own sizes. */
#ifndef MPROC_RESULT_AREA_H
#define MPROC_RESULT_AREA_H

#include "core.h"

#define MP__RESULT_MAGIC 0x53455250u /* "PRES" */
#define MP__RESULT_TEXT_AT 64
#define MP__RESULT_TEXT_MAX 1023
#define MP__RESULT_DATA_AT 1088
/* Address space for one result of up to MP_MAX_MESSAGE, memory only for
 * what is written. A build may reserve less (as MP__QUEUE_RING_BYTES):
 * its results are then limited to about that. */
#ifndef MP__RESULT_AREA_BYTES
#  if UINTPTR_MAX > 0xFFFFFFFFu
#    define MP__RESULT_AREA_BYTES (MP_MAX_MESSAGE + MP__RESULT_DATA_AT + 4096)
#  else
#    define MP__RESULT_AREA_BYTES ((size_t)256 << 20)
#  endif
#endif

typedef struct mp__result_head {
  uint32_t magic;
  volatile uint32_t done;  /* 1 once everything else is written */
  int32_t status, code;
  uint32_t text_len;
  uint32_t reserved;
  uint64_t len;
} mp__result_head;

/* The parent: a new area, unmapped. */
int mp__result_area_new(mp__handle *h);
/* The child, before its task runs: maps the area, so the outcome is
 * written even if the task closed every descriptor it did not open. */
int mp__result_area_open(mp__handle h);
/* Unmaps what mp__result_area_open mapped (a write does it too), so no
 * exit path leaves a mapping of MP__RESULT_AREA_BYTES behind for a leak
 * checker to read through. */
void mp__result_area_close(void);
/* The child: writes its outcome into the area. MP_ETOOBIG if len does not
 * fit (then a failure saying so is written instead). */
int mp__result_area_write(mp__handle h, int status, int code, const char *text, const void *data, size_t len);
/* The parent, once the child has ended: MP_OK and *res filled; MP_ECLOSED
 * if the child wrote nothing whole; MP_EPROTO if what it wrote is not a
 * result (mp_last_error says what). */
int mp__result_area_read(mp__handle h, mp_result *res);

#endif
