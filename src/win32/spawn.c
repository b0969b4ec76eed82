/* Starting and reaping children: CreateProcessW of our own executable.
 *
 * Handing over handles: STARTUPINFOEX with PROC_THREAD_ATTRIBUTE_HANDLE_LIST
 * and bInheritHandles=TRUE, so the child inherits exactly the listed
 * handles (at the same values, which is what lets the bootstrap message
 * name them before the child exists) plus its standard handles. A listed
 * handle must be inheritable at the moment of CreateProcess; ours are not
 * (so no other CreateProcess in the program picks them up), so each is
 * made inheritable just for the call and restored right after. Two of our
 * own starts that share a handle (one queue given to two children) must
 * not undo each other's flag, so that window is serialized by spawn_lock;
 * it covers only the flag changes and CreateProcessW itself.
 *
 * The child is created suspended, put in the kill-on-close job, then
 * resumed, so it cannot start a grandchild outside the job. */
#include <stdlib.h>
#include <string.h>

#include "win32.h"

struct mp__child {
  HANDLE process;
  DWORD pid;
  int ended;
  int exitcode;
};

static SRWLOCK spawn_lock = SRWLOCK_INIT;
#define SPAWN_ATTEMPTS 3

mp__handle mp__child_handle(int method, const mp__handle *handles, size_t i) {
  (void)method;
  return handles[i]; /* inherited handles keep their value */
}

int64_t mp__child_pid(const mp__child *c) { return c ? (int64_t)c->pid : 0; }

/* ------------------------------------------------------ exit codes */
/* Crashes read as the signal POSIX would report; terminate, kill and a
 * worker's abort() use MP__WIN_SIGNAL_EXIT_BASE | N. */
static int decode_exit(DWORD code) {
  if ((code & 0xFFFFFF00u) == MP__WIN_SIGNAL_EXIT_BASE) return -(int)(code & 0xFFu);
  switch (code) {
  case 0xC0000005u: /* STATUS_ACCESS_VIOLATION */
  case 0xC0000006u: /* STATUS_IN_PAGE_ERROR */
  case 0xC00000FDu: /* STATUS_STACK_OVERFLOW */
  case 0xC000008Cu: /* STATUS_ARRAY_BOUNDS_EXCEEDED */
  case 0x80000002u: /* STATUS_DATATYPE_MISALIGNMENT */
    return -11;
  case 0xC000001Du: /* STATUS_ILLEGAL_INSTRUCTION */
  case 0xC0000096u: /* STATUS_PRIVILEGED_INSTRUCTION */
    return -4;
  case 0xC0000094u: /* STATUS_INTEGER_DIVIDE_BY_ZERO */
  case 0xC0000095u: /* STATUS_INTEGER_OVERFLOW */
  case 0xC000008Du: case 0xC000008Eu: case 0xC000008Fu: case 0xC0000090u:
  case 0xC0000091u: case 0xC0000092u: case 0xC0000093u: /* STATUS_FLOAT_* */
    return -8;
  case 0xC000013Au: /* STATUS_CONTROL_C_EXIT */
    return -2;
  case 0xC0000409u: /* STATUS_STACK_BUFFER_OVERRUN: __fastfail, the UCRT's abort */
    return -6;
  default:
    break;
  }
  /* Any other exception status is an abnormal end without a POSIX name. */
  if (code >= 0xC0000000u) return -6;
  return (int)(code & 0x7FFFFFFFu);
}

/* ------------------------------------------------------ the command line */
static wchar_t *exe_path(void) {
  DWORD cap = MAX_PATH;
  for (;;) {
    wchar_t *buf = malloc(cap * sizeof *buf);
    if (!buf) {
      mp__set_error(MP_ENOMEM, "spawn: out of memory");
      return NULL;
    }
    DWORD n = GetModuleFileNameW(NULL, buf, cap);
    if (n == 0) {
      mp__win_error(MP_ESYS, GetLastError(), "GetModuleFileNameW");
      free(buf);
      return NULL;
    }
    if (n < cap) return buf;
    free(buf);
    if (cap >= 32768) {
      mp__set_error(MP_ESYS, "GetModuleFileNameW: the path is too long");
      return NULL;
    }
    cap *= 2;
  }
}

/* The parent's own argv[0], as its command line has it (NULL if empty or
 * out of memory). The C runtime reads argv[0] by its own rule: up to the
 * next quote if it starts with one, else up to the first blank, with no
 * backslash escapes. */
