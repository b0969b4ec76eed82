/* Endpoints: a named pipe with many instances, \\.\pipe\mproc-<pid>-<random>.
 *
 * The listener always keeps one instance waiting in an overlapped
 * ConnectNamedPipe, so an accept can time out and a later accept picks the
 * same wait up again. The first instance is created with
 * FILE_FLAG_FIRST_PIPE_INSTANCE, so nobody can have squatted the name, and
 * every instance refuses remote clients. A client that finds every
 * instance busy waits with WaitNamedPipe; one that finds no pipe at all
 * reads MP_ECLOSED: the server and its name are gone (a pipe name dies
 * with the last handle to it, so a killed server leaves nothing behind).
 *
 * Both ends are opened for overlapped I/O, so mp__read can time out on
 * them; mp__write_all passes an OVERLAPPED on every write, which such a
 * handle requires. A connection's two handles are the duplex instance and
 * a duplicate of it, so each can be closed on its own. None is
 * inheritable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../deadline.h"
#include "win32.h"

#define INSTANCE_BUFFER (64 * 1024)

struct mp__listener {
  wchar_t *name;
  HANDLE pending;   /* the instance the next client gets, or NULL */
  HANDLE ev;        /* signals the end of the ConnectNamedPipe on pending */
  OVERLAPPED ov;
  int connecting;   /* that ConnectNamedPipe is under way */
};

static HANDLE new_instance(mp__listener *l, int first) {
  DWORD open = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
  DWORD mode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE h = CreateNamedPipeW(l->name, open, mode, PIPE_UNLIMITED_INSTANCES, INSTANCE_BUFFER, INSTANCE_BUFFER, 0,
                              NULL);
  if (h == INVALID_HANDLE_VALUE) {
    mp__win_error(MP_ESYS, GetLastError(), "CreateNamedPipeW (endpoint)");
    return NULL;
  }
  return h;
}

void mp__endpoint_close(mp__listener *l) {
  if (!l) return;
  if (l->pending) {
    if (l->connecting) {
      DWORD n;
      CancelIoEx(l->pending, &l->ov);
      GetOverlappedResult(l->pending, &l->ov, &n, TRUE);
    }
    CloseHandle(l->pending);
  }
  if (l->ev) CloseHandle(l->ev);
  free(l->name);
  free(l);
}

void mp__endpoint_remove(const char *name) {
  (void)name; /* a pipe name dies with its last handle */
}

int mp__endpoint_listen(mp__listener **out, char name[MP__ENDPOINT_NAME_MAX]) {
  unsigned char raw[16];
  char hex[33];
  *out = NULL;
  int rc = mp__random_bytes(raw, sizeof raw);
  if (rc != MP_OK) return rc;
  for (size_t i = 0; i < sizeof raw; i++) snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  snprintf(name, MP__ENDPOINT_NAME_MAX, "\\\\.\\pipe\\mproc-%lu-%s", (unsigned long)GetCurrentProcessId(), hex);
  mp__listener *l = calloc(1, sizeof *l);
  if (!l) return mp__set_error(MP_ENOMEM, "endpoint: out of memory");
  if (!(l->name = mp__win_widen(name))) {
    rc = MP_ENOMEM;
    goto fail;
  }
  /* Manual reset, as overlapped operations want. */
  if (!(l->ev = CreateEventW(NULL, TRUE, FALSE, NULL))) {
    rc = mp__win_error(MP_ESYS, GetLastError(), "CreateEventW (endpoint)");
    goto fail;
  }
  if (!(l->pending = new_instance(l, 1))) {
    rc = MP_ESYS;
    goto fail;
  }
  *out = l;
  return MP_OK;
fail:
  mp__endpoint_close(l);
  return rc;
}

/* Starts waiting for a client on the pending instance. 1: a client is
 * already connected; 0: the wait is under way; <0: error. */
