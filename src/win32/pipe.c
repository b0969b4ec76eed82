/* Pipes: a named pipe per mp__pipe, because anonymous pipes cannot be
 * read with a timeout (and under Wine they are synchronous only).
 *
 * The read end is the server end, opened for overlapped I/O so a read can
 * wait with a timeout and be cancelled; the write end is the client end,
 * opened for plain blocking writes. Neither is inheritable: only mp__spawn
 * hands one to a child, through its handle list. The name is unique (pid,
 * a counter, the clock), the first instance is ours exclusively, and
 * remote clients are refused, so nobody else can attach to it. */
#include <stdio.h>
#include <wchar.h>
#include <string.h>

#include "win32.h"

#define PIPE_BUFFER (256 * 1024)
/* One WriteFile moves at most this much: huge writes in one call are where
 * pipe implementations (Wine's among them) differ. */
#define WRITE_SLICE (1024 * 1024)

static volatile LONG pipe_serial;

int mp__pipe(mp__handle *read_end, mp__handle *write_end) {
  wchar_t name[96];
  LARGE_INTEGER t;
  *read_end = *write_end = MP__NO_HANDLE;
  QueryPerformanceCounter(&t);
  /* swprintf, ISO C's: MSVC deprecates _snwprintf. */
  swprintf(name, sizeof name / sizeof name[0], L"\\\\.\\pipe\\mproc-%lu-%ld-%llx", GetCurrentProcessId(),
           InterlockedIncrement(&pipe_serial), (unsigned long long)t.QuadPart);
  name[sizeof name / sizeof name[0] - 1] = L'\0';
  HANDLE rd = CreateNamedPipeW(name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                               PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 0,
                               PIPE_BUFFER, 0, NULL);
  if (rd == INVALID_HANDLE_VALUE) return mp__win_error(MP_ESYS, GetLastError(), "CreateNamedPipeW");
  HANDLE wr = CreateFileW(name, GENERIC_WRITE | FILE_READ_ATTRIBUTES, 0, NULL, OPEN_EXISTING, 0, NULL);
  if (wr == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    CloseHandle(rd);
    return mp__win_error(MP_ESYS, err, "CreateFileW (pipe client)");
  }
  *read_end = MP__AS_HANDLE(rd);
  *write_end = MP__AS_HANDLE(wr);
  return MP_OK;
}

void mp__handle_close(mp__handle h) {
  if (h != MP__NO_HANDLE && h != 0) CloseHandle(MP__HANDLE_OF(h));
}

int mp__handle_reads_block(mp__handle h) {
  (void)h; /* an overlapped read that waits forever is one call already */
  return MP_OK;
}

/* ------------------------------------------------ the per-thread event */
static INIT_ONCE event_once = INIT_ONCE_STATIC_INIT;
static DWORD event_slot = FLS_OUT_OF_INDEXES;

static void WINAPI close_thread_event(void *ev) {
  if (ev) CloseHandle((HANDLE)ev);
}

static BOOL CALLBACK make_event_slot(INIT_ONCE *once, void *param, void **ctx) {
  (void)once;
  (void)param;
  (void)ctx;
  event_slot = FlsAlloc(close_thread_event);
  return event_slot != FLS_OUT_OF_INDEXES;
}

HANDLE mp__win_thread_event(void) {
  if (!InitOnceExecuteOnce(&event_once, make_event_slot, NULL, NULL)) {
    mp__win_error(MP_ESYS, GetLastError(), "FlsAlloc");
    return NULL;
  }
  HANDLE ev = (HANDLE)FlsGetValue(event_slot);
  if (ev) return ev;
  /* Manual reset: ReadFile resets it when an operation starts. */
  ev = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (!ev) {
    mp__win_error(MP_ESYS, GetLastError(), "CreateEventW");
    return NULL;
  }
  FlsSetValue(event_slot, ev);
  return ev;
}

/* ------------------------------------------------------------- reading */
static int read_error(DWORD err) {
  if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED || err == ERROR_NO_DATA ||
      err == ERROR_HANDLE_EOF)
    return mp__set_error(MP_ECLOSED, "end of stream: the writer is gone");
  return mp__win_error(MP_ESYS, err, "ReadFile");
}