static wchar_t *parent_argv0(void) {
  const wchar_t *start = GetCommandLineW(), *end;
  if (!start) return NULL;
  if (*start == L'"') {
    end = wcschr(++start, L'"');
    if (!end) end = start + wcslen(start);
  } else {
    for (end = start; *end && *end != L' ' && *end != L'\t'; end++) {
    }
  }
  if (end == start) return NULL;
  wchar_t *copy = malloc(((size_t)(end - start) + 1) * sizeof *copy);
  if (copy) {
    memcpy(copy, start, (size_t)(end - start) * sizeof *copy);
    copy[end - start] = L'\0';
  }
  return copy;
}

/* argv[0] is the parent's own, so the child's main() sees what a fresh run
 * of the program would, and Task Manager's command line names the program
 * as it was started; CreateProcessW gets the image's path apart (exe). */
static wchar_t *command_line(const wchar_t *exe, const char *arg) {
  wchar_t *warg = mp__win_widen(arg ? arg : "");
  if (!warg) return NULL;
  wchar_t *argv0 = parent_argv0();
  const wchar_t *first = argv0 ? argv0 : exe;
  /* Worst case every character doubles, plus quotes and a space. */
  size_t cap = (wcslen(first) + wcslen(warg)) * 2 + 8;
  wchar_t *cmd = malloc(cap * sizeof *cmd);
  size_t at = 0;
  if (cmd) {
    cmd[0] = L'\0';
    at = mp__win_quote_arg(cmd, 0, cap, first);
    if (at) at = mp__win_quote_arg(cmd, at, cap, warg);
  }
  free(argv0);
  free(warg);
  if (!cmd || !at) {
    free(cmd);
    mp__set_error(MP_ENOMEM, "spawn: out of memory for the command line");
    return NULL;
  }
  return cmd;
}

/* ------------------------------------------------------ the handle list */
typedef struct handle_list {
  HANDLE *h;
  DWORD *was;    /* each handle's flags before we made it inheritable */
  size_t n;
  HANDLE std[3];
} handle_list;

static int listed(const handle_list *l, HANDLE h) {
  for (size_t i = 0; i < l->n; i++)
    if (l->h[i] == h) return 1;
  return 0;
}

/* A real handle, not a console pseudo-handle or nothing: those cannot go
 * in a handle list. */
static int listable(HANDLE h) {
  DWORD flags;
  return h && h != INVALID_HANDLE_VALUE && GetHandleInformation(h, &flags) &&
         GetFileType(h) != FILE_TYPE_UNKNOWN;
}

static int list_make(handle_list *l, const mp__spawn_options *o) {
  static const DWORD std_ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
  memset(l, 0, sizeof *l);
  l->h = malloc((o->nhandles + 3) * sizeof *l->h);
  l->was = malloc((o->nhandles + 3) * sizeof *l->was);
  if (!l->h || !l->was) return mp__set_error(MP_ENOMEM, "spawn: out of memory");
  /* No duplicates: CreateProcess refuses a list that names one twice. */
  for (size_t i = 0; i < o->nhandles; i++) {
    HANDLE h = MP__HANDLE_OF(o->handles[i]);
    if (h && h != INVALID_HANDLE_VALUE && !listed(l, h)) l->h[l->n++] = h;
  }
  for (int i = 0; i < 3; i++) {
    HANDLE h = GetStdHandle(std_ids[i]);
    l->std[i] = listable(h) ? h : NULL;
    if (l->std[i] && !listed(l, h)) l->h[l->n++] = h;
  }
  return MP_OK;
}

static void list_release(handle_list *l) {
  free(l->h);
  free(l->was);
}

