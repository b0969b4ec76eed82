#include "pool_wire.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define NO_MESSAGE 0xFFFFFFFFu
#define MESSAGE_MAX (64u * 1024u)

void mp__task_chunk_encode_head(mp__buf *b, const char *task, uint64_t first, uint32_t n, int packed,
                                size_t item_size) {
  mp__buf_put_str(b, task);
  mp__buf_put_u64(b, first);
  mp__buf_put_u32(b, n);
  mp__buf_put_u32(b, packed ? 1u : 0u);
  if (packed) mp__buf_put_u64(b, (uint64_t)item_size);
}

int mp__task_chunk_decode(const uint8_t *p, size_t len, mp__task_chunk *out) {
  mp__rd r;
  memset(out, 0, sizeof *out);
  mp__rd_init(&r, p, len);
  if (mp__rd_str(&r, out->task, sizeof out->task) != 0) goto bad;
  out->first = mp__rd_u64(&r);
  out->n = mp__rd_u32(&r);
  uint32_t packed = mp__rd_u32(&r);
  if (r.failed || packed > 1 || out->n == 0 || out->n > MP__MAX_CHUNK_ITEMS) goto bad;
  if (!packed && out->n > (r.len - r.off) / 8) goto bad; /* each item has at least its length */
  if (packed) {
    uint64_t size = mp__rd_u64(&r);
    if (r.failed || (size && (uint64_t)(r.len - r.off) / size < out->n) || (!size && r.off != r.len)) goto bad;
    out->size = (size_t)size;
    out->packed = mp__rd_take(&r, (size_t)size * out->n);
    if (!out->packed) goto bad;
  } else {
    out->items = malloc(out->n * sizeof *out->items);
    if (!out->items) return mp__set_error(MP_ENOMEM, "worker: out of memory for a chunk");
    for (uint32_t i = 0; i < out->n; i++) out->items[i].data = mp__rd_bytes(&r, &out->items[i].len);
  }
  if (r.failed || r.off != r.len) goto bad;
  return MP_OK;
bad:
  mp__task_chunk_release(out);
  return mp__set_error(MP_EPROTO, "malformed task chunk");
}

void mp__task_chunk_release(mp__task_chunk *c) {
  free(c->items);
  c->items = NULL;
}

void mp__chunk_builder_reset(mp__chunk_builder *b) {
  b->full.len = 0;
  b->packed.len = 0;
  b->full.failed = b->packed.failed = 0;
  b->n = 0;
  b->can_pack = 1;
  b->size = 0;
}

static void put_full(mp__buf *full, int status, int code, const char *message, const void *data, size_t len) {
  mp__buf_put_u32(full, (uint32_t)status);
  mp__buf_put_u32(full, (uint32_t)code);
  if (message) {
    size_t m = strlen(message);
    if (m > MESSAGE_MAX) m = MESSAGE_MAX;
    mp__buf_put_u32(full, (uint32_t)m);
    mp__buf_put(full, message, m);
  } else {
    mp__buf_put_u32(full, NO_MESSAGE);
  }
  mp__buf_put_bytes(full, status == MP_OK ? data : NULL, status == MP_OK ? len : 0);
}

void mp__chunk_builder_add(mp__chunk_builder *b, int status, int code, const char *message, const void *data,
                           size_t len) {
  if (b->n == 0) b->size = len;
  if (b->can_pack && status == MP_OK && len == b->size) {
    /* The common case, every item OK and the same size: just the bytes. */
    mp__buf_put(&b->packed, data, len);
    b->n++;
    return;
  }
  if (b->can_pack) {
    /* The first item that does not fit the short form: restate the
     * earlier ones (all OK, all b->size bytes) in the long form. */
    b->can_pack = 0;
    for (uint32_t i = 0; i < b->n; i++)
      put_full(&b->full, MP_OK, 0, NULL, b->packed.data ? b->packed.data + (size_t)i * b->size : NULL, b->size);
  }
  put_full(&b->full, status, code, message, data, len);
  b->n++;
}

