# Helpers for the checks that read include/mproc.h (cmake -P scripts).
#
# CMake lists split on ';' and treat '[' ']' specially, and C is full of
# both, so text is only ever turned into a list of lines through
# mproc_lines(), which swaps them for stand-ins first.

# mproc_lines(TEXT OUT): TEXT as a list of lines, with ';' '[' ']' '\'
# replaced by the stand-ins in MPROC_SEMI, MPROC_LBR, MPROC_RBR, MPROC_BSL
# (and '\r' dropped, for checkouts with CRLF line ends).
string(ASCII 1 MPROC_SEMI)
string(ASCII 2 MPROC_LBR)
string(ASCII 3 MPROC_RBR)
string(ASCII 4 MPROC_BSL)
function(mproc_lines text out)
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE "\\" "${MPROC_BSL}" text "${text}")
  string(REPLACE ";" "${MPROC_SEMI}" text "${text}")
  string(REPLACE "[" "${MPROC_LBR}" text "${text}")
  string(REPLACE "]" "${MPROC_RBR}" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# mproc_unescape(VAR): the stand-ins back to ';' '[' ']' '\' in VAR's value.
function(mproc_unescape var)
  set(t "${${var}}")
  string(REPLACE "${MPROC_BSL}" "\\" t "${t}")
  string(REPLACE "${MPROC_SEMI}" ";" t "${t}")
  string(REPLACE "${MPROC_LBR}" "[" t "${t}")
  string(REPLACE "${MPROC_RBR}" "]" t "${t}")
  set(${var} "${t}" PARENT_SCOPE)
endfunction()

# mproc_api_functions(HEADER OUT): the names of the functions the header
# declares with MPROC_API at the start of a line, in order.
function(mproc_api_functions header out)
  file(READ "${header}" text)
  string(REPLACE "\r" "" text "${text}")
  string(REGEX MATCHALL "\nMPROC_API[^;(]*\\(" decls "${text}")
  set(names "")
  foreach(d IN LISTS decls)
    if(d MATCHES "([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\($")
      list(APPEND names ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()
