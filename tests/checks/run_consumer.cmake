# Builds tests/consumer, the project of an outside user, against mproc and
# runs what it built. One step of ctest's consumer.* tests:
#
#   MODE=install        install BUILD_DIR into PREFIX (a fresh one): the
#                       fixture the other modes need
#   MODE=find_package   CMake: find_package(mproc 0.1) in PREFIX; runs app
#                       (mproc::mproc) and app_shared (mproc::mproc_shared)
#   MODE=cxx            the same from C++
#   MODE=subdirectory   CMake: add_subdirectory(MPROC_SOURCE_DIR)
#   MODE=makefile       make + pkg-config with PREFIX's mproc.pc
#
# Other -D inputs: SOURCE_DIR (tests/consumer), WORK_DIR (cleared first),
# VERSION (what the programs must print), GENERATOR, GENERATOR_PLATFORM,
# CONFIG, C_COMPILER, CXX_COMPILER, TOOLCHAIN and EMULATOR (cross builds),
# MAKE, PKG_CONFIG, LIBDIR (PREFIX's lib folder).
cmake_minimum_required(VERSION 3.20)

# run(WHAT CMD...): CMD must succeed; its standard output lands in
# last_output (standard error, where Wine says its own piece, is only shown
# on failure).
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "${what} failed (${rc}):\n  ${cmd}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# run_program(NAME EXPECT): runs WORK_DIR's NAME (through EMULATOR for a
# cross build) and checks its output.
function(run_program name expect)
  set(exe "${WORK_DIR}/bin/${name}")
  if(NOT EXISTS "${exe}" AND EXISTS "${exe}.exe")
    set(exe "${exe}.exe")
  endif()
  if(NOT EXISTS "${exe}" AND EXISTS "${WORK_DIR}/${name}")
    set(exe "${WORK_DIR}/${name}") # the Makefile builds in place
  endif()
  run("${name}" ${EMULATOR} "${exe}")
  if(NOT last_output MATCHES "${expect}")
    message(FATAL_ERROR "${name} printed:\n${last_output}\nwhich does not match: ${expect}")
  endif()
  string(STRIP "${last_output}" shown)
  message("${name}: ${shown}")
endfunction()

string(REPLACE "." "\\." v "${VERSION}")
set(squares "mproc ${v}: squares 1 4 9 16 25 36 49 64\n")

if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  set(config_args "")
  if(CONFIG)
    set(config_args --config "${CONFIG}")
  endif()
  run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args})
  message("${last_output}")
  return()
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# add_subdirectory compiles the whole library again: unoptimised, which takes
# half the time, as what it tests is the wiring, not the code.
if(MODE STREQUAL "subdirectory")
  set(CONFIG Debug)
endif()

if(MODE STREQUAL "makefile")
  run("make" "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${PREFIX}/${LIBDIR}/pkgconfig"
      "${MAKE}" -C "${WORK_DIR}" -f "${SOURCE_DIR}/Makefile" "SRC=${SOURCE_DIR}"
      "CC=${C_COMPILER}" "PKG_CONFIG=${PKG_CONFIG}")
  message("${last_output}")
  run_program(app_shared "${squares}")
  run_program(app_static "${squares}")
  return()
endif()

set(args -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}" "-DMPROC_CONSUMER=${MODE}")
if(GENERATOR_PLATFORM)
  list(APPEND args -A "${GENERATOR_PLATFORM}")
endif()
if(TOOLCHAIN)
  list(APPEND args "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}")
else()
  list(APPEND args "-DCMAKE_C_COMPILER=${C_COMPILER}")
  if(MODE STREQUAL "cxx" AND CXX_COMPILER)
    list(APPEND args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
  endif()
endif()
if(CONFIG)
  list(APPEND args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
if(MODE STREQUAL "subdirectory")
  list(APPEND args "-DMPROC_SOURCE_DIR=${MPROC_SOURCE_DIR}")
else()
  # mproc_DIR rather than CMAKE_PREFIX_PATH: a cross toolchain looks for
  # packages only under its own root, and a *_DIR is taken as it is.
  list(APPEND args "-Dmproc_DIR=${PREFIX}/${LIBDIR}/cmake/mproc")
endif()
run("configure" "${CMAKE_COMMAND}" ${args})
set(build_args --build "${WORK_DIR}" --parallel 2)
if(CONFIG)
  list(APPEND build_args --config "${CONFIG}")
endif()
run("build" "${CMAKE_COMMAND}" ${build_args})

if(MODE STREQUAL "cxx")
  run_program(app_cxx "mproc ${v} from C\\+\\+: cubes 1 8 27 64\n")
else()
  run_program(app "${squares}")
  if(MODE STREQUAL "find_package")
    run_program(app_shared "${squares}")
  endif()
endif()
