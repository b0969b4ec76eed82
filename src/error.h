/* Error reporting inside the library: one thread-local detail string. */
#ifndef MPROC_ERROR_H
#define MPROC_ERROR_H

#include "mproc.h"

/* Sets mp_last_error() for this thread and returns code, so a failure path
 * reads `return mp__set_error(MP_EINVAL, "mp_pipe: a is NULL");`. */
int mp__set_error(int code, const char *fmt, ...) MPROC_PRINTF(2, 3);
/* Clears the detail (a call that succeeds leaves the old one alone). */
void mp__clear_error(void);
/* Every message starts with the public function the user called. A
 * public function returns what an internal one gave through this: a
 * failure (rc < 0) whose detail does not already start with "api:" gets
 * it in front ("mp_pipe: pipe2: Too many open files (24)"). Returns rc. */
int mp__error_in(const char *api, int rc);

#endif