int mp__read(mp__handle h, void *buf, size_t cap, size_t *got, double timeout) {
  HANDLE file = MP__HANDLE_OF(h);
  DWORD want = cap > (1u << 30) ? (1u << 30) : (DWORD)cap;
  *got = 0;
  if (timeout == 0) {
    /* Only try: ask what is there rather than start and cancel a read. */
    DWORD avail = 0;
    if (!PeekNamedPipe(file, NULL, 0, NULL, &avail, NULL)) return read_error(GetLastError());
    if (avail == 0) return mp__set_error(MP_ETIMEDOUT, "nothing to read yet");
    if (avail < want) want = avail;
  }
  HANDLE ev = mp__win_thread_event();
  if (!ev) return MP_ESYS;
  OVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  ov.hEvent = ev;
  DWORD n = 0;
  if (!ReadFile(file, buf, want, NULL, &ov)) {
    DWORD err = GetLastError();
    if (err != ERROR_IO_PENDING && err != ERROR_MORE_DATA) return read_error(err);
    if (err == ERROR_IO_PENDING && WaitForSingleObject(ev, mp__win_ms(timeout)) == WAIT_TIMEOUT) {
      /* Cancel, then collect: the read may have completed meanwhile, and
       * then its bytes are ours and must not be lost. */
      CancelIoEx(file, &ov);
    }
  }
  if (!GetOverlappedResult(file, &ov, &n, TRUE)) {
    DWORD err = GetLastError();
    if (err == ERROR_OPERATION_ABORTED) return mp__set_error(MP_ETIMEDOUT, "timed out waiting to read");
    if (err != ERROR_MORE_DATA) return read_error(err);
  }
  if (n == 0) return mp__set_error(MP_ECLOSED, "end of stream: the writer is gone");
  *got = n;
  return MP_OK;
}

/* ------------------------------------------------------------- writing */
static int write_error(DWORD err) {
  if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED)
    return mp__set_error(MP_ECLOSED, "write: the reader is gone");
  return mp__win_error(MP_ESYS, err, "WriteFile");
}

/* Every write carries an OVERLAPPED and waits for its end. A handle opened
 * for overlapped I/O (an endpoint connection, which reads with timeouts)
 * requires one, or WriteFile may report completion too early; on a plain
 * handle (the write end of mp__pipe) the write is synchronous anyway and
 * the wait returns at once. */
static int write_some(HANDLE file, const char *p, DWORD want, DWORD *n) {
  HANDLE ev = mp__win_thread_event();
  if (!ev) return MP_ESYS;
  OVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  ov.hEvent = ev;
  if (!WriteFile(file, p, want, NULL, &ov)) {
    DWORD err = GetLastError();
    if (err != ERROR_IO_PENDING) return write_error(err);
  }
  if (!GetOverlappedResult(file, &ov, n, TRUE)) return write_error(GetLastError());
  return MP_OK;
}

int mp__write_all(mp__handle h, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    DWORD n = 0, want = len > WRITE_SLICE ? WRITE_SLICE : (DWORD)len;
    int rc = write_some(MP__HANDLE_OF(h), p, want, &n);
    if (rc != MP_OK) return rc;
    p += n;
    len -= n;
  }
  return MP_OK;
}

int mp__write_parts(mp__handle h, const mp__iovec *parts, size_t n) {
  /* Small frames go out in one WriteFile, gathered here: the reader wakes
   * once, and another writer's frame cannot land in the middle. */
  char small[4096];
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += parts[i].len;
  if (total <= sizeof small) {
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
      if (parts[i].len) memcpy(small + at, parts[i].base, parts[i].len);
      at += parts[i].len;
    }
    return total ? mp__write_all(h, small, total) : MP_OK;
  }
  for (size_t i = 0; i < n; i++) {
    int rc = mp__write_all(h, parts[i].base, parts[i].len);
    if (rc != MP_OK) return rc;
  }
  return MP_OK;
}

int mp__handle_dup(mp__handle h, mp__handle *out, const char *api) {
  *out = MP__NO_HANDLE;
  if (h == MP__NO_HANDLE || h == 0) return mp__set_error(MP_EINVAL, "%s: not a valid HANDLE", api);
  HANDLE dup = NULL;
  /* Not inheritable: mp__spawn makes it so only for the child it is listed for. */
  if (!DuplicateHandle(GetCurrentProcess(), (HANDLE)h, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    DWORD err = GetLastError();
    if (err == ERROR_INVALID_HANDLE) return mp__set_error(MP_EINVAL, "%s: the HANDLE is not open", api);
    return mp__win_error(MP_ESYS, err, api);
  }
  *out = (mp__handle)dup;
  return MP_OK;
}
