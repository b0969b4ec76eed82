/* Command-line quoting for CreateProcessW.
 *
 * Windows passes a child one string; the child's C runtime (and
 * CommandLineToArgvW) splits it back into argv with these rules: spaces
 * and tabs separate arguments unless inside double quotes; a backslash is
 * literal unless a run of them ends at a double quote, where 2n
 * backslashes + " mean n backslashes and a quote that toggles quoting, and
 * 2n+1 backslashes + " mean n backslashes and a literal ". So an argument
 * is written inside quotes, with every run of backslashes doubled when a
 * quote (or the closing quote) follows it, and each " escaped. */
#include "win32.h"

static int put(wchar_t *out, size_t *at, size_t cap, wchar_t c) {
  if (*at + 1 >= cap) return 0;
  out[(*at)++] = c;
  return 1;
}

static int needs_quotes(const wchar_t *arg) {
  if (!*arg) return 1;
  for (const wchar_t *p = arg; *p; p++)
    if (*p == L' ' || *p == L'\t' || *p == L'\n' || *p == L'\v' || *p == L'"') return 1;
  return 0;
}

size_t mp__win_quote_arg(wchar_t *out, size_t used, size_t cap, const wchar_t *arg) {
  size_t at = used;
  if (at > 0 && !put(out, &at, cap, L' ')) return 0;
  if (!needs_quotes(arg)) {
    for (const wchar_t *p = arg; *p; p++)
      if (!put(out, &at, cap, *p)) return 0;
  } else {
    if (!put(out, &at, cap, L'"')) return 0;
    for (const wchar_t *p = arg;; p++) {
      size_t slashes = 0;
      while (*p == L'\\') {
        slashes++;
        p++;
      }
      /* Before a quote or the end (the closing quote), double the run. */
      size_t copies = (*p == L'"' || *p == L'\0') ? slashes * 2 : slashes;
      for (size_t i = 0; i < copies; i++)
        if (!put(out, &at, cap, L'\\')) return 0;
      if (*p == L'\0') break;
      if (*p == L'"' && !put(out, &at, cap, L'\\')) return 0;
      if (!put(out, &at, cap, *p)) return 0;
    }
    if (!put(out, &at, cap, L'"')) return 0;
  }
  out[at] = L'\0';
  return at;
}
