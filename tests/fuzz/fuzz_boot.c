/* The spawn bootstrap: what a freshly started worker reads before anything
 * else, from bytes its parent wrote (src/boot.c).
 *
 * Input: one selector byte, then
 *   even selector: a BOOT frame's payload (u32 meta length, meta, argument);
 *   odd selector:  a command-line argument, the worker token.
 * Checked: the payload decodes to a description whose pointers all lie in
 * the payload and which encodes back to the very same meta bytes; a token
 * that parses names a handle that formats and parses back to itself. */
#include <string.h>

#include "boot.h"
#include "fuzz.h"

static void boot_payload(const uint8_t *p, size_t n) {
  mp__boot b;
  int rc = mp__boot_decode_payload(p, n, &b);
  if (rc != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO && b.objects == NULL);
    return;
  }
  FUZZ_CHECK(b.role == MP__ROLE_PROCESS || b.role == MP__ROLE_POOL_WORKER);
  FUZZ_CHECK(strlen(b.task) <= MP__TASK_NAME_MAX);
  FUZZ_CHECK(b.nobjects <= MP__MAX_OBJECTS);
  FUZZ_CHECK(fuzz_inside(b.arg, b.arg_len, p, n));
  for (size_t i = 0; i < b.nobjects; i++) {
    FUZZ_CHECK(b.objects[i].nhandles <= MP__OBJECT_MAX_HANDLES);
    FUZZ_CHECK(fuzz_inside(b.objects[i].blob, b.objects[i].bloblen, p, n));
  }
  /* Handles travel as u64: only where they are that wide does every value
   * come back unchanged. */
#if INTPTR_MAX > 0x7FFFFFFF
  mp__buf meta;
  mp__buf_init(&meta);
  mp__boot_encode(&b, &meta);
  FUZZ_CHECK(!meta.failed && meta.len == mp__load_u32(p) && memcmp(meta.data, p + 4, meta.len) == 0);
  FUZZ_CHECK(4 + meta.len + b.arg_len == n);
  mp__buf_release(&meta);
#endif
  mp__boot_release(&b);
}

static void token(const uint8_t *p, size_t n) {
  char *arg = malloc(n + 1);
  FUZZ_CHECK(arg != NULL);
  if (n) memcpy(arg, p, n);
  arg[n] = '\0';
  mp__handle h = MP__NO_HANDLE, again = MP__NO_HANDLE;
  int rc = mp__token_parse(arg, &h);
  if (rc == MP_OK) {
    FUZZ_CHECK(h >= 0);
    char text[MP__TOKEN_MAX];
    mp__token_format(h, text);
    FUZZ_CHECK(mp__token_parse(text, &again) == MP_OK && again == h);
  } else {
    FUZZ_CHECK(rc == MP_EPROTO);
  }
  free(arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1)
    token(data + 1, size - 1);
  else
    boot_payload(data + 1, size - 1);
  return 0;
}
