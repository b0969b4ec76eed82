/* Private helpers of the POSIX backend. */
#ifndef MPROC_POSIX_H
#define MPROC_POSIX_H

#include "../error.h"
#include "../platform.h"

/* Sets mp_last_error to "what: <strerror(err)> (err)" and returns code. */
int mp__posix_error(int code, int err, const char *what);
/* poll(2) timeout in ms from seconds: -1 forever, rounded up otherwise. */
int mp__posix_poll_ms(double timeout);
/* Sets O_NONBLOCK and FD_CLOEXEC; 0 or -1 with errno. */
int mp__posix_prepare_fd(int fd);

/* The parent-liveness pipe: children hold the read end and die at its EOF,
 * which comes when this process (the only writer) is gone. */
int mp__posix_liveness_fd(int *read_end);
/* In a new fork child: forget the parent's pipe (the child makes its own
 * for its own children) and watch the inherited read end. */
void mp__posix_liveness_forget(void);
/* Starts the thread that ends this process when fd reaches EOF. */
int mp__posix_watch_parent(int fd);
/* Default dispositions for every signal a parent may have caught, SIGPIPE
 * ignored, nothing blocked: what a worker starts with, by either method. */
void mp__posix_reset_signals(void);

/* The fd number the spawned child's liveness pipe lands on; the handed
 * handles follow it. */
#define MP__POSIX_LIVENESS_FD 3
#define MP__POSIX_FIRST_HANDED_FD 4

#endif
