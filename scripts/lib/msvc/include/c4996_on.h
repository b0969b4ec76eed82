/* What MSVC's C runtime marks deprecated (warning C4996, an error under
 * /WX), which Wine's headers do not: each use of one of these names as a
 * call goes through a function marked deprecated with MSVC's words, so
 * clang's -Werror=deprecated-declarations stops where cl /W4 /WX would.
 * As with MSVC, _CRT_SECURE_NO_WARNINGS (the "unsafe" functions) and
 * _CRT_NONSTDC_NO_WARNINGS or _CRT_NONSTDC_NO_DEPRECATE (the POSIX names)
 * defined before the header is included turn them off.
 *
 * No include guard: every wrapper includes it after the header it wraps;
 * a name is made a macro once its header has been seen (MPROC_SHIM_SEEN_*). */
#ifndef MPROC_SHIM_C4996_FNS
#define MPROC_SHIM_C4996_FNS
__declspec(deprecated("This function or variable may be unsafe: MSVC's C4996. To disable deprecation, use "
                      "_CRT_SECURE_NO_WARNINGS."))
static __inline int mproc_c4996_unsafe(void) { return 0; }
__declspec(deprecated("The POSIX name for this item is deprecated: MSVC's C4996. Use the name with a leading "
                      "underscore, or _CRT_NONSTDC_NO_WARNINGS."))
static __inline int mproc_c4996_posix_name(void) { return 0; }
#endif

#define MPROC_UNSAFE(call) (mproc_c4996_unsafe(), call)
#define MPROC_POSIX_NAME(call) (mproc_c4996_posix_name(), call)

#if !defined(_CRT_SECURE_NO_WARNINGS)
#  if defined(MPROC_SHIM_SEEN_STRING)
#    define strcpy(...) MPROC_UNSAFE(strcpy(__VA_ARGS__))
#    define strcat(...) MPROC_UNSAFE(strcat(__VA_ARGS__))
#    define strncpy(...) MPROC_UNSAFE(strncpy(__VA_ARGS__))
#    define strncat(...) MPROC_UNSAFE(strncat(__VA_ARGS__))
#    define strtok(...) MPROC_UNSAFE(strtok(__VA_ARGS__))
#    define strerror(...) MPROC_UNSAFE(strerror(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STDIO)
#    define sprintf(...) MPROC_UNSAFE(sprintf(__VA_ARGS__))
#    define vsprintf(...) MPROC_UNSAFE(vsprintf(__VA_ARGS__))
#    define _snprintf(...) MPROC_UNSAFE(_snprintf(__VA_ARGS__))
#    define _vsnprintf(...) MPROC_UNSAFE(_vsnprintf(__VA_ARGS__))
#    define fopen(...) MPROC_UNSAFE(fopen(__VA_ARGS__))
#    define freopen(...) MPROC_UNSAFE(freopen(__VA_ARGS__))
#    define fscanf(...) MPROC_UNSAFE(fscanf(__VA_ARGS__))
#    define scanf(...) MPROC_UNSAFE(scanf(__VA_ARGS__))
#    define sscanf(...) MPROC_UNSAFE(sscanf(__VA_ARGS__))
#    define tmpnam(...) MPROC_UNSAFE(tmpnam(__VA_ARGS__))
#    define _wfopen(...) MPROC_UNSAFE(_wfopen(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STDIO) || defined(MPROC_SHIM_SEEN_WCHAR)
#    define _snwprintf(...) MPROC_UNSAFE(_snwprintf(__VA_ARGS__))
#    define _vsnwprintf(...) MPROC_UNSAFE(_vsnwprintf(__VA_ARGS__))
#    define swscanf(...) MPROC_UNSAFE(swscanf(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STDLIB)
#    define getenv(...) MPROC_UNSAFE(getenv(__VA_ARGS__))
#    define _wgetenv(...) MPROC_UNSAFE(_wgetenv(__VA_ARGS__))
#    define mbstowcs(...) MPROC_UNSAFE(mbstowcs(__VA_ARGS__))
#    define wcstombs(...) MPROC_UNSAFE(wcstombs(__VA_ARGS__))
#    define _itoa(...) MPROC_UNSAFE(_itoa(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STRING) || defined(MPROC_SHIM_SEEN_WCHAR)
#    define wcscpy(...) MPROC_UNSAFE(wcscpy(__VA_ARGS__))
#    define wcscat(...) MPROC_UNSAFE(wcscat(__VA_ARGS__))
#    define wcsncpy(...) MPROC_UNSAFE(wcsncpy(__VA_ARGS__))
#    define wcsncat(...) MPROC_UNSAFE(wcsncat(__VA_ARGS__))
#    define wcstok(...) MPROC_UNSAFE(wcstok(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_TIME)
#    define localtime(...) MPROC_UNSAFE(localtime(__VA_ARGS__))
#    define gmtime(...) MPROC_UNSAFE(gmtime(__VA_ARGS__))
#    define ctime(...) MPROC_UNSAFE(ctime(__VA_ARGS__))
#    define asctime(...) MPROC_UNSAFE(asctime(__VA_ARGS__))
#  endif
#endif

#if !defined(_CRT_NONSTDC_NO_WARNINGS) && !defined(_CRT_NONSTDC_NO_DEPRECATE)
#  if defined(MPROC_SHIM_SEEN_STRING)
#    define strdup(...) MPROC_POSIX_NAME(strdup(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STRING) || defined(MPROC_SHIM_SEEN_WCHAR)
#    define wcsdup(...) MPROC_POSIX_NAME(wcsdup(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STDIO)
#    define fdopen(...) MPROC_POSIX_NAME(fdopen(__VA_ARGS__))
#    define fileno(...) MPROC_POSIX_NAME(fileno(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_STDLIB)
#    define itoa(...) MPROC_POSIX_NAME(itoa(__VA_ARGS__))
#    define putenv(...) MPROC_POSIX_NAME(putenv(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_IO)
#    define close(...) MPROC_POSIX_NAME(close(__VA_ARGS__))
#    define open(...) MPROC_POSIX_NAME(open(__VA_ARGS__))
#    define read(...) MPROC_POSIX_NAME(read(__VA_ARGS__))
#    define write(...) MPROC_POSIX_NAME(write(__VA_ARGS__))
#    define dup(...) MPROC_POSIX_NAME(dup(__VA_ARGS__))
#    define dup2(...) MPROC_POSIX_NAME(dup2(__VA_ARGS__))
#    define lseek(...) MPROC_POSIX_NAME(lseek(__VA_ARGS__))
#    define isatty(...) MPROC_POSIX_NAME(isatty(__VA_ARGS__))
#    define unlink(...) MPROC_POSIX_NAME(unlink(__VA_ARGS__))
#    define access(...) MPROC_POSIX_NAME(access(__VA_ARGS__))
#  endif
#  if defined(MPROC_SHIM_SEEN_PROCESS)
#    define getpid(...) MPROC_POSIX_NAME(getpid(__VA_ARGS__))
#  endif
#endif
