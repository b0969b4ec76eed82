/* Pipe / Connection: framed messages over one or two OS pipes. A duplex
 * pair is two one-way pipes, the same shape on every platform. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "wait.h"
#include "deadline.h"
#include "kinds.h"
#include "wire.h"

struct mp_conn {
  mp_object base;
  mp__handle rd, wr;            /* MP__NO_HANDLE where this end cannot */
  mp__frame_reader reader;
};

enum { CONN_CAN_READ = 1, CONN_CAN_WRITE = 2 };

static int conn_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob);
static void conn_destroy(mp_object *o) { mp__conn_release((mp_conn *)o); }
static const mp__object_ops conn_ops = {MP__KIND_CONN, "connection", conn_export, conn_destroy, NULL};

static mp_conn *conn_new(mp__handle rd, mp__handle wr) {
  mp_conn *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  mp__object_init(&c->base, &conn_ops);
  c->rd = rd;
  c->wr = wr;
  mp__frame_reader_init(&c->reader, rd, MP_MAX_MESSAGE);
  /* An end can be handed on to another process, which must find every
   * message this one did not receive: never read past the one it takes. */
  c->reader.exact = 1;
  return c;
}

int mp_pipe(mp_conn **a, mp_conn **b, int duplex) {
  if (a) *a = NULL;
  if (b) *b = NULL;
  if (!a || !b) return mp__set_error(MP_EINVAL, "mp_pipe: a and b must not be NULL");
  int rc = mp__require_main("mp_pipe");
  if (rc != MP_OK) return rc;
  mp__handle p1r = MP__NO_HANDLE, p1w = MP__NO_HANDLE, p2r = MP__NO_HANDLE, p2w = MP__NO_HANDLE;
  if ((rc = mp__pipe(&p1r, &p1w)) != MP_OK) goto fail;
  if (duplex && (rc = mp__pipe(&p2r, &p2w)) != MP_OK) goto fail;
  /* a reads what b writes on pipe 1; in duplex, b reads what a writes on pipe 2. */
  *a = conn_new(p1r, p2w);
  *b = conn_new(p2r, p1w);
  if (!*a || !*b) {
    free(*a);
    free(*b);
    *a = *b = NULL;
    rc = mp__set_error(MP_ENOMEM, "mp_pipe: out of memory");
    goto fail;
  }
  return MP_OK;
fail:
  mp__handle_close(p1r);
  mp__handle_close(p1w);
  mp__handle_close(p2r);
  mp__handle_close(p2w);
  return mp__error_in("mp_pipe", rc);
}

int mp_conn_send(mp_conn *c, const void *data, size_t len) {
  if (!c || (!data && len)) return mp__set_error(MP_EINVAL, "mp_conn_send: NULL argument");
  if (c->wr == MP__NO_HANDLE)
    return mp__set_error(MP_ESTATE, "mp_conn_send: this end of a one-way pipe only receives");
  if (len > MP_MAX_MESSAGE)
    return mp__set_error(MP_ETOOBIG, "mp_conn_send: %llu bytes is over MP_MAX_MESSAGE (%llu)",
                         (unsigned long long)len, (unsigned long long)MP_MAX_MESSAGE);
  return mp__error_in("mp_conn_send", mp__frame_write(c->wr, MP__FRAME_DATA, 0, data, len, NULL, 0));
}

/* The frame reader (shared with the pool) words its failures for itself:
 * say which call met them. */
static int named(const char *api, int rc) { return mp__error_in(api, rc); }

static int check_readable(mp_conn *c, const char *api, double timeout) {
  if (!c) return mp__set_error(MP_EINVAL, "%s: NULL connection", api);
  if (c->rd == MP__NO_HANDLE)
    return mp__set_error(MP_ESTATE, "%s: this end of a one-way pipe only sends", api);
  return mp__timeout_check(api, timeout);
}

/* A frame of another type on a Connection means the peer is not ours. */
static int next_data_header(mp_conn *c, double timeout, mp__frame_header *h) {
  int rc = mp__frame_read_header(&c->reader, timeout, h);
  if (rc == MP_ECLOSED) return mp__set_error(MP_ECLOSED, "connection closed: the peer is gone");
  if (rc == MP_OK && h->type != MP__FRAME_DATA) {
    c->reader.error = MP_EPROTO;
    return mp__set_error(MP_EPROTO, "malformed frame: type %u on a connection", (unsigned)h->type);
  }
  return rc;
}

int mp_conn_recv(mp_conn *c, void **data, size_t *len, double timeout) {
  if (data) *data = NULL;
  if (len) *len = 0;
  int rc = check_readable(c, "mp_conn_recv", timeout);
  if (rc != MP_OK) return rc;
  if (!data || !len) return mp__set_error(MP_EINVAL, "mp_conn_recv: data and len must not be NULL");
  double deadline = mp__deadline(timeout);
  mp__frame_header h;
  if ((rc = next_data_header(c, mp__timeout_value(timeout), &h)) != MP_OK) return named("mp_conn_recv", rc);
  if ((rc = mp__frame_read_body(&c->reader, NULL, mp__remaining(deadline), data)) != MP_OK)
    return named("mp_conn_recv", rc);
  *len = (size_t)h.len;
  return MP_OK;
}

