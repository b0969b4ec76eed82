/* clang's own <intrin.h>, as clang-cl uses with MSVC: it declares MSVC's
 * intrinsics (_InterlockedExchange64, ...). Wine's, which clang's would
 * include next, redefines __cpuid and __cpuidex, builtins of clang's:
 * its include guard, set here, keeps it out. */
#define _INC_INTRIN
#include_next <intrin.h>
