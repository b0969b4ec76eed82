/* Wine's <math.h>. In C++ the UCRT's gives isnan and isinf as overloaded
 * functions, where Wine's gives macros that break libc++'s <cmath>. */
#include_next <math.h>
#ifdef __cplusplus
#undef isnan
#undef isinf
extern "C++" {
inline bool isnan(float x) { return __builtin_isnan(x); }
inline bool isnan(double x) { return __builtin_isnan(x); }
inline bool isnan(long double x) { return __builtin_isnan(x); }
inline bool isinf(float x) { return __builtin_isinf(x); }
inline bool isinf(double x) { return __builtin_isinf(x); }
inline bool isinf(long double x) { return __builtin_isinf(x); }
}
#endif
