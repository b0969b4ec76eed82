# shellcheck shell=bash
# Helpers shared by scripts/test and scripts/demo: logging, finding out what
# is missing, and installing it with apt-get where that is possible (root on
# Debian/Ubuntu). Sourced, never run.

MPROC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

log() { printf '==> %s\n' "$*"; }
warn() { printf '!!! %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
cpu_count() { nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2; }

# Root on a Debian-family system with apt-get: the case where we install.
can_apt_install() {
  [[ ${EUID:-$(id -u)} -eq 0 ]] && have apt-get && [[ -r /etc/os-release ]] &&
    grep -Eqi '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release
}

# Is the thing Debian package $1 provides usable here? Probes commands and
# headers rather than asking dpkg, so the answer is right on any system
# (and the names printed are still Debian's, which is what the README promises).
pkg_present() {
  case $1 in
    cmake) have cmake ;;
    ninja-build) have ninja ;;
    make) have make ;;
    gcc) have gcc ;;
    g++) have g++ ;;
    pkg-config) have pkg-config || have pkgconf ;;
    doxygen) have doxygen ;;
    libcmocka-dev) have_c_header cmocka.h ;;
    gcc-mingw-w64-x86-64) have x86_64-w64-mingw32-gcc ;;
    g++-mingw-w64-x86-64) have x86_64-w64-mingw32-g++ ;;
    wine) have wine && have wineboot && have wineserver ;;
    # wine64 is the 64-bit loader behind Debian's `wine` launcher.
    wine64) [[ -x /usr/lib/wine/wine64 ]] || have wine64 ;;
    xz-utils) have xz ;;
    clang) have clang ;;
    clang-16) have clang-16 && have clang++-16 ;;
    libwine-dev) [[ -f /usr/include/wine/wine/windows/windows.h && -f /usr/include/wine/wine/msvcrt/stdio.h ]] ;;
    libc++-16-dev) [[ -f /usr/lib/llvm-16/include/c++/v1/string ]] ;;
    gcovr) have gcovr ;;
    libclang-rt-dev) have_libfuzzer ;;
    valgrind) have valgrind ;;
    python3) have python3 ;;
    gnuplot-nox) have gnuplot ;;
    *) warn "pkg_present: no probe for $1"; return 1 ;;
  esac
}

have_c_header() {
  have cc || return 1
  # cmocka.h wants these included first.
  printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <%s>\n' "$1" |
    cc -E -x c - >/dev/null 2>&1
}

# Can clang link a libFuzzer program with ASan and UBSan? (Debian's clang
# leaves the runtimes to libclang-rt-dev.)
have_libfuzzer() {
  have clang || return 1
  local d rc=0
  d=$(mktemp -d)
  printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
    'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return (int)(n && d[0]); }' >"$d/f.c"
  clang -fsanitize=fuzzer,address,undefined "$d/f.c" -o "$d/f" >/dev/null 2>&1 || rc=$?
  rm -rf "$d"
  return "$rc"
}

APT_UPDATED=0
apt_update_once() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    apt-get update -q || return 1
    APT_UPDATED=1
  fi
}

# ensure_packages PKG...: install the missing ones (root on Debian/Ubuntu), or
# name them. Returns non-zero if any is still missing.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    case " ${missing[*]} " in *" $p "*) continue ;; esac # named twice
    pkg_present "$p" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if can_apt_install; then
    log "installing ${missing[*]}"
    apt_update_once || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
    local still=()
    for p in "${missing[@]}"; do pkg_present "$p" || still+=("$p"); done
    missing=("${still[@]}")
    [[ ${#missing[@]} -eq 0 ]] && return 0
  fi
  warn "missing: ${missing[*]}"
  warn "install them (Debian/Ubuntu names; run this script as root there and it does it):"
  warn "  apt-get install ${missing[*]}"
  return 1
}

# The build tool: ninja if it is there (or can be had), else make.
ensure_build_tool() {
  ensure_packages ninja-build 2>/dev/null || ensure_packages make
}

# cmake_generator DIR: the generator DIR was configured with (cmake refuses to
# switch), else Ninja if present, else Unix Makefiles.
cmake_generator() {
  local g=""
  if [[ -f $1/CMakeCache.txt ]]; then
    g=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$1/CMakeCache.txt")
  fi
  if [[ -z $g ]]; then
    if have ninja; then g=Ninja; else g="Unix Makefiles"; fi
  fi
  printf '%s\n' "$g"
}

# configure DIR ARGS...: cmake -S MPROC_ROOT -B DIR with the right generator.
configure() {
  local dir=$1; shift
  cmake -S "$MPROC_ROOT" -B "$dir" -G "$(cmake_generator "$dir")" "$@"
}
