# Install: the header, both libraries, the CMake package and mproc.pc.
#
#   find_package(mproc 0.1 REQUIRED)            # [COMPONENTS static shared]
#   target_link_libraries(app PRIVATE mproc::mproc)          # static
#   target_link_libraries(app PRIVATE mproc::mproc_shared)   # shared
#
#   cc app.c $(pkg-config --cflags --libs mproc)             # shared (the
#                                                             # linker's choice)
#   cc app.c .../libmproc.a $(pkg-config --static --libs-only-other
#                                        --libs-only-l mproc) # static
#
# Both the package and mproc.pc find their files relative to where they are
# installed, so an installed tree can be moved (cmake --install --prefix,
# DESTDIR, a packager's staging folder).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(mproc_install_targets mproc)
if(TARGET mproc_shared)
  list(APPEND mproc_install_targets mproc_shared)
endif()
install(TARGETS ${mproc_install_targets} EXPORT mprocTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/mproc.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mprocTargets NAMESPACE mproc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mproc)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mprocConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mprocConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mproc)
# 0.x: a minor release may change the API, so 0.1 is satisfied by 0.1.z only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mprocConfig.cmake ${PROJECT_BINARY_DIR}/mprocConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mproc)

# mproc.pc. Libs.private is what linking the static library adds: threads,
# and librt where shm_open lives there. Cflags stay plain: the header's
# dllimport (MPROC_SHARED) is an optimisation for functions, and a static
# link on Windows must not have it.
set(MPROC_PC_LIBS_PRIVATE "")
if(NOT WIN32)
  set(MPROC_PC_LIBS_PRIVATE "-pthread")
  if(MPROC_NEED_LIBRT)
    string(APPEND MPROC_PC_LIBS_PRIVATE " -lrt")
  endif()
endif()
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
configure_file(${PROJECT_SOURCE_DIR}/cmake/mproc.pc.in ${PROJECT_BINARY_DIR}/mproc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mproc.pc DESTINATION ${pc_dir})
