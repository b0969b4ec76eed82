#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "deadline.h"
#include "error.h"

enum { READ_HEADER = 0, READ_BODY = 1 };
enum { AHEAD_SIZE = MP__READ_AHEAD, BODY_FIRST_CHUNK = 64 * 1024 };

void mp__frame_header_encode(const mp__frame_header *h, uint8_t out[MP__FRAME_HEADER_SIZE]) {
  mp__store_u32(out, MP__FRAME_MAGIC);
  out[4] = MP__WIRE_VERSION;
  out[5] = h->type;
  out[6] = (uint8_t)h->flags;
  out[7] = (uint8_t)(h->flags >> 8);
  mp__store_u64(out + 8, h->id);
  mp__store_u64(out + 16, h->len);
}

int mp__frame_header_decode(const uint8_t in[MP__FRAME_HEADER_SIZE], size_t max_len,
                            mp__frame_header *h) {
  uint32_t magic = mp__load_u32(in);
  if (magic != MP__FRAME_MAGIC)
    return mp__set_error(MP_EPROTO, "malformed frame: bad magic 0x%08lx", (unsigned long)magic);
  if (in[4] != MP__WIRE_VERSION)
    return mp__set_error(MP_EPROTO, "malformed frame: wire version %u, expected %u",
                         (unsigned)in[4], (unsigned)MP__WIRE_VERSION);
  if (in[5] == 0 || in[5] > MP__FRAME_TYPE_MAX)
    return mp__set_error(MP_EPROTO, "malformed frame: unknown type %u", (unsigned)in[5]);
  h->type = in[5];
  h->flags = (uint16_t)(in[6] | in[7] << 8);
  h->id = mp__load_u64(in + 8);
  h->len = mp__load_u64(in + 16);
  if (h->len > (uint64_t)max_len)
    return mp__set_error(MP_ETOOBIG, "malformed frame: payload of %llu bytes is over the %llu-byte limit",
                         (unsigned long long)h->len, (unsigned long long)max_len);
  return MP_OK;
}

int mp__frame_write(mp__handle h, int type, uint64_t id, const void *part1, size_t len1,
                    const void *part2, size_t len2) {
  mp__frame_header fh = {(uint8_t)type, 0, id, (uint64_t)len1 + len2};
  uint8_t head[MP__FRAME_HEADER_SIZE];
  mp__frame_header_encode(&fh, head);
  mp__iovec parts[3] = {{head, sizeof head}, {part1, len1}, {part2, len2}};
  return mp__write_parts(h, parts, 3);
}

void mp__frame_reader_init(mp__frame_reader *r, mp__handle h, size_t max_len) {
  memset(r, 0, sizeof *r);
  r->h = h;
  r->max_len = max_len;
  r->max_alloc = SIZE_MAX;
}

static void drop_body(mp__frame_reader *r) {
  free(r->body);
  r->body = NULL;
  r->body_cap = r->body_got = 0;
}

void mp__frame_reader_release(mp__frame_reader *r) {
  drop_body(r);
  r->ahead_off = r->ahead_len = 0;
}

static int broken(mp__frame_reader *r, int code) {
  r->error = code;
  return code;
}

/* Bytes for the frame: first what the read-ahead holds; a large request
 * reads straight into dst, a small one refills the read-ahead. An exact
 * reader reads only what the frame still needs. */
static int source_read(mp__frame_reader *r, uint8_t *dst, size_t cap, size_t *got, double deadline) {
  if (r->exact) return mp__read(r->h, dst, cap, got, mp__remaining(deadline));
  if (r->ahead_off == r->ahead_len && cap < AHEAD_SIZE) {
    r->ahead_off = r->ahead_len = 0;
    int rc = mp__read(r->h, r->ahead, AHEAD_SIZE, &r->ahead_len, mp__remaining(deadline));
    if (rc != MP_OK) return rc;
  }
  if (r->ahead_off < r->ahead_len) {
    size_t n = r->ahead_len - r->ahead_off;
    if (n > cap) n = cap;
    memcpy(dst, r->ahead + r->ahead_off, n);
    r->ahead_off += n;
    *got = n;
    return MP_OK;
  }
  return mp__read(r->h, dst, cap, got, mp__remaining(deadline));
}

int mp__frame_read_header(mp__frame_reader *r, double timeout, mp__frame_header *h) {
  if (r->error) return r->error;
  if (r->state == READ_BODY) {
    *h = r->header;
    return MP_OK;
  }
  double deadline = mp__deadline(timeout);
  while (r->head_got < MP__FRAME_HEADER_SIZE) {
    size_t got = 0;
    int rc = source_read(r, r->head + r->head_got, MP__FRAME_HEADER_SIZE - r->head_got, &got, deadline);
    if (rc == MP_ECLOSED && r->head_got > 0)
      return broken(r, mp__set_error(MP_ECLOSED, "the peer went away in the middle of a message header"));
    if (rc == MP_ECLOSED) return broken(r, MP_ECLOSED);
    if (rc != MP_OK) return rc;
    r->head_got += got;
  }
  int rc = mp__frame_header_decode(r->head, r->max_len, &r->header);
  if (rc != MP_OK) return broken(r, MP_EPROTO);
  r->state = READ_BODY;
  r->body_got = 0;
  *h = r->header;
  return MP_OK;
}

