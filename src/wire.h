/* Frames: every message between processes is a fixed header, then the
 * payload. The reader checks magic, version, type and length against
 * limits before it keeps a single payload byte, and never allocates more
 * than has actually arrived, so a hostile or broken peer can neither crash
 * the reader nor make it reserve what a header merely claims. */
#ifndef MPROC_WIRE_H
#define MPROC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define MP__FRAME_MAGIC 0x4352504Du /* "MPRC" in little-endian bytes */
#define MP__WIRE_VERSION 1
#define MP__FRAME_HEADER_SIZE 24
#define MP__READ_AHEAD 512

enum mp__frame_type {
  MP__FRAME_BOOT = 1,    /* parent -> spawned child: what to run */
  MP__FRAME_RESULT = 2,  /* worker -> parent: a task's outcome */
  MP__FRAME_DATA = 3,    /* a Connection message */
  /* 4 and 5 were the pool's, which no longer uses pipes: never sent. */
  MP__FRAME_MGR_REQUEST = 6, /* manager client -> server: one call */
  MP__FRAME_MGR_REPLY = 7,   /* manager server -> client: its outcome */
  MP__FRAME_MGR_DOORBELL = 8, /* manager, either way: look at your lane (no body) */
  MP__FRAME_TYPE_MAX = 8
};

typedef struct mp__frame_header {
  uint8_t type;
  uint16_t flags;
  uint64_t id;
  uint64_t len;
} mp__frame_header;

void mp__frame_header_encode(const mp__frame_header *h, uint8_t out[MP__FRAME_HEADER_SIZE]);
/* MP_OK, MP_EPROTO (bad magic/version/type) or MP_ETOOBIG (len > max_len). */
int mp__frame_header_decode(const uint8_t in[MP__FRAME_HEADER_SIZE], size_t max_len,
                            mp__frame_header *h);

/* Writes one frame whose payload is part1 then part2 (either may be empty),
 * blocking. Small frames go out in one write. */
int mp__frame_write(mp__handle h, int type, uint64_t id, const void *part1, size_t len1,
                    const void *part2, size_t len2);

/* Reads frames from one handle, keeping partial progress across timeouts
 * so a caller can give up and come back without losing or tearing
 * anything. One reader per handle. */
typedef struct mp__frame_reader {
  mp__handle h;
  size_t max_len;
  int state;                       /* enum in wire.c */
  int error;                       /* sticky MP_EPROTO / MP_ECLOSED once broken */
  mp__frame_header header;
  uint8_t head[MP__FRAME_HEADER_SIZE];
  size_t head_got;
  uint8_t *body;                   /* internal body buffer, grows as bytes arrive */
  size_t body_cap, body_got;
  size_t ahead_off, ahead_len;
  /* 1: never read past the frame being read (see mp__frame_reader_init). */
  int exact;
  /* The most the reader allocates for one body (SIZE_MAX; tests lower it
   * to see what running out of memory does). */
  size_t max_alloc;
  /* Read-ahead, inline so a reader allocates nothing for small frames:
   * a header and a small payload arrive in one read. */
  uint8_t ahead[MP__READ_AHEAD];
} mp__frame_reader;

/* A reader with read-ahead: fewer system calls, but bytes past the frame
 * it delivers may sit in this process. Set exact = 1 after init for a
 * handle other processes may read next (a Connection end can be handed
 * on): it then reads a frame's header, then its body, and nothing more. */
void mp__frame_reader_init(mp__frame_reader *r, mp__handle h, size_t max_len);
void mp__frame_reader_release(mp__frame_reader *r);
/* Until a whole header has arrived: MP_OK and *h, MP_ETIMEDOUT, MP_ECLOSED
 * (end of stream: the peer is gone; if that happened inside a frame, the
 * partial frame is dropped, never delivered), MP_EPROTO (malformed). Calling it again returns the same header until the
 * body is taken. */
int mp__frame_read_header(mp__frame_reader *r, double timeout, mp__frame_header *h);
/* Reads the body of the current frame. With dst (at least header.len
 * bytes, non-NULL even for 0) the body lands there; without, *out receives
 * a malloc'd copy the caller frees (a 0-byte body gives a non-NULL 1-byte
 * allocation). MP_ETIMEDOUT, and MP_ENOMEM, keep the progress for the next
 * call. */
int mp__frame_read_body(mp__frame_reader *r, void *dst, double timeout, void **out);
/* Anything already buffered (a later read would not block on its first byte)? */
int mp__frame_reader_pending(const mp__frame_reader *r);
/* Tries one read into the read-ahead buffer: MP_OK if bytes arrived. An
 * exact reader takes in the whole next frame instead: MP_OK once it is
 * all here (reading it will not block), MP_ETIMEDOUT with the progress
 * kept, or what reading it would return (MP_ECLOSED, MP_EPROTO,
 * MP_ENOMEM). */
int mp__frame_reader_fill(mp__frame_reader *r, double timeout);

#endif
