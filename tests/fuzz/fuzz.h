/* Shared by the fuzz harnesses (tests/fuzz/fuzz_*.c): the entry point
 * libFuzzer calls, and a check that ends the run loudly. Each harness also
 * builds without libFuzzer, linked with replay.c, into a program that runs
 * the checked-in corpus once: every test build (GCC, MSVC, MinGW under
 * Wine) replays it, regressions included. */
#ifndef MPROC_FUZZ_H
#define MPROC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the harness checks. A failure aborts, which libFuzzer records
 * as a crash and saves the input that caused it. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

static inline void fuzz_fail(const char *what, const char *file, int line) {
  fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  abort();
}

/* Does [p, p+n) lie inside [base, base+size)? For pointers a decoder hands
 * back into its input. */
static inline int fuzz_inside(const void *p, size_t n, const uint8_t *base, size_t size) {
  const uint8_t *q = p;
  return q >= base && (size_t)(q - base) <= size && n <= size - (size_t)(q - base);
}

#endif
