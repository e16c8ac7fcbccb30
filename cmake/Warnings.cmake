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

function(medtwin_target_options target)
  target_compile_options(${target} PRIVATE ${MEDTWIN_WARNINGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
endfunction()
