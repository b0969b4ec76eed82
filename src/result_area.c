/* A Process's result in shared memory (see result_area.h). */
#include <stdlib.h>
#include <string.h>

#include "result_area.h"

int mp__result_area_new(mp__handle *h) { return mp__shm_new(MP__RESULT_AREA_BYTES, h); }

/* The child's own mapping (mp__result_area_open), kept to the end. */
static void *opened;
static mp__handle opened_handle = MP__NO_HANDLE;

int mp__result_area_open(mp__handle h) {
  void *mem = NULL;
  int rc = mp__shm_attach(h, MP__RESULT_AREA_BYTES, &mem);
  if (rc != MP_OK) return rc;
  opened = mem;
  opened_handle = h;
  return MP_OK;
}

void mp__result_area_close(void) {
  if (!opened) return;
  mp__shm_detach(opened, MP__RESULT_AREA_BYTES);
  opened = NULL;
  opened_handle = MP__NO_HANDLE;
}

int mp__result_area_write(mp__handle h, int status, int code, const char *text, const void *data, size_t len) {
  int rc = MP_OK;
  if (len > MP__RESULT_AREA_BYTES - MP__RESULT_DATA_AT) {
    rc = mp__set_error(MP_ETOOBIG, "the task's result of %llu bytes is over what this build carries",
                       (unsigned long long)len);
    status = MP_ETOOBIG;
    text = mp_last_error();
    len = 0;
  }
  void *mem = h == opened_handle ? opened : NULL;
  int own = !mem;
  size_t need = MP__RESULT_DATA_AT + len;
  int mrc = own ? mp__shm_attach(h, MP__RESULT_AREA_BYTES, &mem) : MP_OK;
  if (mrc == MP_OK) mrc = mp__shm_commit(mem, need);
  if (mrc != MP_OK) {
    if (own && mem) mp__shm_detach(mem, MP__RESULT_AREA_BYTES);
    return mrc;
  }
  uint8_t *base = mem;
  mp__result_head *head = mem;
  size_t n = text ? strlen(text) : 0;
  if (n > MP__RESULT_TEXT_MAX) n = MP__RESULT_TEXT_MAX;
  if (len) memcpy(base + MP__RESULT_DATA_AT, data, len);
  if (n) memcpy(base + MP__RESULT_TEXT_AT, text, n);
  base[MP__RESULT_TEXT_AT + n] = 0;
  head->magic = MP__RESULT_MAGIC;
  head->status = status;
  head->code = code;
  head->text_len = text ? (uint32_t)n : UINT32_MAX; /* none at all, not an empty one */
  head->len = len;
  mp__atomic_store32(&head->done, 1); /* after everything it announces */
  if (own) mp__shm_detach(mem, MP__RESULT_AREA_BYTES);
  else mp__result_area_close(); /* written once: nothing more goes there */
  return rc;
}

int mp__result_area_read(mp__handle h, mp_result *res) {
  memset(res, 0, sizeof *res);
  void *mem = NULL;
  int rc = mp__shm_attach(h, MP__RESULT_AREA_BYTES, &mem);
  if (rc != MP_OK) return rc;
  const uint8_t *base = mem;
  const mp__result_head *head = mem;
  /* Copies first: the numbers are read once, then judged. */
  mp__result_head got;
  memcpy(&got, head, sizeof got);
  got.done = mp__atomic_load32((volatile uint32_t *)&head->done);
  if (got.done == 0 && got.magic == 0) {
    rc = MP_ECLOSED; /* it ended before writing anything whole */
  } else if (got.done != 1 || got.magic != MP__RESULT_MAGIC) {
    rc = got.done == 0 ? MP_ECLOSED : mp__set_error(MP_EPROTO, "its result area holds no result");
  } else if (got.status > 0 || got.status < MP_ESYS) {
    rc = mp__set_error(MP_EPROTO, "a result with status %ld", (long)got.status);
  } else if (got.text_len != UINT32_MAX && got.text_len > MP__RESULT_TEXT_MAX) {
    rc = mp__set_error(MP_EPROTO, "a result text of %lu bytes", (unsigned long)got.text_len);
  } else if (got.len > MP__RESULT_AREA_BYTES - MP__RESULT_DATA_AT || (got.status != MP_OK && got.len)) {
    rc = mp__set_error(MP_EPROTO, "a result of %llu bytes", (unsigned long long)got.len);
  } else {
    res->status = got.status;
    res->task_code = got.code;
    if (got.text_len != UINT32_MAX) {
      char *t = malloc(got.text_len + 1);
      if (t) {
        memcpy(t, base + MP__RESULT_TEXT_AT, got.text_len);
        t[got.text_len] = 0;
      }
      res->message = t;
    }
    if (got.status == MP_OK && got.len) { /* none: data stays NULL */
      res->data = malloc((size_t)got.len);
      if (res->data) {
        memcpy(res->data, base + MP__RESULT_DATA_AT, (size_t)got.len);
        res->len = (size_t)got.len;
      }
    }
    if ((got.text_len != UINT32_MAX && !res->message) || (got.status == MP_OK && got.len && !res->data)) {
      mp_result_clear(res);
      rc = mp__set_error(MP_ENOMEM, "out of memory for the result of %llu bytes", (unsigned long long)got.len);
    }
  }
  mp__shm_detach(mem, MP__RESULT_AREA_BYTES);
  return rc;
}
