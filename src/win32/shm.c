/* Shared memory: an unnamed pagefile-backed section. It is reserved, not
 * committed (SEC_RESERVE): a queue's 4 GiB ring must not charge 4 GiB of
 * commit, so pages are committed as they come into use (mp__shm_commit).
 * Commit happens in the section, so every view sees the same pages, and
 * the section goes when its last handle and view do: nothing is named,
 * nothing outlives its users. */
#include "win32.h"

int mp__shm_new(size_t size, mp__handle *h) {
  *h = MP__NO_HANDLE;
  if (size == 0) return mp__set_error(MP_EINVAL, "shared memory of 0 bytes");
  uint64_t s = (uint64_t)size;
  HANDLE m = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, (DWORD)(s >> 32),
                                (DWORD)(s & 0xFFFFFFFFu), NULL);
  if (!m) {
    DWORD err = GetLastError();
    return mp__win_error(err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_COMMITMENT_LIMIT ? MP_ENOMEM : MP_ESYS,
                         err, "CreateFileMappingW (shared memory)");
  }
  *h = MP__AS_HANDLE(m);
  return MP_OK;
}

int mp__shm_create(size_t size, mp__handle *h, void **addr) {
  *addr = NULL;
  int rc = mp__shm_new(size, h);
  if (rc != MP_OK) return rc;
  if ((rc = mp__shm_attach(*h, size, addr)) != MP_OK) {
    CloseHandle(MP__HANDLE_OF(*h));
    *h = MP__NO_HANDLE;
  }
  return rc;
}

int mp__shm_attach(mp__handle h, size_t size, void **addr) {
  void *p = MapViewOfFile(MP__HANDLE_OF(h), FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, size);
  if (!p) {
    DWORD err = GetLastError();
    return mp__win_error(err == ERROR_NOT_ENOUGH_MEMORY ? MP_ENOMEM : MP_ESYS, err, "MapViewOfFile");
  }
  *addr = p;
  return MP_OK;
}

int mp__shm_commit(void *addr, size_t len) {
  if (len == 0) return MP_OK;
  if (!VirtualAlloc(addr, len, MEM_COMMIT, PAGE_READWRITE)) {
    DWORD err = GetLastError();
    return mp__win_error(err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_COMMITMENT_LIMIT ? MP_ENOMEM : MP_ESYS,
                         err, "VirtualAlloc (committing shared memory)");
  }
  return MP_OK;
}

void mp__shm_detach(void *addr, size_t size) {
  (void)size;
  if (addr) UnmapViewOfFile(addr);
}

/* Committed pages of a section cannot be decommitted through a view; the
 * contract allows best effort, and this is none. */
void mp__shm_discard(void *addr, size_t len) {
  (void)addr;
  (void)len;
}
