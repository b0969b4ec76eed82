/* The worker side of the POSIX backend. */
#include <stdio.h>
#include <unistd.h>

#include "posix.h"

int mp__worker_init_spawned(void) {
  mp__posix_reset_signals();
  /* mp__spawn put the parent-liveness pipe on this fixed number. */
  if (!mp__handle_valid(MP__POSIX_LIVENESS_FD))
    return mp__set_error(MP_EPROTO, "worker: no parent-liveness pipe on fd %d", MP__POSIX_LIVENESS_FD);
  return mp__posix_watch_parent(MP__POSIX_LIVENESS_FD);
}

void mp__worker_exit(int code) {
  fflush(stdout);
  fflush(stderr);
  /* _exit: a fork child must not run the parent's atexit handlers or flush
   * buffers it inherited; a spawned child follows the same rule. */
  _exit(code);
}
