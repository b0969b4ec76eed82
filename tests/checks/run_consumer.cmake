# Builds tests/consumer, the project of an outside user, against mproc and
# runs what it built. One step of ctest's consumer.* tests:
#
#   MODE=install        install BUILD_DIR into PREFIX (a fresh one): the
#                       fixture the other modes need
#   MODE=find_package   CMake: find_package(mproc 0.1) in PREFIX; runs app
#                       (mproc::mproc) and app_shared (mproc::mproc_shared)
#   MODE=cxx            the same from C++, and through mproc.hpp
#   MODE=subdirectory   CMake: add_subdirectory(MPROC_SOURCE_DIR), with no
#                       build type of the consumer's own (mproc must not
#                       set one)
#   MODE=makefile       make + pkg-config with PREFIX's mproc.pc and
#                       mproc-static.pc
#   MODE=components     find_package's components: a static-only install
#                       (BUILD_DIR's mproc_development component) refuses
#                       COMPONENTS shared, and PREFIX refuses a misspelt
#                       one, each naming the component and what is
#                       installed; the static-only install then builds app
#
# Other -D inputs: SOURCE_DIR (tests/consumer), WORK_DIR (cleared first),
# VERSION (what the programs must print), GENERATOR, GENERATOR_PLATFORM,
# CONFIG, C_COMPILER, CXX_COMPILER, TOOLCHAIN and EMULATOR (cross builds),
# MAKE, PKG_CONFIG, LIBDIR (PREFIX's lib folder), BUILD_DIR (install and
# components).
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
# half the time, as what it tests is the wiring, not the code. With no build
# type at all (multi-config generators build Debug), which is what a
# consumer that sets none has: mproc must leave it so.
set(build_type "${CONFIG}")
if(MODE STREQUAL "subdirectory")
  set(CONFIG Debug)
  set(build_type "")
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

# configure_args(OUT CONSUMER DIR PREFIX [-Dmore...]): cmake's arguments to
# configure the consumer project as CONSUMER in DIR against PREFIX.
function(configure_args out consumer dir prefix)
  set(args -S "${SOURCE_DIR}" -B "${dir}" -G "${GENERATOR}" "-DMPROC_CONSUMER=${consumer}" ${ARGN})
  if(GENERATOR_PLATFORM)
    list(APPEND args -A "${GENERATOR_PLATFORM}")
  endif()
  if(TOOLCHAIN)
    list(APPEND args "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}")
  else()
    list(APPEND args "-DCMAKE_C_COMPILER=${C_COMPILER}")
    if(consumer STREQUAL "cxx" AND CXX_COMPILER)
      list(APPEND args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
    endif()
  endif()
  if(build_type)
    list(APPEND args "-DCMAKE_BUILD_TYPE=${build_type}")
  endif()
  if(consumer STREQUAL "subdirectory")
    list(APPEND args "-DMPROC_SOURCE_DIR=${MPROC_SOURCE_DIR}")
  else()
    # mproc_DIR rather than CMAKE_PREFIX_PATH: a cross toolchain looks for
    # packages only under its own root, and a *_DIR is taken as it is.
    list(APPEND args "-Dmproc_DIR=${prefix}/${LIBDIR}/cmake/mproc")
  endif()
  set(${out} ${args} PARENT_SCOPE)
endfunction()

# refused(WHAT EXPECT ARGS...): configuring with ARGS must fail, and say EXPECT.
function(refused what expect)
  execute_process(COMMAND "${CMAKE_COMMAND}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REGEX REPLACE "[ \t\r\n]+" " " said "${out} ${err}") # CMake wraps its messages
  if(rc EQUAL 0)
    message(FATAL_ERROR "${what}: configuring succeeded, but it must fail:\n${out}\n${err}")
  endif()
  if(NOT said MATCHES "${expect}")
    message(FATAL_ERROR "${what}: configuring failed, but did not say '${expect}':\n${out}\n${err}")
  endif()
  string(FIND "${said}" "Reason given by package:" at)
  string(SUBSTRING "${said}" ${at} 500 reason)
  message("${what}: refused as it should be. ${reason}")
endfunction()

function(build dir)
  set(build_args --build "${dir}" --parallel 2)
  if(CONFIG)
    list(APPEND build_args --config "${CONFIG}")
  endif()
  run("build" "${CMAKE_COMMAND}" ${build_args})
endfunction()

if(MODE STREQUAL "components")
  set(static_prefix "${WORK_DIR}/static-prefix")
  set(config_args "")
  if(CONFIG)
    set(config_args --config "${CONFIG}")
  endif()
  run("cmake --install (static only)" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${static_prefix}"
      --component mproc_development ${config_args})
  configure_args(args find_package "${WORK_DIR}/want-shared" "${static_prefix}" -DMPROC_COMPONENTS=static,shared)
  refused("COMPONENTS static shared, static-only install"
          "The 'shared' component \\(mproc::mproc_shared\\) is not installed in .*This install has: static\\." ${args})
  configure_args(args find_package "${WORK_DIR}/misspelt" "${PREFIX}" -DMPROC_COMPONENTS=sharde)
  refused("COMPONENTS sharde" "mproc has no component 'sharde': its components are static and shared\\. This install has: static and shared\\." ${args})
  # What the static-only install has, it gives.
  set(WORK_DIR "${WORK_DIR}/static-only")
  configure_args(args find_package "${WORK_DIR}" "${static_prefix}" -DMPROC_COMPONENTS=static)
  run("configure (static only)" "${CMAKE_COMMAND}" ${args})
  build("${WORK_DIR}")
  run_program(app "${squares}")
  if(EXISTS "${WORK_DIR}/bin/app_shared" OR EXISTS "${WORK_DIR}/bin/app_shared.exe")
    message(FATAL_ERROR "a static-only install made mproc::mproc_shared")
  endif()
  return()
endif()

configure_args(args ${MODE} "${WORK_DIR}" "${PREFIX}")
run("configure" "${CMAKE_COMMAND}" ${args})
build("${WORK_DIR}")

if(MODE STREQUAL "cxx")
  run_program(app_cxx "mproc ${v} from C\\+\\+: cubes 1 8 27 64\n")
  run_program(app_hpp "mproc ${v} from mproc\\.hpp: cubes 1 8 27 64; negative\n")
else()
  run_program(app "${squares}")
  if(MODE STREQUAL "find_package")
    run_program(app_shared "${squares}")
  endif()
endif()