int mp__chunk_builder_send(mp__chunk_builder *b, mp__handle h, uint64_t id) {
  uint8_t head[20];
  mp__store_u32(head, b->n);
  if (b->can_pack) {
    mp__store_u32(head + 4, 1);
    mp__store_u64(head + 8, (uint64_t)b->size);
    if (b->packed.failed) return mp__set_error(MP_ENOMEM, "worker: out of memory for results");
    return mp__frame_write(h, MP__FRAME_CHUNK, id, head, 16, b->packed.data, b->packed.len);
  }
  mp__store_u32(head + 4, 0);
  if (b->full.failed) return mp__set_error(MP_ENOMEM, "worker: out of memory for results");
  return mp__frame_write(h, MP__FRAME_CHUNK, id, head, 8, b->full.data, b->full.len);
}

void mp__chunk_builder_release(mp__chunk_builder *b) {
  mp__buf_release(&b->full);
  mp__buf_release(&b->packed);
}

int mp__chunk_packed(const uint8_t *p, size_t len, uint32_t expect_n, const uint8_t **data, size_t *size) {
  mp__rd r;
  mp__rd_init(&r, p, len);
  uint32_t n = mp__rd_u32(&r), packed = mp__rd_u32(&r);
  uint64_t each = mp__rd_u64(&r);
  if (r.failed || n != expect_n || packed != 1) return 0;
  if (each > SIZE_MAX / (n ? n : 1) || (uint64_t)(r.len - r.off) != each * n) return 0;
  *data = p + r.off;
  *size = (size_t)each;
  return 1;
}

static int known_status(int s) { return s <= MP_OK && s >= MP_ESYS; }

int mp__chunk_decode(const uint8_t *p, size_t len, uint32_t expect_n,
                     void (*each)(void *ud, uint32_t i, const mp__outcome *o), void *ud) {
  mp__rd r;
  mp__rd_init(&r, p, len);
  uint32_t n = mp__rd_u32(&r), packed = mp__rd_u32(&r);
  if (r.failed || n != expect_n || packed > 1) return mp__set_error(MP_EPROTO, "malformed chunk result");
  if (packed) {
    uint64_t size = mp__rd_u64(&r), left = (uint64_t)(r.len - r.off);
    /* n results of size bytes fill the rest exactly. Divided, not
     * multiplied: size * n could wrap around (fuzz_pool_chunk found 50
     * results of 2^63 bytes "filling" an empty rest). */
    if (r.failed || (size ? left % size != 0 || left / size != n : left != 0))
      return mp__set_error(MP_EPROTO, "malformed chunk result (packed)");
    for (uint32_t i = 0; i < n; i++) {
      mp__outcome o = {MP_OK, 0, NULL, mp__rd_take(&r, (size_t)size), (size_t)size};
      each(ud, i, &o);
    }
    return MP_OK;
  }
  char *text = NULL;
  for (uint32_t i = 0; i < n; i++) {
    mp__outcome o;
    o.status = (int)(int32_t)mp__rd_u32(&r);
    o.task_code = (int)(int32_t)mp__rd_u32(&r);
    uint32_t mlen = mp__rd_u32(&r);
    const uint8_t *msg = NULL;
    if (mlen != NO_MESSAGE) {
      if (mlen > MESSAGE_MAX) goto bad;
      msg = mp__rd_take(&r, mlen);
    }
    o.data = mp__rd_bytes(&r, &o.len);
    if (r.failed || !known_status(o.status) || (o.status != MP_OK && o.len) || (msg && memchr(msg, 0, mlen)))
      goto bad;
    o.message = NULL;
    if (msg) {
      text = malloc((size_t)mlen + 1);
      if (!text) return mp__set_error(MP_ENOMEM, "out of memory for a result message");
      memcpy(text, msg, mlen);
      text[mlen] = '\0';
      o.message = text;
    }
    each(ud, i, &o);
    free(text);
    text = NULL;
  }
  if (r.off != r.len) return mp__set_error(MP_EPROTO, "malformed chunk result (trailing bytes)");
  return MP_OK;
bad:
  free(text);
  return mp__set_error(MP_EPROTO, "malformed chunk result (item)");
}
