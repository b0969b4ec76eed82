/* A program from outside the project, as a user writes one: it only has
 * the installed header and library (or the source tree, through
 * add_subdirectory). It squares 1..8 on a Pool, and checks that the header
 * it was compiled with and the library it runs with have one version. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mproc.h>

static int square(mp_call *call) {
  int64_t x;
  size_t len = 0;
  (void)mp_call_arg(call, &len);
  /* %zu: the header's format check must take C99 formats everywhere,
   * MinGW without __USE_MINGW_ANSI_STDIO too. */
  if (mp_call_arg_read(call, &x, sizeof x) != MP_OK)
    return mp_call_fail(call, "expected an int64_t, got %zu bytes", len);
  x *= x;
  return mp_call_return(call, &x, sizeof x);
}

int main(int argc, char **argv) {
  MP_REGISTER(square);
  if (mp_main(argc, argv) != MP_OK) {
    fprintf(stderr, "mp_main: %s\n", mp_last_error());
    return 1;
  }
  char header[32];
  snprintf(header, sizeof header, "%d.%d.%d", MPROC_VERSION_MAJOR, MPROC_VERSION_MINOR, MPROC_VERSION_PATCH);
  if (strcmp(header, mp_version_string()) != 0) {
    fprintf(stderr, "header %s, library %s\n", header, mp_version_string());
    return 1;
  }

  int64_t in[8], out[8];
  for (int i = 0; i < 8; i++) in[i] = i + 1;
  mp_pool_options opts = {0};
  opts.workers = 2;
  mp_pool *pool;
  int rc = mp_pool_create(&pool, &opts);
  if (rc == MP_OK) rc = mp_pool_map(pool, "square", in, sizeof in[0], 8, out, sizeof out[0], NULL);
  mp_pool_free(pool);
  if (rc != MP_OK) {
    fprintf(stderr, "%s: %s\n", mp_err_name(rc), mp_last_error());
    return 1;
  }
  printf("mproc %s: squares", mp_version_string());
  for (int i = 0; i < 8; i++) printf(" %lld", (long long)out[i]);
  printf("\n");
  return 0;
}