static int make_inheritable(handle_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    if (!GetHandleInformation(l->h[i], &l->was[i]) ||
        !SetHandleInformation(l->h[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) {
      DWORD err = GetLastError();
      for (size_t k = 0; k < i; k++) SetHandleInformation(l->h[k], HANDLE_FLAG_INHERIT, l->was[k]);
      return mp__win_error(MP_ESYS, err, "SetHandleInformation (a handle for the child)");
    }
  }
  return MP_OK;
}

static void restore_inheritance(handle_list *l) {
  for (size_t i = 0; i < l->n; i++) SetHandleInformation(l->h[i], HANDLE_FLAG_INHERIT, l->was[i]);
}

/* The child's environment block: this process's, with the worker's mark
 * (MP__WORKER_ENV=<token>, platform.h) in place of any it has, kept in
 * the sorted order Windows asks of a block. NULL when out of memory. */
static int names_var(const wchar_t *entry, const wchar_t *name, size_t len) {
  return _wcsnicmp(entry, name, len) == 0 && entry[len] == L'=';
}

static wchar_t *child_environment(const char *token) {
  wchar_t *name = mp__win_widen(MP__WORKER_ENV), *value = mp__win_widen(token ? token : "");
  wchar_t *cur = GetEnvironmentStringsW(), *block = NULL;
  if (name && value && cur) {
    size_t keyl = wcslen(name), total = 0;
    for (const wchar_t *e = cur; *e; e += wcslen(e) + 1) total += wcslen(e) + 1;
    size_t markl = keyl + 1 + wcslen(value) + 1;
    block = malloc((total + markl + 1) * sizeof *block);
    if (block) {
      size_t at = 0;
      int placed = 0;
      for (const wchar_t *e = cur;; e += wcslen(e) + 1) {
        /* "=C:" entries sort first; the mark goes before the first name
         * above it, or at the end. */
        if (!placed && (!*e || (*e != L'=' && _wcsicmp(e, name) > 0))) {
          memcpy(block + at, name, keyl * sizeof *block);
          block[at + keyl] = L'=';
          memcpy(block + at + keyl + 1, value, (markl - keyl - 1) * sizeof *block); /* with its NUL */
          at += markl;
          placed = 1;
        }
        if (!*e) break;
        if (names_var(e, name, keyl)) continue;
        size_t n = wcslen(e) + 1;
        memcpy(block + at, e, n * sizeof *block);
        at += n;
      }
      block[at] = L'\0';
    }
  }
  if (cur) FreeEnvironmentStringsW(cur);
  free(name);
  free(value);
  if (!block) mp__set_error(MP_ENOMEM, "spawn: out of memory for the environment");
  return block;
}

/* ------------------------------------------------------ the start */
static int create_suspended(const wchar_t *exe, wchar_t *cmd, wchar_t *env, handle_list *l,
                            PROCESS_INFORMATION *pi) {
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(NULL, 1, 0, &size);
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = malloc(size);
  if (!attrs) return mp__set_error(MP_ENOMEM, "spawn: out of memory");
  if (!InitializeProcThreadAttributeList(attrs, 1, 0, &size)) {
    DWORD err = GetLastError();
    free(attrs);
    return mp__win_error(MP_ESYS, err, "InitializeProcThreadAttributeList");
  }
  int rc = MP_OK;
  if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, l->h, l->n * sizeof *l->h, NULL,
                                 NULL)) {
    rc = mp__win_error(MP_ESYS, GetLastError(), "UpdateProcThreadAttribute (handle list)");
  } else {
    STARTUPINFOEXW si;
    ZeroMemory(&si, sizeof si);
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = l->std[0];
    si.StartupInfo.hStdOutput = l->std[1];
    si.StartupInfo.hStdError = l->std[2];
    si.lpAttributeList = attrs;
    AcquireSRWLockExclusive(&spawn_lock);
    rc = make_inheritable(l);
    if (rc == MP_OK) {
      /* An empty list is not allowed: then inherit nothing at all. */
      BOOL inherit = l->n > 0;
      if (!inherit) si.lpAttributeList = NULL;
      /* Wine's CreateProcessW waits for its loader to set the child up;
       * under heavy process churn that child now and then dies first, and
       * the call fails with ERROR_INTERNAL_ERROR. None of our code ran in
       * it (it was to start suspended), so a new attempt is safe. */
      for (int attempt = 1;; attempt++) {
        if (CreateProcessW(exe, cmd, NULL, NULL, inherit,
                           CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT |
                               (inherit ? EXTENDED_STARTUPINFO_PRESENT : 0),
                           env, NULL, &si.StartupInfo, pi))
          break;
        DWORD err = GetLastError();
        if (err != ERROR_INTERNAL_ERROR || attempt == SPAWN_ATTEMPTS) {
          rc = mp__win_error(MP_ESYS, err, "CreateProcessW");
          break;
        }
        Sleep(attempt);
      }
      restore_inheritance(l);
    }
    ReleaseSRWLockExclusive(&spawn_lock);
  }
  DeleteProcThreadAttributeList(attrs);
  free(attrs);
  return rc;
}

