#include <stdio.h>

#include "mproc.h"

static int square(mp_call *call) { /* runs in a child process */
  long long x;
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK) return mp_call_fail(call, "expected a long long");
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

int main(int argc, char **argv) {
  if (MP_REGISTER(square) != MP_OK) return 1; /* 1. name the work */
  if (mp_main(argc, argv) != MP_OK) return 1; /* 2. the main guard */

  long long x = 12;
  mp_process *p = NULL;
  mp_result r = {0};
  int rc = mp_process_start(&p, "square", &x, sizeof x, NULL); /* 3. a child runs it */
  if (rc == MP_OK) rc = mp_process_join(p, MP_FOREVER);
  if (rc == MP_OK) rc = mp_process_result(p, &r);
  if (rc == MP_OK) rc = r.status; /* how the task went */
  if (rc == MP_OK)
    printf("12 squared is %lld\n", *(long long *)r.data);
  else
    fprintf(stderr, "%s: %s\n", mp_err_name(rc), r.message ? r.message : mp_last_error());
  mp_result_clear(&r);
  mp_process_free(p);
  return rc == MP_OK ? 0 : 1;
}
