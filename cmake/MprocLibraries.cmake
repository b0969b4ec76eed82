# The library, static and shared.
#
#   mproc          static, libmproc.a (mproc_static.lib with MSVC, whose import
#                  library would otherwise take the name mproc.lib); alias and
#                  exported name mproc::mproc
#   mproc_shared   shared, libmproc.so / libmproc.dylib / libmproc.dll;
#                  alias and exported name mproc::mproc_shared (with
#                  MPROC_BUILD_SHARED)
#
# Why mproc::mproc is the static one: a program that uses mproc starts copies
# of itself (the spawn start method, and every child on Windows), and a
# statically linked program needs nothing found at run time in any of them:
# no rpath, no DLL beside the .exe. The shared library is there, by its own
# name, for those who want it; nothing switches what mproc::mproc means from
# one directory or project to the next.
#
# Only the functions the header marks MPROC_API leave the shared library:
# everything is compiled with hidden visibility (tests/package checks the
# export list against the header).

# Compile options the library needs, on a target that compiles its sources.
function(mproc_compile_setup target)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  set_target_properties(${target} PROPERTIES C_VISIBILITY_PRESET hidden POSITION_INDEPENDENT_CODE ON)
  mproc_warnings(${target})
  if(MINGW)
    # C99 printf (%zu, %lld) from MinGW's own stdio instead of msvcrt's.
    target_compile_definitions(${target} PRIVATE __USE_MINGW_ANSI_STDIO=1)
  endif()
  if(WIN32)
    target_compile_definitions(${target} PRIVATE WIN32_LEAN_AND_MEAN UNICODE _UNICODE)
  endif()
endfunction()

# What a program linking the library needs: threads, and librt where
# shm_open lives there (glibc before 2.34).
function(mproc_link_setup target)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
  if(NOT WIN32)
    target_link_libraries(${target} PUBLIC Threads::Threads)
    if(MPROC_NEED_LIBRT)
      target_link_libraries(${target} PUBLIC rt)
    endif()
  endif()
endfunction()

function(mproc_find_librt)
  if(WIN32 OR DEFINED MPROC_NEED_LIBRT)
    return()
  endif()
  include(CheckSymbolExists)
  include(CheckLibraryExists)
  check_symbol_exists(shm_open "sys/mman.h" MPROC_HAVE_SHM_OPEN)
  set(need OFF)
  if(NOT MPROC_HAVE_SHM_OPEN)
    check_library_exists(rt shm_open "" MPROC_HAVE_LIBRT)
    if(MPROC_HAVE_LIBRT)
      set(need ON)
    endif()
  endif()
  set(MPROC_NEED_LIBRT ${need} CACHE INTERNAL "shm_open is in librt")
endfunction()

function(mproc_add_libraries)
  mproc_find_librt()
  set(sources ${ARGN})

  # POSIX: one compilation serves both libraries (position-independent,
  # hidden visibility). Windows: the DLL's objects say dllexport and the
  # static library's must not (a program linking it would re-export the
  # API), so each compiles its own.
  set(static_sources ${sources})
  set(shared_sources ${sources})
  if(NOT WIN32)
    add_library(mproc_objects OBJECT ${sources})
    mproc_compile_setup(mproc_objects)
    set(static_sources $<TARGET_OBJECTS:mproc_objects>)
    set(shared_sources $<TARGET_OBJECTS:mproc_objects>)
  endif()

  add_library(mproc STATIC ${static_sources})
  add_library(mproc::mproc ALIAS mproc)
  if(WIN32)
    mproc_compile_setup(mproc)
  endif()
  mproc_link_setup(mproc)
  if(MSVC)
    # mproc.lib and mproc.pdb are the DLL's (import library, debug symbols).
    set_target_properties(mproc PROPERTIES OUTPUT_NAME mproc_static COMPILE_PDB_NAME mproc_static)
  endif()

  if(MPROC_BUILD_SHARED)
    add_library(mproc_shared SHARED ${shared_sources})
    add_library(mproc::mproc_shared ALIAS mproc_shared)
    if(WIN32)
      mproc_compile_setup(mproc_shared)
      target_compile_definitions(mproc_shared PRIVATE MPROC_BUILDING_SHARED)
    endif()
    mproc_link_setup(mproc_shared)
    # MPROC_SHARED: the header's dllimport on Windows; nothing elsewhere.
    target_compile_definitions(mproc_shared INTERFACE MPROC_SHARED)
    set_target_properties(mproc_shared PROPERTIES
      OUTPUT_NAME mproc
      VERSION ${PROJECT_VERSION}
      SOVERSION ${PROJECT_VERSION_MAJOR}
      EXPORT_NAME mproc_shared)
    if(MINGW)
      # libgcc and libwinpthread inside the DLL, so it needs no other DLL
      # beside it (the test executables link -static for the same reason).
      target_link_options(mproc_shared PRIVATE -static-libgcc -static)
    endif()
  endif()
endfunction()
