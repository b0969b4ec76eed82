#include "boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp__boot_encode(const mp__boot *b, mp__buf *meta) {
  mp__buf_put_u32(meta, b->role);
  mp__buf_put_u32(meta, (uint32_t)b->worker_id);
  mp__buf_put_str(meta, b->task);
  mp__buf_put_u64(meta, (uint64_t)b->result);
  mp__buf_put_u32(meta, b->max_tasks);
  mp__buf_put_u32(meta, b->nchannel);
  for (uint32_t k = 0; k < b->nchannel; k++) mp__buf_put_u64(meta, (uint64_t)b->channel[k]);
  mp__buf_put_bytes(meta, b->channel_blob, b->channel_bloblen);
  mp__buf_put_u32(meta, (uint32_t)b->nobjects);
  for (size_t i = 0; i < b->nobjects; i++) {
    const mp__boot_object *o = &b->objects[i];
    mp__buf_put_u32(meta, o->kind);
    mp__buf_put_u32(meta, o->nhandles);
    for (uint32_t k = 0; k < o->nhandles; k++) mp__buf_put_u64(meta, (uint64_t)o->handles[k]);
    mp__buf_put_bytes(meta, o->blob, o->bloblen);
  }
  mp__buf_put_u64(meta, (uint64_t)b->arg_len);
}

static int bad_boot(mp__boot *out, const char *what) {
  mp__boot_release(out);
  return mp__set_error(MP_EPROTO, "malformed bootstrap message: %s", what);
}

int mp__boot_decode(const uint8_t *meta, size_t meta_len, const uint8_t *arg, size_t arg_len,
                    mp__boot *out) {
  mp__rd r;
  memset(out, 0, sizeof *out);
  mp__rd_init(&r, meta, meta_len);
  out->role = mp__rd_u32(&r);
  out->worker_id = (int32_t)mp__rd_u32(&r);
  if (mp__rd_str(&r, out->task, sizeof out->task) != 0) return bad_boot(out, "task name");
  out->result = (mp__handle)mp__rd_u64(&r);
  out->max_tasks = mp__rd_u32(&r);
  out->nchannel = mp__rd_u32(&r);
  if (r.failed || out->nchannel > MP__OBJECT_MAX_HANDLES) return bad_boot(out, "truncated header");
  for (uint32_t k = 0; k < out->nchannel; k++) out->channel[k] = (mp__handle)mp__rd_u64(&r);
  out->channel_blob = mp__rd_bytes(&r, &out->channel_bloblen);
  uint32_t n = mp__rd_u32(&r);
  if (r.failed) return bad_boot(out, "truncated header");
  if (out->role != MP__ROLE_PROCESS && out->role != MP__ROLE_POOL_WORKER) return bad_boot(out, "unknown role");
  /* A Process writes its result to a pipe; a pool worker to its arena. */
  if (out->role == MP__ROLE_POOL_WORKER ? out->nchannel == 0 || out->result != MP__NO_HANDLE
                                        : out->nchannel != 0 || out->result == MP__NO_HANDLE)
    return bad_boot(out, "channel");
  if (n > MP__MAX_OBJECTS) return bad_boot(out, "too many objects");
  if (n && !(out->objects = calloc(n, sizeof *out->objects))) return bad_boot(out, "out of memory");
  out->nobjects = n;
  for (uint32_t i = 0; i < n; i++) {
    mp__boot_object *o = &out->objects[i];
    o->kind = mp__rd_u32(&r);
    o->nhandles = mp__rd_u32(&r);
    if (r.failed || o->nhandles > MP__OBJECT_MAX_HANDLES) return bad_boot(out, "object handles");
    for (uint32_t k = 0; k < o->nhandles; k++) o->handles[k] = (mp__handle)mp__rd_u64(&r);
    o->blob = mp__rd_bytes(&r, &o->bloblen);
    if (r.failed) return bad_boot(out, "object description");
  }
  uint64_t want = mp__rd_u64(&r);
  if (r.failed || r.off != r.len) return bad_boot(out, "trailing or missing bytes");
  if (want != (uint64_t)arg_len) return bad_boot(out, "argument length");
  out->arg = arg;
  out->arg_len = arg_len;
  return MP_OK;
}

int mp__boot_decode_payload(const uint8_t *payload, size_t len, mp__boot *out) {
  memset(out, 0, sizeof *out);
  if (len < 4) return bad_boot(out, "shorter than its length field");
  uint32_t meta_len = mp__load_u32(payload);
  if (meta_len > len - 4) return bad_boot(out, "meta length");
  return mp__boot_decode(payload + 4, meta_len, payload + 4 + meta_len, len - 4 - meta_len, out);
}

void mp__boot_release(mp__boot *b) {
  free(b->objects);
  b->objects = NULL;
  b->nobjects = 0;
}

void mp__token_format(mp__handle boot, char out[MP__TOKEN_MAX]) {
  snprintf(out, MP__TOKEN_MAX, "%s1:%lld", MP__TOKEN_PREFIX, (long long)boot);
}

int mp__token_parse(const char *arg, mp__handle *boot) {
  size_t plen = strlen(MP__TOKEN_PREFIX);
  if (!arg || strncmp(arg, MP__TOKEN_PREFIX, plen) != 0)
    return mp__set_error(MP_EPROTO, "not a worker token");
  const char *p = arg + plen;
  if (p[0] != '1' || p[1] != ':')
    return mp__set_error(MP_EPROTO, "worker token of an unknown version: \"%.40s\"", arg);
  p += 2;
  /* Digits only, at most 18 of them, so the value cannot overflow. */
  long long v = 0;
  size_t digits = 0;
  for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++) v = v * 10 + (*p - '0');
  if (digits == 0 || *p != '\0')
    return mp__set_error(MP_EPROTO, "malformed worker token \"%.40s\"", arg);
  *boot = (mp__handle)v;
  return MP_OK;
}
