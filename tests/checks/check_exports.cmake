# The shared library exports exactly the header's MPROC_API functions: none
# missing (a declaration without its definition, or a Windows DLL whose
# dllexport went wrong) and nothing else (an internal mp__ function leaking
# out of the hidden visibility).
#
#   cmake -DHEADER=include/mproc.h -DLIBRARY=libmproc.so -DFORMAT=elf|pe|macho|dumpbin
#         -DTOOL=nm|objdump|dumpbin -P check_exports.cmake
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/header_api.cmake)

foreach(v HEADER LIBRARY FORMAT TOOL)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_exports: -D${v}= is required")
  endif()
endforeach()

if(FORMAT STREQUAL "elf")
  set(cmd "${TOOL}" -D --defined-only "${LIBRARY}")
elseif(FORMAT STREQUAL "macho")
  set(cmd "${TOOL}" -gU "${LIBRARY}")
elseif(FORMAT STREQUAL "pe")
  set(cmd "${TOOL}" -p "${LIBRARY}")
elseif(FORMAT STREQUAL "dumpbin")
  set(cmd "${TOOL}" /nologo /exports "${LIBRARY}")
else()
  message(FATAL_ERROR "check_exports: unknown FORMAT '${FORMAT}'")
endif()
execute_process(COMMAND ${cmd} OUTPUT_VARIABLE dump ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_exports: '${cmd}' failed (${rc}): ${err}")
endif()

# One exported name per matching line of the tool's listing.
mproc_lines("${dump}" lines)
set(exported "")
set(in_table 0)
foreach(line IN LISTS lines)
  set(name "")
  if(FORMAT STREQUAL "elf" AND line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ ]+)$")
    set(name "${CMAKE_MATCH_1}")
  elseif(FORMAT STREQUAL "macho" AND line MATCHES "^[0-9a-fA-F]* *[A-Za-z] _([^ ]+)$")
    set(name "${CMAKE_MATCH_1}") # Mach-O names carry a leading underscore
  elseif(FORMAT STREQUAL "pe")
    # objdump -p: the export table's "[Ordinal/Name Pointer] Table" rows.
    if(line MATCHES "Ordinal/Name Pointer")
      set(in_table 1)
    elseif(in_table AND line MATCHES "^[ \t]*${MPROC_LBR} *[0-9]+${MPROC_RBR} ([^ ]+)$")
      set(name "${CMAKE_MATCH_1}")
    elseif(in_table AND NOT line MATCHES "^[ \t]*$")
      set(in_table 0)
    endif()
  elseif(FORMAT STREQUAL "dumpbin")
    # dumpbin /exports: "ordinal hint RVA name" rows after their heading.
    if(line MATCHES "ordinal +hint +RVA +name")
      set(in_table 1)
    elseif(in_table AND line MATCHES "^ +[0-9]+ +[0-9A-Fa-f]+ +[0-9A-Fa-f]+ +([A-Za-z_][A-Za-z0-9_]*)")
      set(name "${CMAKE_MATCH_1}")
    elseif(in_table AND line MATCHES "Summary")
      set(in_table 0)
    endif()
  endif()
  if(NOT name STREQUAL "")
    list(APPEND exported "${name}")
  endif()
endforeach()
list(REMOVE_DUPLICATES exported)

mproc_api_functions("${HEADER}" api)
list(LENGTH api n_api)
list(LENGTH exported n_exported)
if(n_api EQUAL 0)
  message(FATAL_ERROR "check_exports: found no MPROC_API function in ${HEADER}")
endif()

set(missing ${api})
list(REMOVE_ITEM missing ${exported})
set(extra ${exported})
list(REMOVE_ITEM extra ${api})
list(SORT exported)
string(REPLACE ";" "\n  " listing "${exported}")
message("${LIBRARY} exports ${n_exported} symbols; ${HEADER} declares ${n_api} MPROC_API functions:\n  ${listing}")
if(missing OR extra)
  string(REPLACE ";" " " missing "${missing}")
  string(REPLACE ";" " " extra "${extra}")
  message("declared MPROC_API but not exported: ${missing}\n"
          "exported but not an MPROC_API function: ${extra}")
  message(FATAL_ERROR "the export list differs from the header (above)")
endif()
message("exports match the header")
