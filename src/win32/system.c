/* Process-wide facts, clocks and test probes. */
#define _CRT_SECURE_NO_WARNINGS /* getenv, which MSVC deprecates for getenv_s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win32.h"

int mp__platform_parent_init(void) {
  /* Made now rather than at the first start, so a program's handle count
   * does not change under it later. */
  if (!mp__win_job()) return MP_ESYS;
  if (!mp__win_thread_event()) return MP_ESYS;
  return MP_OK;
}

int mp__cpu_count(void) {
  /* The CPUs this process may run on, across processor groups. */
  DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  if (n == 0) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    n = si.dwNumberOfProcessors;
  }
  DWORD_PTR proc_mask, sys_mask;
  if (GetProcessAffinityMask(GetCurrentProcess(), &proc_mask, &sys_mask) && proc_mask) {
    /* Within one processor group the affinity mask is the finer answer. */
    DWORD bits = 0;
    for (DWORD_PTR m = proc_mask; m; m &= m - 1) bits++;
    if (bits < n && n <= sizeof(DWORD_PTR) * 8) n = bits;
  }
  return n > 0 ? (int)n : 1;
}

int64_t mp__getpid(void) { return (int64_t)GetCurrentProcessId(); }

double mp__now(void) {
  static LARGE_INTEGER freq; /* the same for the life of the system */
  LARGE_INTEGER c;
  if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart / (double)freq.QuadPart;
}

double mp__now_coarse(void) { return mp__now(); /* QueryPerformanceCounter is cheap */ }

void mp__sleep(double seconds) {
  if (seconds <= 0) return;
  double end = mp__now() + seconds;
  for (;;) {
    double left = end - mp__now();
    if (left <= 0) return;
    /* Sleep has millisecond steps: never less than asked for. */
    Sleep(mp__win_ms(left));
  }
}

void mp__yield(void) { SwitchToThread(); }

int mp__pid_alive(int64_t pid) {
  if (pid <= 0) return 0;
  HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
  if (!h) return GetLastError() == ERROR_ACCESS_DENIED; /* exists, but not ours to open */
  DWORD w = WaitForSingleObject(h, 0);
  CloseHandle(h);
  return w == WAIT_TIMEOUT;
}

int mp__pid_kill(int64_t pid) {
  if (pid <= 0) return mp__set_error(MP_EINVAL, "mp__pid_kill: bad pid");
  HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)pid);
  if (!h) return mp__win_error(MP_ESYS, GetLastError(), "OpenProcess");
  BOOL ok = TerminateProcess(h, MP__WIN_SIGNAL_EXIT_BASE | MP__SIG_KILL);
  DWORD err = GetLastError();
  CloseHandle(h);
  return ok ? MP_OK : mp__win_error(MP_ESYS, err, "TerminateProcess");
}

int mp__handle_valid(mp__handle h) {
  DWORD flags;
  if (h == MP__NO_HANDLE || h == 0) return 0;
  return GetHandleInformation(MP__HANDLE_OF(h), &flags) != 0;
}

int mp__open_handle_count(void) {
  DWORD n = 0;
  if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0) return (int)n;
  /* Wine answers 0: probe the handle values instead (multiples of 4, low
   * numbers first), as the POSIX side probes descriptors. */
  int count = 0;
  for (uintptr_t v = 4; v < 4 * 4096; v += 4) {
    DWORD flags;
    if (GetHandleInformation((HANDLE)v, &flags)) count++;
  }
  return count;
}

/* No zombies on Windows, and the job object ends children with us. */
int mp__stray_children(void) { return 0; }

/* The C runtime keeps a copy of the environment beside the system's, and
 * its spawn and system calls pass its copy on: remove it from both. */
int mp__env_take(const char *name, char *buf, size_t cap) {
  const char *v = getenv(name);
  int fits = 0;
  if (v) {
    size_t n = strlen(v);
    fits = n < cap;
    if (fits) memcpy(buf, v, n + 1);
  }
  char unset[128];
  if (snprintf(unset, sizeof unset, "%s=", name) < (int)sizeof unset) _putenv(unset);
  SetEnvironmentVariableA(name, NULL);
  return fits;
}
