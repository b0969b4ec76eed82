/* The system's own words for an error, and text conversions. */
#include <stdlib.h>

#include "win32.h"

int mp__win_error(int code, DWORD err, const char *what) {
  wchar_t wide[256];
  char text[512];
  DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err,
                           MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), wide, sizeof wide / sizeof wide[0], NULL);
  /* "The system cannot find the file specified.\r\n": no period, no line end. */
  while (n > 0 && (wide[n - 1] == L'\r' || wide[n - 1] == L'\n' || wide[n - 1] == L' ' || wide[n - 1] == L'.'))
    n--;
  wide[n] = L'\0';
  if (n == 0 || !WideCharToMultiByte(CP_UTF8, 0, wide, -1, text, (int)sizeof text, NULL, NULL))
    return mp__set_error(code, "%s: system error (%lu)", what, (unsigned long)err);
  return mp__set_error(code, "%s: %s (%lu)", what, text, (unsigned long)err);
}

DWORD mp__win_ms(double timeout) {
  if (timeout < 0) return INFINITE;
  double ms = timeout * 1000.0;
  if (ms >= 4294967294.0) return 4294967294u; /* just below INFINITE */
  DWORD whole = (DWORD)ms;
  return (double)whole < ms ? whole + 1 : whole;
}

wchar_t *mp__win_widen(const char *utf8) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
  if (n <= 0) {
    mp__win_error(MP_EINVAL, GetLastError(), "MultiByteToWideChar");
    return NULL;
  }
  wchar_t *w = malloc((size_t)n * sizeof *w);
  if (!w) {
    mp__set_error(MP_ENOMEM, "out of memory");
    return NULL;
  }
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n);
  return w;
}
