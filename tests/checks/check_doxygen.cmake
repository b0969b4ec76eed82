# Doxygen reads the header without a warning: no undocumented member, no
# @param that names nothing, no broken command. Runs where Doxygen is
# installed (the docs target's configuration, the header alone). HTML, not
# XML: Doxygen 1.9 wrongly warns of undocumented parameters with XML alone.
#
#   cmake -DDOXYGEN=doxygen -DDOXYFILE=build/Doxyfile -DHEADER=include/mproc.h
#         -DWORK_DIR=build/doxygen-check -P check_doxygen.cmake
cmake_minimum_required(VERSION 3.20)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/Doxyfile"
  "@INCLUDE = \"${DOXYFILE}\"\n"
  "INPUT = \"${HEADER}\"\n"
  "USE_MDFILE_AS_MAINPAGE =\n"
  "OUTPUT_DIRECTORY = \"${WORK_DIR}\"\n"
  "WARN_LOGFILE = \"${WORK_DIR}/warnings.txt\"\n"
  "GENERATE_HTML = YES\n"
  "GENERATE_XML = NO\n")
execute_process(COMMAND "${DOXYGEN}" "${WORK_DIR}/Doxyfile" RESULT_VARIABLE rc
  OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "doxygen failed (${rc}):\n${out}\n${err}")
endif()
file(READ "${WORK_DIR}/warnings.txt" warnings)
string(STRIP "${warnings}" warnings)
if(NOT warnings STREQUAL "")
  message("${warnings}")
  message(FATAL_ERROR "Doxygen warned about ${HEADER} (above)")
endif()
message("Doxygen reads ${HEADER} without a warning")
