# Writes a Ninja file that compiles, syntax only and in MSVC's mode, every
# file a Windows build compiles: the entries of its compile_commands.json
# (a mingw configure of the project), each with its own -I, -D and -std,
# and clang's MSVC target instead of mingw's flags. Ninja then runs them
# in parallel and again only for what changed (a depfile per file).
#
#   cmake -DCOMMANDS=compile_commands.json -DOUT=build.ninja -DCLANG=clang-16
#         -DFLAGS_C="..." -DFLAGS_CXX="..." [-DWHAT="..."] -P syntax_ninja.cmake
#
# The macOS check (scripts/lib/macos.sh) uses it too, with a portable
# build's commands and flags of its own; WHAT names the check in Ninja's
# lines (default "MSVC-mode syntax").
#
# FLAGS_C and FLAGS_CXX: the MSVC-mode flags (target, headers, warnings),
# one shell-quoted string each.
cmake_minimum_required(VERSION 3.20)
if(NOT WHAT)
  set(WHAT "MSVC-mode syntax")
endif()

file(READ "${COMMANDS}" json)
string(JSON count LENGTH "${json}")
if(count EQUAL 0)
  message(FATAL_ERROR "${COMMANDS} lists no file")
endif()

# One argument for /bin/sh, then for Ninja (which gives $ a meaning).
function(quote out arg)
  string(REPLACE "'" "'\\''" arg "${arg}")
  string(REPLACE "$" "$$" arg "${arg}")
  set(${out} "'${arg}'" PARENT_SCOPE)
endfunction()

get_filename_component(out_dir "${OUT}" DIRECTORY)
set(ninja "# Written by scripts/lib/msvc/syntax_ninja.cmake from ${COMMANDS}.\n")
string(APPEND ninja "rule check_c\n  command = ${CLANG} ${FLAGS_C} $flags -MD -MF $out.d $in && touch $out\n"
                    "  depfile = $out.d\n  deps = gcc\n  description = ${WHAT}: $in\n")
string(APPEND ninja "rule check_cxx\n  command = ${CLANG} ${FLAGS_CXX} $flags -MD -MF $out.d $in && touch $out\n"
                    "  depfile = $out.d\n  deps = gcc\n  description = ${WHAT}: $in\n")
set(seen "")
set(stamps "")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON file GET "${json}" ${i} file)
  string(JSON command GET "${json}" ${i} command)
  separate_arguments(args UNIX_COMMAND "${command}")
  set(flags "")
  set(take_next "")
  foreach(a IN LISTS args)
    if(take_next)
      quote(q "${a}")
      string(APPEND flags " ${take_next} ${q}")
      set(take_next "")
    elseif(a STREQUAL "-I" OR a STREQUAL "-isystem")
      set(take_next "${a}")
    elseif(a MATCHES "^-I.")
      quote(q "${a}")
      string(APPEND flags " ${q}")
    elseif(a MATCHES "^-std=")
      # The file's own standard (C++17 for mproc.hpp's users) after the
      # default of FLAGS_C / FLAGS_CXX, so it wins.
      string(APPEND flags " ${a}")
    elseif(a MATCHES "^-D")
      # MinGW's own printf is a MinGW matter: MSVC's C runtime has C99's.
      if(NOT a MATCHES "^-D__USE_MINGW_ANSI_STDIO")
        quote(q "${a}")
        string(APPEND flags " ${q}")
      endif()
    endif()
  endforeach()
  # The same file with the same flags (compiled for two targets) once.
  string(MD5 key "${file}${flags}")
  if(key IN_LIST seen)
    continue()
  endif()
  list(APPEND seen ${key})
  if(file MATCHES "\\.(cpp|cc|cxx)$")
    set(rule check_cxx)
  else()
    set(rule check_c)
  endif()
  get_filename_component(name "${file}" NAME)
  set(stamp "${out_dir}/checked/${i}-${name}.ok")
  string(REPLACE "$" "$$" file_n "${file}")
  string(REPLACE " " "$ " file_n "${file_n}")
  string(REPLACE ":" "$:" file_n "${file_n}")
  string(APPEND ninja "build ${stamp}: ${rule} ${file_n}\n  flags =${flags}\n")
  list(APPEND stamps "${stamp}")
endforeach()
list(JOIN stamps " " all)
string(APPEND ninja "build all: phony ${all}\ndefault all\n")
file(WRITE "${OUT}" "${ninja}")
list(LENGTH stamps n)
message("${OUT}: ${n} compilations")
