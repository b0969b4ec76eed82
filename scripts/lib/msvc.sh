# shellcheck shell=bash
# The msvc leg's checks (sourced by scripts/test). No MSVC runs here, so:
#
#   syntax   every file the Windows build compiles (the entries of a mingw
#            configure's compile_commands.json), syntax only, by clang in
#            MSVC's mode (x86_64-pc-windows-msvc, -fms-compatibility) against
#            Wine's C runtime and Windows headers (libwine-dev) and, for C++,
#            libc++. scripts/lib/msvc/include wraps those headers: it adds
#            what Wine's lack and the SDK has, and puts back the
#            deprecations MSVC's C runtime has (C4996), so a call MSVC would
#            refuse under /W4 /WX fails here too. _MSC_VER is defined, so
#            every _MSC_VER branch is compiled.
#   header   the public header through clang's cl driver, /W4 /WX /Zs, as
#            C11 and C++14, 17 and 20, for the static library and the DLL;
#            and mproc.hpp, the C++17 wrappers, as C++17 and 20 (/EHsc).
#
# The leg then runs the suite built by clang for mingw with MSVC's forms of
# the atomics and thread-local storage (cmake/clang-mingw-w64-x86_64.cmake).

MSVC_CLANG=clang-16
MSVC_SHIM=$MPROC_ROOT/scripts/lib/msvc/include
WINE_INCLUDE=/usr/include/wine/wine          # libwine-dev
LIBCXX_INCLUDE=/usr/lib/llvm-16/include/c++/v1 # libc++-16-dev

# The include order clang-cl itself uses with MSVC: the C++ library, the
# compiler's own headers, then the C runtime's and the SDK's (here Wine's),
# with the wrappers in front of all of them.
msvc_includes() {
  local resource
  resource=$("$MSVC_CLANG" -print-resource-dir)
  printf '%s\n' "$MSVC_SHIM" "$resource/include" "$WINE_INCLUDE/msvcrt" "$WINE_INCLUDE/windows"
}

# msvc_syntax COMPILE_COMMANDS DIR JOBS: writes DIR/build.ninja from the
# commands and runs it, JOBS at a time, every failure listed (-k 0); Ninja
# keeps a stamp and a depfile per file, so a second run checks only what
# changed.
msvc_syntax() {
  local commands=$1 dir=$2 lanes=$3 inc flags_c flags_cxx common
  # USE_COMPILER_EXCEPTIONS: Wine's <excpt.h> then names __try's helpers
  # (GetExceptionCode) as MSVC's does. The conversion warnings are what
  # cl /W4 says and clang's -Wall -Wextra does not: C4244 (a narrowing
  # conversion) and C4267 (size_t to a 32-bit int on x64).
  common=(--target=x86_64-pc-windows-msvc -fms-compatibility -fms-extensions -fms-compatibility-version=19.38
          -fsyntax-only -nostdinc -DUSE_COMPILER_EXCEPTIONS -Wall -Wextra -Werror
          -Wshorten-64-to-32 -Wimplicit-int-conversion -Wimplicit-float-conversion)
  local sys=()
  while IFS= read -r inc; do sys+=(-isystem "$inc"); done < <(msvc_includes)
  # C11 as CMake asks MSVC for (/std:c11); C++14, MSVC's default. libc++
  # without MSVC's vcruntime headers, which Wine does not have.
  flags_c=$(printf '%q ' "${common[@]}" -std=c11 "${sys[@]}")
  flags_cxx=$(printf '%q ' "${common[@]}" -std=c++14 -isystem "$LIBCXX_INCLUDE" -D_LIBCPP_NO_VCRUNTIME "${sys[@]}")
  mkdir -p "$dir"
  cmake -DCOMMANDS="$commands" -DOUT="$dir/build.ninja" -DCLANG="$MSVC_CLANG" \
    "-DFLAGS_C=$flags_c" "-DFLAGS_CXX=$flags_cxx" -P "$MPROC_ROOT/scripts/lib/msvc/syntax_ninja.cmake" &&
    ninja -C "$dir" -j "$lanes" -k 0
}

# msvc_header: the public header as MSVC users compile it, /W4 /WX /Zs.
msvc_header() {
  local inc sys=() std link bad=0 extra
  while IFS= read -r inc; do sys+=(-imsvc "$inc"); done < <(msvc_includes)
  for std in "/TC /std:c11" "/TP /std:c++14" "/TP /std:c++17" "/TP /std:c++20"; do
    extra=()
    [[ $std == /TP* ]] && extra=(-imsvc "$LIBCXX_INCLUDE" /D_LIBCPP_NO_VCRUNTIME)
    for link in static DLL; do
      local def=()
      [[ $link == DLL ]] && def=(/DMPROC_SHARED) # the header's dllimport
      # shellcheck disable=SC2086 # $std is two flags
      if "$MSVC_CLANG" --driver-mode=cl --target=x86_64-pc-windows-msvc /nologo /W4 /WX /Zs /X \
        "${extra[@]}" "${sys[@]}" "/I$MPROC_ROOT/include" $std "${def[@]}" \
        -- "$MPROC_ROOT/scripts/lib/msvc/header_use.c"; then
        printf '    %-16s %-7s ok\n' "${std#* /std:}" "$link"
      else
        printf '    %-16s %-7s FAILED\n' "${std#* /std:}" "$link"
        bad=1
      fi
    done
  done
  # mproc.hpp, the C++17 wrappers: C++17 and 20 only, with exceptions on
  # (/EHsc, as MSVC projects build C++). libc++ goes in as -isystem, ahead
  # of the -imsvc folders: its <cstddef> must find its own <stddef.h>
  # before the compiler's (header_use.c never reaches one of them).
  for std in 17 20; do
    for link in static DLL; do
      local def=()
      [[ $link == DLL ]] && def=(/DMPROC_SHARED)
      if "$MSVC_CLANG" --driver-mode=cl --target=x86_64-pc-windows-msvc /nologo /W4 /WX /Zs /X /EHsc \
        "/clang:-isystem$LIBCXX_INCLUDE" /D_LIBCPP_NO_VCRUNTIME "${sys[@]}" "/I$MPROC_ROOT/include" /TP "/std:c++$std" \
        "${def[@]}" -- "$MPROC_ROOT/scripts/lib/msvc/header_use.cpp"; then
        printf '    %-16s %-7s ok\n' "mproc.hpp c++$std" "$link"
      else
        printf '    %-16s %-7s FAILED\n' "mproc.hpp c++$std" "$link"
        bad=1
      fi
    done
  done
  return "$bad"
}
