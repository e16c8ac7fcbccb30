# One place for compiler flags (Abseil style): every medtwin target calls medtwin_target_options().
set(MEDTWIN_WARNINGS -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
# GCC 12 at -O2/-O3 reports -Wrestrict inside std::string concatenation (GCC bug 105329), a
# false positive in libstdc++ headers; -Wnull-dereference likewise fires inside std::vector.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND MEDTWIN_WARNINGS -Wno-restrict)
endif()

# Sanitizer build type: cmake -DCMAKE_BUILD_TYPE=Sanitize (ASan + UBSan, aborts on the first report).
set(CMAKE_CXX_FLAGS_SANITIZE
    "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
    CACHE STRING "Flags for the ASan/UBSan build" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_SANITIZE "-fsanitize=address,undefined" CACHE STRING "" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_SANITIZE "-fsanitize=address,undefined" CACHE STRING "" FORCE)

# A module's target (medtwin_<m> for src/medtwin/<m>/) exposes only its own headers: its include
# directory is build/include/<m>, holding medtwin/<m> as a link to the sources, so
# `#include "medtwin/<x>/…"` compiles only where medtwin_<x> is linked (directly or through a
# PUBLIC dependency). scripts/check_includes.py checks the finer rules (direct links, PUBLIC
# for headers, no unused links). Other targets (tests, tools) see what they link.
function(medtwin_target_options target)
  target_compile_options(${target} PRIVATE ${MEDTWIN_WARNINGS})
  string(REGEX REPLACE "^medtwin_" "" module "${target}")
  if(NOT module STREQUAL target AND IS_DIRECTORY ${PROJECT_SOURCE_DIR}/src/medtwin/${module})
    set(dir ${PROJECT_BINARY_DIR}/include/${module})
    file(MAKE_DIRECTORY ${dir}/medtwin)
    if(NOT EXISTS ${dir}/medtwin/${module})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/medtwin/${module} ${dir}/medtwin/${module}
           SYMBOLIC)
    endif()
    target_include_directories(${target} PUBLIC ${dir})
  endif()
endfunction()
