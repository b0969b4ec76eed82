# shellcheck shell=bash
# The clang leg's macOS check (sourced by scripts/test). No Mac runs here,
# and the portable build compiles the POSIX paths macOS takes but not the
# `#if defined(__APPLE__)` branches, which call what only macOS has
# (sysctl's KERN_PROC, _NSGetExecutablePath, proc_pidinfo, ...). So every
# file of the portable build is compiled once more, syntax only, by clang
# as if for macOS: __APPLE__ and __MACH__ defined, __linux__ not, glibc's
# headers with scripts/lib/macos/include in front of them, which declares
# what Apple's headers have and glibc's lack, as Apple documents it. A
# branch that names a function, a field or a header macOS does not have
# (or not so) then fails the leg instead of the first build on a Mac.

MACOS_CLANG=clang-16
MACOS_SHIM=$MPROC_ROOT/scripts/lib/macos/include

# macos_syntax COMPILE_COMMANDS DIR JOBS: writes DIR/build.ninja from a
# portable build's commands (scripts/lib/msvc/syntax_ninja.cmake keeps
# their -I and -D) and runs it, every failure listed (-k 0).
macos_syntax() {
  local commands=$1 dir=$2 lanes=$3 common flags_c flags_cxx
  common=(-fsyntax-only -U__linux__ -U__linux -Ulinux -U__gnu_linux__ -D__APPLE__ -D__MACH__
          -isystem "$MACOS_SHIM" -Wall -Wextra -Wpedantic -Werror)
  flags_c=$(printf '%q ' "${common[@]}" -std=c11)
  flags_cxx=$(printf '%q ' "${common[@]}" -std=c++17)
  mkdir -p "$dir"
  cmake -DCOMMANDS="$commands" -DOUT="$dir/build.ninja" -DCLANG="$MACOS_CLANG" \
    "-DFLAGS_C=$flags_c" "-DFLAGS_CXX=$flags_cxx" "-DWHAT=macOS syntax" -P "$MPROC_ROOT/scripts/lib/msvc/syntax_ninja.cmake" &&
    ninja -C "$dir" -j "$lanes" -k 0
}
