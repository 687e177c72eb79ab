# Our own code builds warning-free, in both presets.
function(mb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers)
endfunction()
