/* The main guard: mp_main(), start methods, and the spawned child's entry.
 *
 * A spawned child re-runs main() from the top: everything before mp_main()
 * (task registration) runs again, then mp_main() sees the worker token on
 * the command line, runs the worker and exits. The token on the command
 * line is what runs a worker. The child's environment carries the same
 * token (MP__WORKER_ENV), which mp_main reads and removes at once, so a
 * program a task starts never inherits it: that copy only lets a child
 * whose mp_main was not given main's own argv know what it is, and refuse
 * to go on as if it were the user's program (each such child would
 * otherwise start children of its own, without end). */
#define _CRT_SECURE_NO_WARNINGS /* getenv, which MSVC deprecates for getenv_s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "wire.h"

/* REFUSED: a spawned worker whose mp_main lacked its mark; nothing in it
 * may start anything. */
enum { STATE_BEFORE_MAIN = 0, STATE_MAIN = 1, STATE_WORKER = 2, STATE_REFUSED = 3 };
static int state = STATE_BEFORE_MAIN;
static int env_method = MP_START_DEFAULT;

int mp_is_worker(void) { return state == STATE_WORKER; }

void mp__enter_worker(void) {
  state = STATE_WORKER;
  /* A fork child inherits this thread's last message, a spawned one what
   * its main() met before mp_main: a task starts with a clean one. */
  mp__clear_error();
}

int mp__main_has_run(void) { return state != STATE_BEFORE_MAIN; }

#define FIX_ARGV "call mp_main(argc, argv) with main's own argc and argv, unchanged"

int mp__require_main(const char *api) {
  if (state == STATE_REFUSED)
    return mp__set_error(MP_EBOOTSTRAP,
                         "%s: this process is a worker mproc spawned, but mp_main refused it because its argv "
                         "lacks the worker's mark: " FIX_ARGV,
                         api);
  if (state != STATE_BEFORE_MAIN) return MP_OK;
  return mp__set_error(MP_EBOOTSTRAP,
                       "%s: called before mp_main(): call mp_main(argc, argv) at the top of main(), after "
                       "registering tasks and before creating mproc objects",
                       api);
}

int mp__resolve_method(int requested, int *method) {
  if (requested == MP_START_DEFAULT)
    requested = env_method != MP_START_DEFAULT ? env_method : MP__DEFAULT_START_METHOD;
  if (requested != MP_START_FORK && requested != MP_START_SPAWN)
    return mp__set_error(MP_EINVAL, "unknown start method %d (use MP_START_DEFAULT, MP_START_FORK or MP_START_SPAWN)",
                         requested);
  if (requested == MP_START_FORK && !MP__HAVE_FORK)
    return mp__set_error(MP_ENOTSUP, "the fork start method is POSIX-only; use MP_START_SPAWN");
  *method = requested;
  return MP_OK;
}

static int read_start_method_env(void) {
  const char *v = getenv("MPROC_START_METHOD");
  if (!v || !*v) return MP_OK;
  if (strcmp(v, "fork") == 0)
    env_method = MP_START_FORK;
  else if (strcmp(v, "spawn") == 0)
    env_method = MP_START_SPAWN;
  else
    return mp__set_error(MP_EINVAL, "mp_main: MPROC_START_METHOD=\"%.32s\": use fork or spawn", v);
  if (env_method == MP_START_FORK && !MP__HAVE_FORK)
    return mp__set_error(MP_ENOTSUP, "mp_main: MPROC_START_METHOD=fork: fork is POSIX-only here; use spawn");
  return MP_OK;
}

/* In a spawned child: read the BOOT frame from the handle the token names,
 * run the task, and exit. Never returns. */
static void run_spawned_worker(const char *token) {
  mp__handle boot_handle;
  mp__enter_worker();
  if (mp__token_parse(token, &boot_handle) != MP_OK || mp__worker_init_spawned() != MP_OK) {
    fprintf(stderr, "mproc worker: %s\n", mp_last_error());
    mp__worker_exit(MP__EXIT_BAD_BOOT);
  }
  mp__frame_reader reader;
  mp__frame_header h;
  void *payload = NULL;
  mp__boot boot;
  /* The argument may be up to MP_MAX_MESSAGE; the rest is small. */
  mp__frame_reader_init(&reader, boot_handle, MP_MAX_MESSAGE + (size_t)16 * 1024 * 1024);
  int rc = mp__frame_read_header(&reader, MP_FOREVER, &h);
  if (rc == MP_OK && h.type != MP__FRAME_BOOT)
    rc = mp__set_error(MP_EPROTO, "malformed bootstrap: frame type %u", (unsigned)h.type);
  if (rc == MP_OK) rc = mp__frame_read_body(&reader, NULL, MP_FOREVER, &payload);
  mp__frame_reader_release(&reader);
  mp__handle_close(boot_handle);
  if (rc == MP_OK) rc = mp__boot_decode_payload(payload, (size_t)h.len, &boot);
  if (rc != MP_OK) {
    fprintf(stderr, "mproc worker: cannot read the bootstrap message: %s\n", mp_last_error());
    mp__worker_exit(MP__EXIT_BAD_BOOT);
  }
  int code = mp__worker_run(&boot);
  mp__boot_release(&boot);
  free(payload);
  mp__worker_exit(code);
}

/* A spawned worker whose argv does not carry its mark: it must not run on
 * as the user's program. Said on stderr too, since a main() that ignores
 * what mp_main returns would otherwise leave nothing to go by. */
static int refuse_unmarked_worker(const char *mark) {
  mp__set_error(MP_EBOOTSTRAP,
                "mp_main: this process is a worker mproc spawned, but argv[1] is not its mark \"%.40s\" (was "
                "mp_main given something other than main's argv?): " FIX_ARGV,
                mark);
  state = STATE_REFUSED;
  fprintf(stderr, "mproc worker: %s\n", mp_last_error());
  return MP_EBOOTSTRAP;
}

int mp_main(int argc, char **argv) {
  if (state == STATE_WORKER)
    return mp__set_error(MP_EBOOTSTRAP, "mp_main: called inside a worker (a task must not call it)");
  if (state == STATE_MAIN) return mp__set_error(MP_EBOOTSTRAP, "mp_main: called twice");
  if (state == STATE_REFUSED) return mp__require_main("mp_main");
  /* Read and removed whatever happens next: nothing this process starts
   * may inherit it. */
  char mark[MP__TOKEN_MAX];
  mp__handle unused;
  int marked = mp__env_take(MP__WORKER_ENV, mark, sizeof mark) == 1 && mp__token_parse(mark, &unused) == MP_OK;
  /* Only argv[1] can be the token: a user's own arguments never are. */
  if (argc >= 2 && argv && argv[1] && strncmp(argv[1], MP__TOKEN_PREFIX, strlen(MP__TOKEN_PREFIX)) == 0)
    run_spawned_worker(argv[1]);
  if (marked) return refuse_unmarked_worker(mark);
  int rc = read_start_method_env();
  if (rc != MP_OK) return rc;
  if ((rc = mp__platform_parent_init()) != MP_OK) return mp__error_in("mp_main", rc);
  state = STATE_MAIN;
  return MP_OK;
}

int mp_cpu_count(void) { return mp__cpu_count(); }

int64_t mp_getpid(void) { return mp__getpid(); }

void mp_free(void *p) { free(p); }

#define MP__STR2(x) #x
#define MP__STR(x) MP__STR2(x)
const char *mp_version_string(void) {
  return MP__STR(MPROC_VERSION_MAJOR) "." MP__STR(MPROC_VERSION_MINOR) "." MP__STR(MPROC_VERSION_PATCH);
}
