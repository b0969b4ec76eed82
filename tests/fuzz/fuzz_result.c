/* A RESULT frame's payload, as a worker sends it (src/result.c).
 *
 * Input: the payload. Checked: mp__result_decode refuses it or fills a
 * result that makes sense (a known status, data only on success, a
 * NUL-terminated message), and encoding that result again gives back the
 * very same bytes, so nothing was skipped or invented on the way. */
#include <string.h>

#include "core.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mp_result r;
  int rc = mp__result_decode(data, size, &r);
  if (rc != MP_OK) {
    FUZZ_CHECK(rc == MP_EPROTO);
    FUZZ_CHECK(r.data == NULL && r.message == NULL); /* nothing to clear, nothing leaked */
    return 0;
  }
  FUZZ_CHECK(r.status <= MP_OK && r.status >= MP_ESYS);
  if (r.status == MP_OK)
    FUZZ_CHECK((r.data != NULL) == (r.len != 0)); /* none: NULL */
  else
    FUZZ_CHECK(r.data == NULL && r.len == 0);
  mp__buf b;
  mp__buf_init(&b);
  mp__result_encode(&b, r.status, r.task_code, r.message);
  if (r.message) FUZZ_CHECK(strlen(r.message) <= 64 * 1024);
  mp__buf_put(&b, r.data, r.len);
  FUZZ_CHECK(!b.failed && b.len == size && memcmp(b.data, data, size) == 0);
  mp__buf_release(&b);
  mp_result_clear(&r);
  return 0;
}
