#include "bench_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mproc.h"

double bench_scale(int argc, char **argv, int max_args, const char *usage) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      exit(0);
    }
  }
  if (argc - 1 > max_args) {
    fputs(usage, stderr);
    exit(2);
  }
  if (argc < 2) return 1.0;
  char *end = NULL;
  double scale = strtod(argv[1], &end);
  if (end == argv[1] || *end != '\0' || !(scale > 0) || scale > 1e6) {
    fprintf(stderr, "%s: the scale must be a positive number, not \"%s\"\n\n", argv[0], argv[1]);
    fputs(usage, stderr);
    exit(2);
  }
  return scale;
}

void bench_die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, mp_last_error());
  exit(1);
}

void bench_report(const char *figure, const char *impl, double value, const char *unit) {
  printf("@ %s %s %.6g %s\n", figure, impl, value, unit);
}

void bench_report_none(const char *figure, const char *impl, const char *why) {
  printf("@ %s %s none %s\n", figure, impl, why);
}
