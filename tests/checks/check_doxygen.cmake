# The API reference builds clean: Doxygen, with the docs target's own
# configuration and all its input (the header, README, tutorial,
# architecture notes, changelog, benchmark report), warns of nothing (no
# undocumented member, no @param that names nothing, no broken command, no
# reference it cannot resolve), and every link and image of the HTML it
# writes leads to a file it wrote: a Markdown link to a folder or to a file
# Doxygen does not read (../examples, ../include/mproc.h) comes out as a
# link to nothing, without a warning. Runs where Doxygen is installed.
#
#   cmake -DDOXYGEN=doxygen -DDOXYFILE=build/Doxyfile -DWORK_DIR=build/doxygen-check
#         -P check_doxygen.cmake
cmake_minimum_required(VERSION 3.20)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/Doxyfile"
  "@INCLUDE = \"${DOXYFILE}\"\n"
  "OUTPUT_DIRECTORY = \"${WORK_DIR}\"\n"
  "WARN_LOGFILE = \"${WORK_DIR}/warnings.txt\"\n")
execute_process(COMMAND "${DOXYGEN}" "${WORK_DIR}/Doxyfile" RESULT_VARIABLE rc
  OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "doxygen failed (${rc}):\n${out}\n${err}")
endif()
file(READ "${WORK_DIR}/warnings.txt" warnings)
string(STRIP "${warnings}" warnings)
if(NOT warnings STREQUAL "")
  message("${warnings}")
  message(FATAL_ERROR "Doxygen warned (above)")
endif()

# Every href and src of every page that is not a web address or a place on
# the same page must name a file of the output.
set(html "${WORK_DIR}/html")
file(GLOB pages "${html}/*.html")
set(dead "")
set(links 0)
foreach(page IN LISTS pages)
  file(READ "${page}" text)
  string(REGEX MATCHALL "(href|src)=\"[^\"]*\"" refs "${text}")
  foreach(ref IN LISTS refs)
    string(REGEX REPLACE "^(href|src)=\"([^\"]*)\"$" "\\2" target "${ref}")
    if(target MATCHES "^([a-zA-Z][a-zA-Z0-9+.-]*:|#)" OR target STREQUAL "")
      continue() # http:, mailto:, javascript:, #anchor
    endif()
    string(REGEX REPLACE "[#?].*$" "" file "${target}")
    math(EXPR links "${links} + 1")
    if(NOT EXISTS "${html}/${file}" OR IS_DIRECTORY "${html}/${file}")
      get_filename_component(name "${page}" NAME)
      list(APPEND dead "${name}: ${target}")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES dead)
if(dead)
  string(REPLACE ";" "\n  " dead "${dead}")
  message("links to nothing in ${html}:\n  ${dead}")
  message(FATAL_ERROR "the HTML reference has dead links (above): link to files Doxygen reads, "
                      "or name the others as `code`")
endif()
list(LENGTH pages n)
message("Doxygen builds the reference without a warning: ${n} pages, ${links} links, none dead")
