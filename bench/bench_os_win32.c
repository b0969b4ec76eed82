#define _CRT_SECURE_NO_WARNINGS /* _snwprintf is fine here (MSVC deprecates it) */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>
#include <stdlib.h>
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

/* Windows has no fork: the writer is a thread of this process on an
 * anonymous pipe, which costs the same kernel copies a child's would. */
typedef struct pipe_writer {
  HANDLE wr;
  uint64_t count;
  size_t size;
  char *buf;
} pipe_writer;

static unsigned __stdcall write_messages(void *p) {
  pipe_writer *w = p;
  for (uint64_t i = 0; i < w->count; i++) {
    size_t off = 0;
    while (off < w->size) {
      DWORD n = 0;
      if (!WriteFile(w->wr, w->buf + off, (DWORD)(w->size - off), &n, NULL)) return 1;
      off += n;
    }
  }
  return 0;
}

double bench_raw_pipe_rate(uint64_t count, size_t size) {
  HANDLE rd, wr;
  if (!CreatePipe(&rd, &wr, NULL, 1 << 16)) return 0;
  char *in = calloc(1, size), *out = calloc(1, size);
  pipe_writer w = {wr, count, size, out};
  double t0 = bench_now();
  HANDLE t = (HANDLE)_beginthreadex(NULL, 0, write_messages, &w, 0, NULL);
  for (uint64_t i = 0; t && i < count; i++) {
    size_t off = 0;
    while (off < size) {
      DWORD n = 0;
      if (!ReadFile(rd, in + off, (DWORD)(size - off), &n, NULL) || n == 0) break;
      off += n;
    }
  }
  double elapsed = bench_now() - t0;
  if (t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
  }
  CloseHandle(rd);
  CloseHandle(wr);
  free(in);
  free(out);
  return t && elapsed > 0 ? (double)count / elapsed : 0;
}

typedef struct pong {
  HANDLE in, out;
  int iterations;
} pong;

static unsigned __stdcall answer(void *p) {
  pong *g = p;
  char c;
  DWORD n;
  for (int i = 0; i < g->iterations; i++)
    if (!ReadFile(g->in, &c, 1, &n, NULL) || !WriteFile(g->out, &c, 1, &n, NULL)) return 1;
  return 0;
}

/* A thread answers: Windows has no fork, and a child would be a spawn. */
double bench_raw_pingpong(int iterations) {
  HANDLE there_rd, there_wr, back_rd, back_wr;
  if (!CreatePipe(&there_rd, &there_wr, NULL, 0) || !CreatePipe(&back_rd, &back_wr, NULL, 0)) return 0;
  pong g = {there_rd, back_wr, iterations};
  HANDLE t = (HANDLE)_beginthreadex(NULL, 0, answer, &g, 0, NULL);
  char c = 0;
  DWORD n;
  double t0 = bench_now();
  for (int i = 0; t && i < iterations; i++)
    if (!WriteFile(there_wr, &c, 1, &n, NULL) || !ReadFile(back_rd, &c, 1, &n, NULL)) break;
  double elapsed = bench_now() - t0;
  if (t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
  }
  CloseHandle(there_rd);
  CloseHandle(there_wr);
  CloseHandle(back_rd);
  CloseHandle(back_wr);
  return t ? elapsed / iterations : 0;
}