static void frame_done(mp__frame_reader *r) {
  r->state = READ_HEADER;
  r->head_got = 0;
}

/* Grows the internal body buffer in step with what has arrived. Out of
 * memory breaks nothing: what arrived stays, for a later call. */
static int grow_body(mp__frame_reader *r, size_t len) {
  size_t cap = r->body_cap ? r->body_cap * 2 : BODY_FIRST_CHUNK;
  if (cap < r->body_got + 1) cap = r->body_got + 1;
  if (cap > len) cap = len;
  uint8_t *p = cap <= r->max_alloc ? realloc(r->body, cap ? cap : 1) : NULL;
  if (!p) return mp__set_error(MP_ENOMEM, "out of memory for a %llu-byte message (it stays, to be received again)",
                               (unsigned long long)len);
  r->body = p;
  r->body_cap = cap;
  return MP_OK;
}

static int stream_ended_in_body(mp__frame_reader *r) {
  return broken(r, mp__set_error(MP_ECLOSED, "the peer went away in the middle of a message (%llu of %llu bytes)",
                                 (unsigned long long)r->body_got, (unsigned long long)r->header.len));
}

/* Takes the current frame's body into the internal buffer, as far as it
 * has arrived by the deadline. */
static int buffer_body(mp__frame_reader *r, size_t len, double deadline) {
  while (r->body_got < len) {
    int rc;
    if (r->body_got == r->body_cap && (rc = grow_body(r, len)) != MP_OK) return rc;
    size_t n = 0;
    rc = source_read(r, r->body + r->body_got, r->body_cap - r->body_got, &n, deadline);
    if (rc == MP_ECLOSED) return stream_ended_in_body(r);
    if (rc != MP_OK) return rc;
    r->body_got += n;
  }
  return MP_OK;
}

/* Straight into the caller's memory, after what was buffered: no copy of
 * the rest, no allocation. */
static int body_into(mp__frame_reader *r, uint8_t *dst, size_t len, double deadline) {
  size_t had = r->body_got, got = had;
  if (had) memcpy(dst, r->body, had);
  while (got < len) {
    size_t n = 0;
    int rc = source_read(r, dst + got, len - got, &n, deadline);
    if (rc == MP_ECLOSED) {
      r->body_got = got;
      return stream_ended_in_body(r);
    }
    if (rc != MP_OK) {
      if (got == had) return rc;
      /* Keep the partial bytes: the next call may bring another buffer. */
      if (got > r->body_cap) {
        uint8_t *p = got <= r->max_alloc ? realloc(r->body, got) : NULL;
        if (!p)
          return broken(r, mp__set_error(MP_ENOMEM, "out of memory to keep a message cut short by a timeout: "
                                                    "the connection is broken"));
        r->body = p;
        r->body_cap = got;
      }
      memcpy(r->body + had, dst + had, got - had);
      r->body_got = got;
      return rc;
    }
    got += n;
  }
  drop_body(r);
  return MP_OK;
}

int mp__frame_read_body(mp__frame_reader *r, void *dst, double timeout, void **out) {
  mp__frame_header h;
  int rc = mp__frame_read_header(r, timeout, &h);
  if (rc != MP_OK) return rc;
  double deadline = mp__deadline(timeout);
  size_t len = (size_t)h.len;
  if (dst) {
    if ((rc = body_into(r, dst, len, deadline)) != MP_OK) return rc;
  } else {
    if ((rc = buffer_body(r, len, deadline)) != MP_OK) return rc;
    if (!r->body && !(r->body = malloc(1))) return mp__set_error(MP_ENOMEM, "out of memory");
    *out = r->body;
    r->body = NULL;
    r->body_cap = r->body_got = 0;
  }
  frame_done(r);
  return MP_OK;
}

int mp__frame_reader_pending(const mp__frame_reader *r) {
  return r->ahead_off < r->ahead_len || r->head_got > 0 || r->state == READ_BODY;
}

int mp__frame_reader_fill(mp__frame_reader *r, double timeout) {
  if (r->error) return r->error;
  if (r->exact) {
    /* The whole next frame, so that reading it would not block. */
    mp__frame_header h;
    double deadline = mp__deadline(timeout);
    int rc = mp__frame_read_header(r, timeout, &h);
    return rc != MP_OK ? rc : buffer_body(r, (size_t)h.len, deadline);
  }
  if (mp__frame_reader_pending(r)) return MP_OK;
  r->ahead_off = r->ahead_len = 0;
  return mp__read(r->h, r->ahead, AHEAD_SIZE, &r->ahead_len, timeout);
}