int mp_conn_recv_into(mp_conn *c, void *buf, size_t cap, size_t *len, double timeout) {
  if (len) *len = 0;
  int rc = check_readable(c, "mp_conn_recv_into", timeout);
  if (rc != MP_OK) return rc;
  if (!len || (!buf && cap)) return mp__set_error(MP_EINVAL, "mp_conn_recv_into: NULL argument");
  double deadline = mp__deadline(timeout);
  mp__frame_header h;
  if ((rc = next_data_header(c, mp__timeout_value(timeout), &h)) != MP_OK) return named("mp_conn_recv_into", rc);
  *len = (size_t)h.len;
  if (h.len > cap)
    return mp__set_error(MP_ETOOBIG, "mp_conn_recv_into: the message has %llu bytes, the buffer %llu",
                         (unsigned long long)h.len, (unsigned long long)cap);
  static unsigned char nowhere; /* where a 0-byte message lands when buf is NULL */
  return named("mp_conn_recv_into", mp__frame_read_body(&c->reader, buf ? buf : &nowhere, mp__remaining(deadline), NULL));
}

/* A predicate: 1 or 0, never an error code (mproc.h's conventions). Its
 * question is whether a receive would return at once; with an argument
 * it cannot use, a receive would, with the error, so the answer is 1 and
 * the receive reports it. */
int mp_conn_poll(mp_conn *c, double timeout) {
  int rc = check_readable(c, "mp_conn_poll", timeout);
  if (rc != MP_OK) return 1;
  /* Takes the whole next message in (the next receive hands it out), so
   * 1 means a receive would not block, not that some bytes came. */
  rc = mp__frame_reader_fill(&c->reader, mp__timeout_value(timeout));
  if (rc == MP_ETIMEDOUT) return 0;
  named("mp_conn_poll", rc); /* a message, or the failure the receive will report */
  return 1;
}

void mp__conn_release(mp_conn *c) {
  if (!c) return;
  mp__frame_reader_release(&c->reader);
  mp__handle_close(c->rd);
  mp__handle_close(c->wr);
  free(c);
}

mp_conn *mp_conn_free(mp_conn *c) {
  /* An end rebuilt in a worker belongs to the call; the worker closes it.
   * One a pool was given stays open until the pool is freed. */
  if (c) mp__object_free(&c->base);
  return NULL;
}

mp_object *mp_conn_obj(mp_conn *c) { return c ? &c->base : NULL; }

void mp__conn_limit_alloc(mp_conn *c, size_t most) { c->reader.max_alloc = most; }

mp_conn *mp_call_conn(mp_call *call, size_t i) {
  return (mp_conn *)mp__call_object(call, i, MP__KIND_CONN, "mp_call_conn");
}

static int conn_export(mp_object *o, mp__handle *handles, size_t *nhandles, mp__buf *blob) {
  mp_conn *c = (mp_conn *)o;
  uint32_t flags = 0;
  size_t n = 0;
  if (c->rd != MP__NO_HANDLE) {
    flags |= CONN_CAN_READ;
    handles[n++] = c->rd;
  }
  if (c->wr != MP__NO_HANDLE) {
    flags |= CONN_CAN_WRITE;
    handles[n++] = c->wr;
  }
  *nhandles = n;
  mp__buf_put_u32(blob, flags);
  return MP_OK;
}

int mp__conn_import(const mp__handle *handles, size_t nhandles, mp__rd *r, mp_object **out) {
  uint32_t flags = mp__rd_u32(r);
  size_t want = (size_t)((flags & CONN_CAN_READ) != 0) + (size_t)((flags & CONN_CAN_WRITE) != 0);
  if (r->failed || r->off != r->len || (flags & ~3u) || want == 0 || want != nhandles)
    return mp__set_error(MP_EPROTO, "malformed bootstrap message: connection description");
  size_t k = 0;
  mp__handle rd = (flags & CONN_CAN_READ) ? handles[k++] : MP__NO_HANDLE;
  mp__handle wr = (flags & CONN_CAN_WRITE) ? handles[k++] : MP__NO_HANDLE;
  mp_conn *c = conn_new(rd, wr);
  if (!c) return mp__set_error(MP_ENOMEM, "out of memory rebuilding a connection");
  c->base.borrowed = 1;
  *out = &c->base;
  return MP_OK;
}

int mp__conn_receives(const mp_conn *c) { return c->rd != MP__NO_HANDLE; }

mp__handle mp__conn_wait_handle(const mp_conn *c) { return mp__read_wait_handle(c->rd); }

int mp_conn_fileno(mp_conn *c, mp_os_handle *out) {
  if (out) *out = (mp_os_handle)MP__NO_HANDLE;
  if (!c || !out) return mp__set_error(MP_EINVAL, "mp_conn_fileno: NULL argument");
  if (c->rd == MP__NO_HANDLE) return mp__set_error(MP_ESTATE, "mp_conn_fileno: this end of a one-way pipe only sends");
  mp__handle h = mp__read_wait_handle(c->rd);
  if (h == MP__NO_HANDLE)
    return mp__set_error(MP_ENOTSUP, "mp_conn_fileno: a connection has no waitable handle on this platform");
  *out = (mp_os_handle)h;
  return MP_OK;
}
