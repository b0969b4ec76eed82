/* What macOS's <crt_externs.h> declares that mproc uses: the process's
 * environment, for a library that has no `environ` of its own. */
#ifndef MPROC_MACOS_SHIM_CRT_EXTERNS_H
#define MPROC_MACOS_SHIM_CRT_EXTERNS_H
extern char ***_NSGetEnviron(void);
extern int *_NSGetArgc(void);
extern char ***_NSGetArgv(void);
#endif
