# The version is project(VERSION) in CMakeLists.txt: the header's numbers
# must say the same (configuring checks that too, this catches an edit
# since), and CHANGELOG.md must have a section for it.
#
#   cmake -DVERSION=0.1.0 -DHEADER=include/mproc.h -DCHANGELOG=CHANGELOG.md -P check_version.cmake
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/MprocVersion.cmake)

mproc_header_version("${HEADER}" said)
if(NOT said STREQUAL VERSION)
  message(FATAL_ERROR "${HEADER} says ${said}, project() says ${VERSION}")
endif()
file(READ "${CHANGELOG}" log)
string(REPLACE "." "\\." v "${VERSION}")
if(NOT log MATCHES "\n## \\[${v}\\]")
  message(FATAL_ERROR "${CHANGELOG} has no '## [${VERSION}]' section: say what this version changed")
endif()
message("version ${VERSION}: header and CHANGELOG agree")
