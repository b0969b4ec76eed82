# The docs' programs cannot rot: a code block is a whole file of the
# project, which ctest builds and runs. Such a block (```) comes right after
# a line
#
#   <!-- file: examples/pool_map.c -->
#
# and is that file exactly, byte for byte (line ends aside); and each such
# file in examples/ must be an example ctest runs (mproc_example in
# examples/CMakeLists.txt; mproc_cpp_example in examples/cpp/CMakeLists.txt
# for a C++ one). With MARKED=all (the tutorial) every block must
# have a marker; with MARKED=c (the README) every ```c block must, and the
# others (shell commands, CMake, make) may go without. A block that needs a
# marker and has none, a marker with no block, a ~~~ fence, or any
# difference fails, naming the first differing line. With PAIRED=cpp (the
# tutorial) every block of examples/NAME.c must have the block of its C++
# twin, examples/cpp/NAME.cpp, next, and every C++ block must follow its C
# one.
#
#   cmake -DDOC=docs/tutorial.md -DROOT=<source tree> [-DMARKED=all|c] [-DPAIRED=cpp]
#         -P check_code_blocks.cmake
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/header_api.cmake)

# read_text(PATH OUT): the file with '\n' line ends, ending in one '\n'.
function(read_text path out)
  file(READ "${path}" t)
  string(REPLACE "\r\n" "\n" t "${t}")
  set(${out} "${t}" PARENT_SCOPE)
endfunction()

# first_difference(A B OUT): "line N: <a's line> / <b's line>" for the first
# line where the texts differ.
function(first_difference a b out)
  mproc_lines("${a}" la)
  mproc_lines("${b}" lb)
  list(LENGTH la na)
  list(LENGTH lb nb)
  set(i 0)
  while(TRUE)
    set(x "<end of text>")
    set(y "<end of text>")
    if(i LESS na)
      list(GET la ${i} x)
    endif()
    if(i LESS nb)
      list(GET lb ${i} y)
    endif()
    if(NOT x STREQUAL y OR (NOT i LESS na AND NOT i LESS nb))
      break()
    endif()
    math(EXPR i "${i} + 1")
  endwhile()
  math(EXPR lineno "${i} + 1")
  set(d "line ${lineno}:\n    tutorial: ${x}\n    file:     ${y}")
  mproc_unescape(d)
  set(${out} "${d}" PARENT_SCOPE)
endfunction()

if(NOT MARKED)
  set(MARKED all)
endif()
if(NOT MARKED MATCHES "^(all|c)$")
  message(FATAL_ERROR "MARKED=${MARKED}: use all or c")
endif()
if(PAIRED AND NOT PAIRED STREQUAL "cpp")
  message(FATAL_ERROR "PAIRED=${PAIRED}: use cpp, or leave it out")
endif()
read_text("${DOC}" doc)
read_text("${ROOT}/examples/CMakeLists.txt" registered)
read_text("${ROOT}/examples/cpp/CMakeLists.txt" registered_cpp)
set(problems "")
set(checked "")
set(unpaired "") # PAIRED: the C example whose C++ block must come next

if(doc MATCHES "(^|\n)~~~")
  string(APPEND problems "\n${DOC}: a ~~~ fence: use ``` with a file marker")
endif()

