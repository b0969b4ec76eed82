# The mingw-w64 cross build (mingw-w64-x86_64.cmake) with clang as its C
# compiler: scripts/test's msvc leg builds so with -fms-extensions and
# -DMPROC_MSVC_FORMS, to run MSVC's forms of the atomics and thread-local
# storage (src/platform.h) under Wine. C++ stays mingw's g++: clang's C++
# against mingw's libstdc++ does not link cleanly here, and the library is C.
#
#   cmake -S . -B build/msvc-run -DCMAKE_TOOLCHAIN_FILE=cmake/clang-mingw-w64-x86_64.cmake \
#         -DMPROC_CLANG=clang-16
include(${CMAKE_CURRENT_LIST_DIR}/mingw-w64-x86_64.cmake)

if(NOT MPROC_CLANG)
  set(MPROC_CLANG clang)
endif()
set(CMAKE_C_COMPILER ${MPROC_CLANG})
set(CMAKE_C_COMPILER_TARGET ${MINGW_TRIPLET})

# clang finds mingw's headers and import libraries by itself, but not
# libgcc in Debian's /usr/lib/gcc/x86_64-w64-mingw32/12-win32 (a version
# with a suffix): ask mingw's gcc where it is.
execute_process(COMMAND ${MINGW_TRIPLET}-gcc -print-libgcc-file-name
                OUTPUT_VARIABLE mproc_libgcc OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE mproc_rc)
if(NOT mproc_rc EQUAL 0 OR NOT mproc_libgcc)
  message(FATAL_ERROR "clang for mingw needs ${MINGW_TRIPLET}-gcc's libgcc (gcc-mingw-w64-x86-64)")
endif()
get_filename_component(mproc_libgcc_dir "${mproc_libgcc}" DIRECTORY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -L${mproc_libgcc_dir}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-L${mproc_libgcc_dir}")

# mingw's binutils link here, and tests/checks reads the DLL's export table
# in GNU objdump's words: not llvm-objdump, which CMake would pick for clang.
find_program(MPROC_MINGW_OBJDUMP ${MINGW_TRIPLET}-objdump)
if(MPROC_MINGW_OBJDUMP)
  set(CMAKE_OBJDUMP ${MPROC_MINGW_OBJDUMP} CACHE FILEPATH "objdump for the PE files" FORCE)
endif()
