# The API reference: `cmake --build build --target docs` writes HTML to
# build/docs/html with Doxygen, from the header's comments, the README, the
# tutorial and the changelog. Doxygen is looked for, never required: without
# it the target says what to install and fails, and the build is unchanged.
# (As a subproject the target is mproc_docs, so it cannot clash with the
# parent's own docs target.)
find_package(Doxygen QUIET)
set(MPROC_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/docs)
set(docs_target mproc_docs)
if(MPROC_IS_TOP_LEVEL)
  set(docs_target docs)
endif()

if(DOXYGEN_FOUND)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
  add_custom_target(${docs_target}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MPROC_DOCS_OUTPUT}
    COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/Doxyfile
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${MPROC_DOCS_OUTPUT}/html/index.html"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: the API reference"
    VERBATIM)
else()
  add_custom_target(${docs_target}
    COMMAND ${CMAKE_COMMAND} -E echo
            "The docs target needs Doxygen (Debian/Ubuntu: apt-get install doxygen; macOS: brew install doxygen), then configure again."
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
