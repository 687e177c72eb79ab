# Cross toolchain for the bare-metal firmware: Debian's g++-aarch64-linux-gnu
# with picolibc (picolibc-aarch64-linux-gnu) as the C library.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
# MAGICBOOT_CROSS_PREFIX (environment) only for the test that proves the
# check below: a prefix no compiler has.
set(_prefix aarch64-linux-gnu-)
if(DEFINED ENV{MAGICBOOT_CROSS_PREFIX})
  set(_prefix "$ENV{MAGICBOOT_CROSS_PREFIX}")
endif()
set(CMAKE_C_COMPILER ${_prefix}gcc)
set(CMAKE_CXX_COMPILER ${_prefix}g++)
set(CMAKE_ASM_COMPILER ${_prefix}gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(PICOLIBC_SPECS /usr/lib/picolibc/aarch64-linux-gnu/picolibcpp.specs)

# Without the cross compiler CMake would carry on with the host's ar and
# empty flags and cache them, so that even after tools/setup this build
# directory made a wrong image. Stopping here, before the compilers are
# looked at, caches none of that; what is left is removed all the same.
set(_missing "")
foreach(_tool ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER})
  find_program(_mb_tool ${_tool} NO_CACHE)
  if(NOT _mb_tool)
    list(APPEND _missing ${_tool})
  endif()
  unset(_mb_tool)
endforeach()
if(NOT EXISTS "${PICOLIBC_SPECS}")
  list(APPEND _missing "${PICOLIBC_SPECS}")
endif()
if(_missing)
  file(REMOVE_RECURSE "${CMAKE_BINARY_DIR}/CMakeCache.txt" "${CMAKE_BINARY_DIR}/CMakeFiles")
  string(REPLACE ";" ", " _missing "${_missing}")
  message(FATAL_ERROR "magicboot firmware: no cross toolchain (missing ${_missing}): run tools/setup, "
                      "then configure again (nothing of this attempt is kept)")
endif()
# -mcmodel=tiny: the image (code, data, bss, stack) spans well under 1 MiB,
# so an address is one ADR instead of ADRP+ADD (~2.5 KiB less code).
set(_flags "--specs=${PICOLIBC_SPECS} -ffreestanding -mstrict-align -fno-pic -fno-pie -mcmodel=tiny -ffunction-sections -fdata-sections -fstack-protector-strong")
set(CMAKE_C_FLAGS_INIT "${_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_flags} -fno-exceptions -fno-rtti -fno-use-cxa-atexit -fno-threadsafe-statics -fno-asynchronous-unwind-tables")
# Cortex-A53 erratum 843419 (an ADRP at a page's last two words): picolibc
# is built with ADRPs, and the linker's default fix adds veneers that cost up
# to 4 KiB of alignment each, depending on where code falls. Every target is
# within 1 MiB, so each affected ADRP can become an ADR instead.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -static -Wl,--gc-sections -Wl,--fix-cortex-a53-843419=adr")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