static int start_connect(mp__listener *l) {
  memset(&l->ov, 0, sizeof l->ov);
  ResetEvent(l->ev);
  l->ov.hEvent = l->ev;
  if (ConnectNamedPipe(l->pending, &l->ov)) return 1;
  DWORD err = GetLastError();
  if (err == ERROR_PIPE_CONNECTED) return 1;
  if (err == ERROR_IO_PENDING) {
    l->connecting = 1;
    return 0;
  }
  if (err == ERROR_NO_DATA) {
    /* A client came and went before we looked: recycle the instance. */
    DisconnectNamedPipe(l->pending);
    return 0;
  }
  return mp__win_error(MP_ESYS, err, "ConnectNamedPipe");
}

/* The connection's two handles: h to read, a duplicate of it to write. */
static int split(HANDLE h, mp__handle *rd, mp__handle *wr) {
  HANDLE dup;
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    DWORD err = GetLastError();
    CloseHandle(h);
    return mp__win_error(MP_ESYS, err, "DuplicateHandle (endpoint)");
  }
  *rd = MP__AS_HANDLE(h);
  *wr = MP__AS_HANDLE(dup);
  return MP_OK;
}

int mp__endpoint_accept(mp__listener *l, mp__handle *rd, mp__handle *wr, double timeout) {
  double deadline = mp__deadline(timeout);
  *rd = *wr = MP__NO_HANDLE;
  for (;;) {
    if (!l->pending && !(l->pending = new_instance(l, 0))) return MP_ESYS;
    int connected = 0;
    if (!l->connecting) {
      int r = start_connect(l);
      if (r < 0) return r;
      connected = r;
    }
    if (!connected && l->connecting) {
      if (WaitForSingleObject(l->ev, mp__win_ms(mp__remaining(deadline))) == WAIT_TIMEOUT)
        return mp__set_error(MP_ETIMEDOUT, "no connection yet");
      DWORD n;
      l->connecting = 0;
      if (GetOverlappedResult(l->pending, &l->ov, &n, FALSE)) {
        connected = 1;
      } else {
        DWORD err = GetLastError();
        if (err != ERROR_NO_DATA && err != ERROR_BROKEN_PIPE && err != ERROR_PIPE_NOT_CONNECTED)
          return mp__win_error(MP_ESYS, err, "ConnectNamedPipe");
        DisconnectNamedPipe(l->pending);
      }
    }
    if (connected) {
      HANDLE h = l->pending;
      /* The next instance at once, so the name never lacks a waiting one;
       * if that fails now, the next accept tries again. */
      l->pending = new_instance(l, 0);
      return split(h, rd, wr);
    }
    if (mp__remaining(deadline) == 0) return mp__set_error(MP_ETIMEDOUT, "no connection yet");
  }
}

int mp__endpoint_connect(const char *name, mp__handle *rd, mp__handle *wr, double timeout) {
  static const char prefix[] = "\\\\.\\pipe\\mproc-";
  double deadline = mp__deadline(timeout);
  *rd = *wr = MP__NO_HANDLE;
  if (!name || strncmp(name, prefix, sizeof prefix - 1) != 0 || strlen(name) >= MP__ENDPOINT_NAME_MAX)
    return mp__set_error(MP_EINVAL, "endpoint: \"%.80s\" is not an endpoint name here", name ? name : "(null)");
  wchar_t *wide = mp__win_widen(name);
  if (!wide) return MP_ENOMEM;
  int rc;
  for (;;) {
    /* Identification only: the server may learn who we are, never act as us. */
    HANDLE h = CreateFileW(wide, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    if (h != INVALID_HANDLE_VALUE) {
      rc = split(h, rd, wr);
      break;
    }
    DWORD err = GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
      rc = mp__set_error(MP_ECLOSED, "nobody listens at %s any more", name);
      break;
    }
    if (err != ERROR_PIPE_BUSY) {
      rc = mp__win_error(MP_ESYS, err, "CreateFileW (endpoint)");
      break;
    }
    double left = mp__remaining(deadline);
    if (left == 0) {
      rc = mp__set_error(MP_ETIMEDOUT, "the listener at %s stayed busy", name);
      break;
    }
    /* Every instance is taken: wait for one in short steps, so a server
     * that dies meanwhile is noticed by the next CreateFileW. */
    WaitNamedPipeW(wide, left < 0 || left > 0.05 ? (DWORD)50 : mp__win_ms(left));
  }
  free(wide);
  return rc;
}
