/* mp_main given something other than main's own argv. In the program the
 * user started that goes unnoticed (argv only matters in a worker); in a
 * spawned worker the mark is then missing from argv, and mp_main must
 * refuse to go on as if it were the user's program, which would start a
 * child of its own, and that one another, without end.
 *
 * Not a cmocka suite: every process of it runs this main(), the parent
 * and its spawned children alike, and each says by its exit code how its
 * mp_main answered. */
#define _CRT_SECURE_NO_WARNINGS /* getenv, which MSVC deprecates */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mproc.h"

enum {
  CHILD_REFUSED = 42,      /* what must happen: MP_EBOOTSTRAP naming the fix, nothing can start */
  CHILD_WENT_ON = 43,      /* mp_main let the worker run on as the user's program */
  CHILD_WRONG_ERROR = 44,  /* refused, but without naming the fix or without stopping starts */
};

static int noop(mp_call *call) {
  (void)call;
  return 0;
}

/* In a spawned child: how mp_main(1, argv) answered. */
static int judge_child(int rc) {
  if (rc == MP_OK) return CHILD_WENT_ON;
  if (rc != MP_EBOOTSTRAP || !strstr(mp_last_error(), "mp_main: ") ||
      !strstr(mp_last_error(), "with main's own argc and argv")) {
    fprintf(stderr, "child: %s: %s\n", mp_err_name(rc), mp_last_error());
    return CHILD_WRONG_ERROR;
  }
  mp_process *p = NULL;
  mp_lock *l = NULL;
  if (mp_process_start(&p, "noop", NULL, 0, NULL) != MP_EBOOTSTRAP || mp_lock_create(&l, 0) != MP_EBOOTSTRAP ||
      !strstr(mp_last_error(), "mp_lock_create: "))
    return CHILD_WRONG_ERROR;
  return CHILD_REFUSED;
}

static int fail(const char *what) {
  fprintf(stderr, "test_wrong_argv: %s: %s\n", what, mp_last_error());
  return 1;
}

int main(int argc, char **argv) {
  MP_REGISTER(noop);
  /* The test knows what a spawned child's command line looks like. */
  int spawned_child = argc >= 2 && strncmp(argv[1], "--mproc-worker=", 15) == 0;
  int rc = mp_main(1, argv); /* the mistake: argv without what follows argv[0] */
  if (spawned_child) return judge_child(rc);
  if (rc != MP_OK) return fail("mp_main in the parent");
  /* Valgrind cannot follow an exec of /proc/self/exe (test_bootstrap says
   * why), and every child here is spawned: the other legs check it. */
  const char *vg = getenv("MPROC_TEST_VALGRIND");
  if (vg && strcmp(vg, "1") == 0) {
    printf("skipped under valgrind\n");
    return 0;
  }
  mp_process_options o;
  memset(&o, 0, sizeof o);
  o.start_method = MP_START_SPAWN;
  for (int i = 0; i < 2; i++) {
    mp_process *p;
    int code = -1;
    if (mp_process_start(&p, "noop", NULL, 0, &o) != MP_OK) return fail("mp_process_start");
    if (mp_process_join(p, 120) != MP_OK) return fail("mp_process_join");
    if (mp_process_exitcode(p, &code) != MP_OK) return fail("mp_process_exitcode");
    mp_process_free(p);
    if (code != CHILD_REFUSED) {
      fprintf(stderr, "test_wrong_argv: the spawned child exited with %d, not %d (43: it went on as the "
                      "program; 44: refused without the fix)\n", code, CHILD_REFUSED);
      return 1;
    }
  }
  printf("a spawned worker whose mp_main lacked main's argv refused to run on, twice\n");
  return 0;
}
