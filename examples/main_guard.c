/* The main guard, and why it exists. A child started with the spawn
 * method (every child on Windows) is a fresh run of this program: it runs
 * main() again from the top, up to mp_main(), which is how it learns the
 * task names. mp_main() then runs the child's task and exits, so the child
 * never reaches the code below it. That is Python's
 * `if __name__ == "__main__":`, and mproc enforces it: an mproc object
 * created before mp_main() is refused, on every platform, instead of every
 * child starting children of its own. */
#include <stdio.h>

#include "mproc.h"

static int hello(mp_call *call) {
  (void)call;
  printf("Process %lld: running the task\n", (long long)mp_getpid());
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  /* Runs in the parent, and again in every spawned child. */
  printf("Process %lld: main() starts\n", (long long)mp_getpid());
  fflush(stdout);
  MP_REGISTER(hello);

  /* Too early: refused, with a message that names the fix. */
  mp_process *p = NULL;
  int rc = mp_process_start(&p, "hello", NULL, 0, NULL);
  printf("Process %lld: before mp_main(), mp_process_start says %s:\n  %s\n", (long long)mp_getpid(),
         mp_err_name(rc), mp_last_error());
  fflush(stdout);

  /* The guard: a child runs its task in here and exits. */
  if (mp_main(argc, argv) != MP_OK) return 1;

  /* The parent only, from here on. */
  printf("Parent %lld: past the guard, starting a child\n", (long long)mp_getpid());
  fflush(stdout);
  mp_process_options opts = {0};
  opts.start_method = MP_START_SPAWN; /* a fresh run of this program, as on Windows */
  if (mp_process_start(&p, "hello", NULL, 0, &opts) != MP_OK) {
    fprintf(stderr, "start: %s\n", mp_last_error());
    return 1;
  }
  int code = -1;
  mp_process_join(p, MP_FOREVER);
  mp_process_exitcode(p, &code);
  mp_process_free(p);
  printf("Parent %lld: the child has finished (exit code %d)\n", (long long)mp_getpid(), code);
  return code;
}
