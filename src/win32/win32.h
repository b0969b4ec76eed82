/* Private helpers of the Windows backend. */
#ifndef MPROC_WIN32_H
#define MPROC_WIN32_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00 /* Windows 10: handle lists, nested jobs */
#endif
#include <windows.h>

#include "../error.h"
#include "../platform.h"

#define MP__HANDLE_OF(h) ((HANDLE)(h))
#define MP__AS_HANDLE(h) ((mp__handle)(h))

/* Sets mp_last_error to "what: <the system's message> (err)", in UTF-8,
 * and returns code: "CreateProcessW: The system cannot find the file
 * specified (2)". */
int mp__win_error(int code, DWORD err, const char *what);
/* WaitForSingleObject-style milliseconds from seconds: INFINITE for
 * forever, rounded up otherwise, capped below INFINITE. */
DWORD mp__win_ms(double timeout);

/* UTF-8 to UTF-16. A malloc'd result; NULL on failure (mp_last_error set). */
wchar_t *mp__win_widen(const char *utf8);

/* Appends arg to the command line at out (room for cap wide chars,
 * including the terminator), quoted so CommandLineToArgvW and the C
 * runtime read it back as exactly arg. Returns the new length, or 0 if
 * it does not fit. */
size_t mp__win_quote_arg(wchar_t *out, size_t used, size_t cap, const wchar_t *arg);

/* The kill-on-close job object this process puts its children in: when
 * the last handle to it closes (this process ends, however it ends), the
 * system ends every child. Made once; NULL with mp_last_error on failure. */
HANDLE mp__win_job(void);

/* The event a thread uses for its overlapped reads: one per thread, made
 * on first use and closed when the thread ends. */
HANDLE mp__win_thread_event(void);

/* Exit codes that stand for a signal: terminate and kill end a child with
 * BASE | 15 and BASE | 9, and a worker's abort() with BASE | 6, so that
 * they read -15, -9 and -6 as on POSIX. */
#define MP__WIN_SIGNAL_EXIT_BASE 0x6D700000u /* "mp" */

#endif
