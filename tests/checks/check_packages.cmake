# The README names, as `name`, every Debian package the scripts install:
# each leg's list in scripts/test (leg_packages), the build tool it adds,
# and what scripts/demo and scripts/bench ask ensure_packages for. A package
# added to a script and not to the README fails here, naming it.
#
#   cmake -DREADME=README.md -DSCRIPTS=scripts -P check_packages.cmake
cmake_minimum_required(VERSION 3.20)

file(READ "${README}" readme)
set(wanted "")
set(sources "")

# scripts/test: `    leg) echo pkg pkg ... ;;` inside leg_packages, and
# `need+=(pkg)`.
file(STRINGS "${SCRIPTS}/test" lines)
foreach(line IN LISTS lines)
  if(line MATCHES "^[ \t]+[a-z]+\\) echo ([a-z0-9+. -]+) ;;")
    string(REPLACE " " ";" names "${CMAKE_MATCH_1}")
    list(APPEND wanted ${names})
  elseif(line MATCHES "need\\+=\\(([a-z0-9+. -]+)\\)")
    string(REPLACE " " ";" names "${CMAKE_MATCH_1}")
    list(APPEND wanted ${names})
  endif()
endforeach()
# scripts/demo, scripts/bench, and the build tool's fallback: plain
# `ensure_packages pkg ...` lines.
foreach(script demo bench lib/common.sh)
  file(STRINGS "${SCRIPTS}/${script}" lines)
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "[|&;].*" "" line "${line}")
    string(REGEX REPLACE "2>/dev/null" "" line "${line}")
    if(line MATCHES "^[ \t]*ensure_packages ([a-z0-9+. -]+)$")
      string(STRIP "${CMAKE_MATCH_1}" names)
      string(REPLACE " " ";" names "${names}")
      list(APPEND wanted ${names})
    endif()
  endforeach()
endforeach()
list(REMOVE_ITEM wanted "")
list(REMOVE_DUPLICATES wanted)
list(LENGTH wanted n)
if(n LESS 10)
  message(FATAL_ERROR "read only ${n} package names from ${SCRIPTS} (${wanted}): has its shape changed?")
endif()

set(missing "")
foreach(p IN LISTS wanted)
  string(FIND "${readme}" "`${p}`" at)
  if(at EQUAL -1)
    list(APPEND missing "${p}")
  endif()
endforeach()
if(missing)
  string(REPLACE ";" " " missing "${missing}")
  message(FATAL_ERROR "${README} does not name (as `package`) what the scripts install: ${missing}")
endif()
string(REPLACE ";" " " wanted "${wanted}")
message("${README} names all ${n} packages the scripts install: ${wanted}")
