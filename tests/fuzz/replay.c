/* A harness without libFuzzer: runs it once on each file named on the
 * command line (the checked-in corpus, as ctest passes it). An input that
 * breaks a check aborts, so the test fails naming nothing but its output;
 * the file it was on is printed first. */
#define _CRT_SECURE_NO_WARNINGS /* fopen is fine here (MSVC) */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int replay(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  size_t cap = 4096, len = 0, n;
  uint8_t *buf = malloc(cap);
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      uint8_t *bigger = realloc(buf, cap * 2);
      if (!bigger) break;
      buf = bigger;
      cap *= 2;
    }
  }
  int bad = ferror(f) || !buf;
  fclose(f);
  if (bad) {
    fprintf(stderr, "cannot read %s\n", path);
    free(buf);
    return 1;
  }
  fprintf(stderr, "%s (%lu bytes)\n", path, (unsigned long)len);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int failed = 0;
  for (int i = 1; i < argc; i++) failed += replay(argv[i]);
  printf("%d input(s) replayed, %d unreadable\n", argc - 1, failed);
  return failed ? 1 : 0;
}
