/* Wine's <windows.h>, with what the Windows SDK's has and Wine 8's lacks. */
/* Wine's <winnt.h> defines _InterlockedCompareExchange128 itself under
 * clang, where clang in MSVC mode has it as a builtin: under another name. */
#define _InterlockedCompareExchange128 mproc_shim_wine_InterlockedCompareExchange128
#include_next <windows.h>
#undef _InterlockedCompareExchange128
#ifndef PIPE_REJECT_REMOTE_CLIENTS
#define PIPE_REJECT_REMOTE_CLIENTS 0x00000008
#endif
/* Declared again where the SDK has it and Wine's headers do not. */
WINBASEAPI BOOL WINAPI GetProcessHandleCount(HANDLE, PDWORD);
