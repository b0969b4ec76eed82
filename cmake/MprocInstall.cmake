# Install: the headers (mproc.h, and mproc.hpp, its C++17 wrappers), both
# libraries, the CMake package and two pkg-config files.
#
#   find_package(mproc 0.1 REQUIRED)            # [COMPONENTS static shared]
#   target_link_libraries(app PRIVATE mproc::mproc)          # static
#   target_link_libraries(app PRIVATE mproc::mproc_shared)   # shared
#
#   cc app.c $(pkg-config --cflags --libs mproc)         # -lmproc: the shared
#                                                        # library where both are
#   cc app.c $(pkg-config --cflags --libs mproc-static)  # the static archive
#
# Two install components, so the shared library can be left out (or shipped
# apart) while the package stays whole:
#
#   mproc_development   header, static library, CMake package, mproc.pc,
#                       mproc-static.pc
#   mproc_shared        the shared library (and its import library), and
#                       mprocSharedTargets.cmake, which the package loads
#                       only where it is installed
#
# `cmake --install build --component mproc_development` is a static-only
# install, the same as one built with MPROC_BUILD_SHARED=OFF.
#
# Both the package and the .pc files find their files relative to where they
# are installed, so an installed tree can be moved (cmake --install --prefix,
# DESTDIR, a packager's staging folder).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mproc)
set(dev COMPONENT mproc_development)

install(TARGETS mproc EXPORT mprocTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} ${dev})
# mproc.hpp: the header-only C++17 wrappers over mproc.h, and its parts
# (include/mproc/*.hpp).
install(FILES ${PROJECT_SOURCE_DIR}/include/mproc.h ${PROJECT_SOURCE_DIR}/include/mproc.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${dev})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mproc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${dev}
  FILES_MATCHING PATTERN "*.hpp")
install(EXPORT mprocTargets NAMESPACE mproc:: DESTINATION ${cmake_dir} ${dev})
if(TARGET mproc_shared)
  install(TARGETS mproc_shared EXPORT mprocSharedTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT mproc_shared
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT mproc_shared
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT mproc_shared)
  install(EXPORT mprocSharedTargets NAMESPACE mproc:: DESTINATION ${cmake_dir} COMPONENT mproc_shared)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mprocConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mprocConfig.cmake
  INSTALL_DESTINATION ${cmake_dir})
# 0.x: a minor release may change the API, so 0.1 is satisfied by 0.1.z only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mprocConfig.cmake ${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake
  DESTINATION ${cmake_dir} ${dev})

# ---------------------------------------------------------------- pkg-config
# mproc.pc says -lmproc, which the linker resolves to the shared library
# where both are installed (the static one in a static-only install); its
# Libs.private is what linking the static library adds: threads, and librt
# where shm_open lives there. mproc-static.pc names the archive itself, with
# those flags in Libs, since both libraries are called mproc on disk and -l
# cannot choose (libuv, whose static library has a name of its own, ships
# libuv-static.pc for the same purpose). Cflags stay plain: the header's
# dllimport (MPROC_SHARED) is an optimisation for functions, and a static
# link on Windows must not have it.
set(MPROC_PC_LIBS_PRIVATE "")
if(NOT WIN32)
  set(MPROC_PC_LIBS_PRIVATE "-pthread")
  if(MPROC_NEED_LIBRT)
    string(APPEND MPROC_PC_LIBS_PRIVATE " -lrt")
  endif()
endif()
# The static library's file name (mproc_static.lib with MSVC: see
# MprocLibraries.cmake).
get_target_property(static_name mproc OUTPUT_NAME)
if(NOT static_name)
  set(static_name mproc)
endif()
set(MPROC_PC_STATIC_ARCHIVE "${CMAKE_STATIC_LIBRARY_PREFIX}${static_name}${CMAKE_STATIC_LIBRARY_SUFFIX}")
# prefix from the .pc file's own folder (pkg-config's ${pcfiledir}).
set(pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${pc_dir}")
  set(MPROC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH up "/root/${pc_dir}" "/root")
  string(REGEX REPLACE "/$" "" up "${up}")
  set(MPROC_PC_PREFIX "\${pcfiledir}/${up}")
endif()
set(MPROC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
set(MPROC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
foreach(var MPROC_PC_LIBDIR MPROC_PC_INCLUDEDIR)
  if(NOT IS_ABSOLUTE "${${var}}")
    set(${var} "\${prefix}/${${var}}")
  endif()
endforeach()
foreach(pc mproc mproc-static)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${pc_dir} ${dev})
endforeach()
