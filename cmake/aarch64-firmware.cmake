# Cross toolchain for the bare-metal firmware: Debian's g++-aarch64-linux-gnu
# with picolibc (picolibc-aarch64-linux-gnu) as the C library.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(PICOLIBC_SPECS /usr/lib/picolibc/aarch64-linux-gnu/picolibcpp.specs)
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
