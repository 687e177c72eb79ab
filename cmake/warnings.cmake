# Our own code builds warning-free, in both presets.
function(mb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers)
endfunction()

# Adds each listed subdirectory that has a CMakeLists.txt.
function(mb_add_subdirs)
  foreach(d ${ARGN})
    if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${d}/CMakeLists.txt")
      add_subdirectory(${d})
    endif()
  endforeach()
endfunction()
