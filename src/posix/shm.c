/* Anonymous shared memory: memfd on Linux, an shm_open name unlinked at
 * once elsewhere, so nothing is ever left in /dev/shm, even after a crash. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

static int anonymous_fd(void) {
#if MP__HAVE_MEMFD
  int mfd = memfd_create("mproc", MFD_CLOEXEC);
  if (mfd >= 0 || errno != ENOSYS) return mfd;
#endif
  /* A random name, created exclusively and unlinked at once. */
  for (int attempt = 0; attempt < 100; attempt++) {
    char name[64];
    snprintf(name, sizeof name, "/mproc-%ld-%ld-%d", (long)getpid(), (long)mp__now(), attempt);
    int named = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (named >= 0) {
      shm_unlink(name);
      int fl = fcntl(named, F_GETFD);
      if (fl != -1) fcntl(named, F_SETFD, fl | FD_CLOEXEC);
      return named;
    }
    if (errno != EEXIST) return -1;
  }
  return -1;
}

int mp__shm_new(size_t size, mp__handle *h) {
  *h = MP__NO_HANDLE;
  int fd = anonymous_fd();
  if (fd < 0) return mp__posix_error(MP_ESYS, errno, "shared memory (memfd_create/shm_open)");
  /* ftruncate reserves without committing: tmpfs pages come on first write. */
  if (ftruncate(fd, (off_t)size) != 0) {
    int e = errno;
    close(fd);
    return mp__posix_error(e == EFBIG || e == EINVAL ? MP_ETOOBIG : MP_ESYS, e, "ftruncate(shared memory)");
  }
  *h = fd;
  return MP_OK;
}

int mp__shm_create(size_t size, mp__handle *h, void **addr) {
  *addr = NULL;
  int rc = mp__shm_new(size, h);
  if (rc != MP_OK) return rc;
  if ((rc = mp__shm_attach(*h, size, addr)) != MP_OK) {
    close((int)*h);
    *h = MP__NO_HANDLE;
  }
  return rc;
}

int mp__shm_attach(mp__handle h, size_t size, void **addr) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
  if (p == MAP_FAILED) return mp__posix_error(errno == ENOMEM ? MP_ENOMEM : MP_ESYS, errno, "mmap(shared memory)");
  *addr = p;
  return MP_OK;
}

int mp__shm_commit(void *addr, size_t len) {
  (void)addr;
  (void)len;
  return MP_OK; /* tmpfs pages come on first touch */
}

void mp__shm_detach(void *addr, size_t size) {
  if (addr) munmap(addr, size);
}

void mp__shm_discard(void *addr, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t lo = ((uintptr_t)addr + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
  uintptr_t hi = ((uintptr_t)addr + len) & ~(uintptr_t)(page - 1);
  if (hi <= lo) return;
#if MP__HAVE_MADV_REMOVE
  /* Frees the shared pages themselves, for every process mapping them. */
  madvise((void *)lo, hi - lo, MADV_REMOVE);
#endif
}
