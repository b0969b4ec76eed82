#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <wchar.h>

#include "bench_os.h"

double bench_now(void) {
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart / (double)f.QuadPart;
}

int bench_have_fork(void) { return 0; }

double bench_raw_fork_wait(int iterations) {
  (void)iterations;
  return 0;
}

double bench_raw_spawn_wait(int iterations, const char *arg) {
  wchar_t exe[32768], cmd[33000];
  GetModuleFileNameW(NULL, exe, 32768);
  _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" %hs", exe, arg);
  double t0 = bench_now();
  for (int i = 0; i < iterations; i++) {
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 0;
    WaitForSingleObject(pi.hProcess, INFINITE);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
  }
  return (bench_now() - t0) / iterations;
}