int mp__spawn(mp__child **out, const mp__spawn_options *o) {
  *out = NULL;
  if (o->method == MP_START_FORK)
    return mp__set_error(MP_ENOTSUP, "the fork start method is POSIX-only; use MP_START_SPAWN");
  if (o->method != MP_START_SPAWN) return mp__set_error(MP_EINVAL, "spawn: unknown start method %d", o->method);
  HANDLE job = mp__win_job();
  if (!job) return MP_ESYS;
  handle_list l;
  wchar_t *exe = NULL, *cmd = NULL, *env = NULL;
  mp__child *c = NULL;
  PROCESS_INFORMATION pi;
  ZeroMemory(&pi, sizeof pi);
  int rc = list_make(&l, o);
  if (rc == MP_OK && (!(exe = exe_path()) || !(cmd = command_line(exe, o->spawn_arg)) ||
                      !(env = child_environment(o->spawn_arg))))
    rc = MP_ENOMEM;
  if (rc == MP_OK && !(c = calloc(1, sizeof *c))) rc = mp__set_error(MP_ENOMEM, "spawn: out of memory");
  if (rc == MP_OK) rc = create_suspended(exe, cmd, env, &l, &pi);
  if (rc == MP_OK && !AssignProcessToJobObject(job, pi.hProcess)) {
    rc = mp__win_error(MP_ESYS, GetLastError(), "AssignProcessToJobObject");
    TerminateProcess(pi.hProcess, MP__WIN_SIGNAL_EXIT_BASE | MP__SIG_KILL);
    WaitForSingleObject(pi.hProcess, INFINITE);
  }
  if (rc == MP_OK && ResumeThread(pi.hThread) == (DWORD)-1) {
    rc = mp__win_error(MP_ESYS, GetLastError(), "ResumeThread");
    TerminateProcess(pi.hProcess, MP__WIN_SIGNAL_EXIT_BASE | MP__SIG_KILL);
    WaitForSingleObject(pi.hProcess, INFINITE);
  }
  if (pi.hThread) CloseHandle(pi.hThread);
  if (rc == MP_OK) {
    c->process = pi.hProcess;
    c->pid = pi.dwProcessId;
    *out = c;
    c = NULL;
  } else if (pi.hProcess) {
    CloseHandle(pi.hProcess);
  }
  free(c);
  free(env);
  free(cmd);
  free(exe);
  list_release(&l);
  return rc;
}

/* ------------------------------------------------------ waiting */
int mp__child_wait(mp__child *c, double timeout, int *exitcode) {
  if (!c->ended) {
    DWORD w = WaitForSingleObject(c->process, mp__win_ms(timeout));
    if (w == WAIT_TIMEOUT) return mp__set_error(MP_ETIMEDOUT, "pid %lu is still running", (unsigned long)c->pid);
    if (w != WAIT_OBJECT_0) return mp__win_error(MP_ESYS, GetLastError(), "WaitForSingleObject (child)");
    DWORD code = 0;
    if (!GetExitCodeProcess(c->process, &code)) return mp__win_error(MP_ESYS, GetLastError(), "GetExitCodeProcess");
    c->ended = 1;
    c->exitcode = decode_exit(code);
  }
  *exitcode = c->exitcode;
  return MP_OK;
}

int mp__child_wait_exit(mp__child *c, double timeout) {
  if (c->ended) return MP_OK;
  DWORD w = WaitForSingleObject(c->process, mp__win_ms(timeout));
  if (w == WAIT_OBJECT_0) return MP_OK;
  if (w == WAIT_TIMEOUT) return mp__set_error(MP_ETIMEDOUT, "pid %lu is still running", (unsigned long)c->pid);
  return mp__win_error(MP_ESYS, GetLastError(), "WaitForSingleObject (child)");
}

int mp__child_signal(mp__child *c, int sig) {
  if (c->ended || WaitForSingleObject(c->process, 0) == WAIT_OBJECT_0) return MP_OK;
  UINT code = MP__WIN_SIGNAL_EXIT_BASE | (sig == MP__SIG_KILL ? MP__SIG_KILL : MP__SIG_TERM);
  if (!TerminateProcess(c->process, code)) {
    DWORD err = GetLastError();
    /* It ended between the look and the kill. */
    if (WaitForSingleObject(c->process, 0) == WAIT_OBJECT_0) return MP_OK;
    return mp__win_error(MP_ESYS, err, "TerminateProcess");
  }
  return MP_OK;
}

void mp__child_free(mp__child *c) {
  if (!c) return;
  if (!c->ended) {
    TerminateProcess(c->process, MP__WIN_SIGNAL_EXIT_BASE | MP__SIG_KILL);
    WaitForSingleObject(c->process, INFINITE);
  }
  CloseHandle(c->process);
  free(c);
}

mp__handle mp__child_wait_handle(const mp__child *c) { return MP__AS_HANDLE(c->process); }