# Walk the fences: each opening one, its marker, its closing one.
set(rest "\n${doc}")
set(marker_re "<!-- file: ([^ ]+) -->")
while(TRUE)
  string(FIND "${rest}" "\n```" open)
  if(open EQUAL -1)
    break()
  endif()
  # The line before the fence.
  string(SUBSTRING "${rest}" 0 ${open} before)
  string(FIND "${before}" "\n" prev REVERSE)
  math(EXPR prev "${prev} + 1")
  string(SUBSTRING "${before}" ${prev} -1 marker_line)
  # The fence's own line, then the block up to the closing fence.
  math(EXPR after_open "${open} + 1")
  string(SUBSTRING "${rest}" ${after_open} -1 rest)
  string(FIND "${rest}" "\n" eol)
  string(SUBSTRING "${rest}" 0 ${eol} fence_line)
  math(EXPR body_start "${eol} + 1")
  string(SUBSTRING "${rest}" ${body_start} -1 rest)
  string(FIND "\n${rest}" "\n```" close)
  if(close EQUAL -1)
    string(APPEND problems "\n${DOC}: a code block (${fence_line}) is never closed")
    break()
  endif()
  string(SUBSTRING "${rest}" 0 ${close} body)
  string(SUBSTRING "${rest}" ${close} -1 rest)
  # Past the closing fence's line.
  string(FIND "${rest}" "\n" eol)
  if(eol EQUAL -1)
    set(rest "")
  else()
    string(SUBSTRING "${rest}" ${eol} -1 rest)
  endif()

  if(NOT marker_line MATCHES "^${marker_re}$")
    if(MARKED STREQUAL "c" AND NOT fence_line MATCHES "^```c[ \t]*$")
      continue() # a shell command or a build file: nothing to run
    endif()
    string(SUBSTRING "${body}" 0 60 start)
    string(APPEND problems "\n${DOC}: a code block without a '<!-- file: path -->' line right above it:"
                           "\n    ${fence_line}\n    ${start}...")
    continue()
  endif()
  set(path "${CMAKE_MATCH_1}")
  list(APPEND checked "${path}")
  if(NOT EXISTS "${ROOT}/${path}")
    string(APPEND problems "\n${DOC}: the block for ${path}: no such file")
    continue()
  endif()
  read_text("${ROOT}/${path}" file_text)
  if(NOT body STREQUAL file_text)
    first_difference("${body}" "${file_text}" where)
    string(APPEND problems "\n${DOC}: the block for ${path} differs from the file, first at ${where}")
  endif()
  if(path MATCHES "^examples/([A-Za-z0-9_]+)\\.c$")
    set(name "${CMAKE_MATCH_1}")
    if(NOT registered MATCHES "mproc_example\\(${name}[ \n]")
      string(APPEND problems "\n${path}: not an example ctest runs (mproc_example(${name} ...) in examples/CMakeLists.txt)")
    endif()
    if(PAIRED AND NOT unpaired STREQUAL "")
      string(APPEND problems "\n${DOC}: the block of examples/${unpaired}.c has no examples/cpp/${unpaired}.cpp block next")
    endif()
    set(unpaired "${name}")
  elseif(path MATCHES "^examples/cpp/([A-Za-z0-9_]+)\\.cpp$")
    set(name "${CMAKE_MATCH_1}")
    if(NOT registered_cpp MATCHES "mproc_cpp_example\\(${name}[ \n]")
      string(APPEND problems "\n${path}: not an example ctest runs (mproc_cpp_example(${name} ...) in examples/cpp/CMakeLists.txt)")
    endif()
    if(PAIRED AND NOT unpaired STREQUAL name)
      string(APPEND problems "\n${DOC}: the block of ${path} does not come right after the block of examples/${name}.c")
    endif()
    set(unpaired "")
  elseif(PAIRED AND NOT unpaired STREQUAL "")
    string(APPEND problems "\n${DOC}: the block of examples/${unpaired}.c has no examples/cpp/${unpaired}.cpp block next")
    set(unpaired "")
  endif()
endwhile()
if(PAIRED AND NOT unpaired STREQUAL "")
  string(APPEND problems "\n${DOC}: the block of examples/${unpaired}.c has no examples/cpp/${unpaired}.cpp block next")
endif()

# Markers with no block right after them.
string(REGEX MATCHALL "${marker_re}" markers "${doc}")
list(LENGTH markers n_markers)
list(LENGTH checked n_checked)
if(NOT n_markers EQUAL n_checked)
  string(APPEND problems "\n${DOC}: ${n_markers} file markers but ${n_checked} code blocks after one")
endif()
if(n_checked EQUAL 0)
  string(APPEND problems "\n${DOC}: no code block at all")
endif()

if(NOT problems STREQUAL "")
  message("${problems}")
  message(FATAL_ERROR "${DOC} and its files disagree (above)")
endif()
string(REPLACE ";" ", " checked "${checked}")
message("${DOC}: ${n_checked} code block(s), each the same as its file: ${checked}")
