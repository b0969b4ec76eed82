/* What the soak programs share: their budget from the environment, a
 * seeded random source, killing a worker only if it is ours, a watchdog
 * that turns a hang into a failure, failure counting, and checksums.
 *
 * A soak is a plain program, not a cmocka suite: it runs for a time,
 * prints what it did, and exits 0 (every check held), 1 (one failed),
 * 3 (the watchdog saw no progress: a hang) or 77 (skipped: no budget). */
#ifndef MPROC_SOAK_H
#define MPROC_SOAK_H

#include <stddef.h>
#include <stdint.h>

#include "mproc.h"
#include "platform.h"

#define SOAK_SKIP 77
#define SOAK_HANG 3

typedef struct soak_config {
  double seconds;     /* MPROC_SOAK_SECONDS: how long to keep going */
  int reduced;        /* MPROC_SOAK_REDUCED=1: fewer items, slower kills (Wine) */
  uint64_t seed;      /* MPROC_SOAK_SEED, else from the clock; printed */
  const char *method; /* MPROC_START_METHOD, or "default" */
  double hang;        /* seconds without progress that count as a hang */
} soak_config;

/* Reads the environment and says what will run. SOAK_SKIP (after saying
 * why) when MPROC_SOAK_SECONDS is not set, which keeps a plain ctest run
 * quick; 0 to go on. */
int soak_config_read(soak_config *c, const char *program);

/* xorshift64*: fast, and a run can be repeated from its printed seed (as
 * far as timing allows). */
uint64_t soak_rand(uint64_t *state);
double soak_uniform(uint64_t *state, double lo, double hi);
uint64_t soak_mix(uint64_t x); /* a 64-bit finaliser: spreads nearby inputs */

/* Kills pid (SIGKILL; TerminateProcess on Windows) only if it is, at this
 * instant, a live child of this process (POSIX) or a run of this same
 * executable (Windows). Pids are reused (Linux here wraps at 32768; Windows
 * reuses at once), and a soak must never kill a stranger. 1 if killed. */
int soak_kill_ours(int64_t pid);
/* Pids of this process's live children, up to cap (Linux, from /proc:
 * reaches workers that have not run anything yet). 0 elsewhere. */
size_t soak_children(int64_t *out, size_t cap);

/* Reports a broken promise; the program will exit 1. printf format. */
void soak_fail(const char *fmt, ...) MPROC_PRINTF(1, 2);
int soak_failures(void);

/* The watchdog: a thread that calls progress() every half second and
 * ends the program with SOAK_HANG (after printing what progress() wrote
 * into its buffer) if the number it returns stays the same for c->hang
 * seconds. */
typedef uint64_t (*soak_progress_fn)(void *ud, char *state, size_t cap);
void soak_watchdog_start(const soak_config *c, soak_progress_fn progress, void *ud);
void soak_watchdog_stop(void);

/* A 64-bit checksum of n bytes (word at a time: a 1 MiB message costs
 * about as much to check as to copy). */
uint64_t soak_checksum(const void *p, size_t n, uint64_t seed);

#endif
