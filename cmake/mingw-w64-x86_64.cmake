# Cross-compiling for 64-bit Windows with mingw-w64's gcc (Debian:
# gcc-mingw-w64-x86-64), running what it builds under Wine.
#
#   cmake -S . -B build/mingw -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
#
# scripts/test's mingw leg does this, with cmocka built for mingw.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MINGW_TRIPLET x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MINGW_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${MINGW_TRIPLET}-g++)
set(CMAKE_RC_COMPILER ${MINGW_TRIPLET}-windres)

# Libraries and headers come from the mingw sysroot (and any prefix the
# caller adds to CMAKE_FIND_ROOT_PATH or names directly); programs are the
# build machine's.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static executables: libgcc and libwinpthread are linked in, so nothing has
# to be copied next to an .exe for Wine (or Windows) to run it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest and add_custom_command run target executables through this. `wine`
# is Debian's launcher, which picks wine64 for a 64-bit .exe by itself (and
# works whether or not wine32 is installed); calling wine64 directly skips
# that setup.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR AND NOT DEFINED ENV{CMAKE_CROSSCOMPILING_EMULATOR})
  find_program(MPROC_WINE wine)
  if(MPROC_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${MPROC_WINE})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR wine)
  endif()
endif()
