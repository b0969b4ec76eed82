# The version has one source: project(mproc VERSION ...) in CMakeLists.txt.
# The package version file, mproc.pc and the shared library's soname come
# from it directly. The header keeps its own MPROC_VERSION_* numbers (a
# program compiled against it must see them without CMake), so every
# configure checks they agree, and refuses to go on if they do not.

# mproc_header_version(HEADER OUT): "MAJOR.MINOR.PATCH" as the header says.
function(mproc_header_version header out)
  file(STRINGS "${header}" lines REGEX "^#define MPROC_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+")
  foreach(part MAJOR MINOR PATCH)
    set(${part} "")
    foreach(line IN LISTS lines)
      if(line MATCHES "^#define MPROC_VERSION_${part} +([0-9]+)")
        set(${part} ${CMAKE_MATCH_1})
      endif()
    endforeach()
  endforeach()
  set(${out} "${MAJOR}.${MINOR}.${PATCH}" PARENT_SCOPE)
endfunction()

function(mproc_check_header_version header)
  mproc_header_version("${header}" said)
  set(want "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}.${PROJECT_VERSION_PATCH}")
  if(NOT said STREQUAL want)
    message(FATAL_ERROR "${header} says version '${said}' (MPROC_VERSION_MAJOR/MINOR/PATCH) "
      "but project() in CMakeLists.txt says ${want}, which is the one source of the version: "
      "set the header's three numbers to match.")
  endif()
endfunction()
