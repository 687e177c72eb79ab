# Kconfig -> ${MAGICBOOT_GENERATED}/magicboot/config.h, with kconfiglib
# (python3-kconfiglib). The defconfig is chosen by MAGICBOOT_DEFCONFIG.
set(MAGICBOOT_DEFCONFIG "xen_arm64_defconfig" CACHE STRING "configs/ file to start from")
set(MAGICBOOT_GENERATED "${CMAKE_BINARY_DIR}/generated")
set(MAGICBOOT_DOTCONFIG "${CMAKE_BINARY_DIR}/.config")
set(_defconfig "${PROJECT_SOURCE_DIR}/configs/${MAGICBOOT_DEFCONFIG}")
set(_header "${MAGICBOOT_GENERATED}/magicboot/config.h")

if(NOT EXISTS "${_defconfig}")
  message(FATAL_ERROR "MAGICBOOT_DEFCONFIG: no such file ${_defconfig}")
endif()
# Debian's python3 carries python3-kconfiglib; a pyenv or venv python first on
# PATH would not see it.
find_program(MB_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT MB_PYTHON)
  find_program(MB_PYTHON python3 REQUIRED)
endif()
set(_kenv ${CMAKE_COMMAND} -E env "KCONFIG_CONFIG=${MAGICBOOT_DOTCONFIG}" srctree=${PROJECT_SOURCE_DIR})

# A .config edited by menuconfig survives reconfigures; another defconfig,
# or the same one changed (a new option turned on), starts over.
set(_stamp "${CMAKE_BINARY_DIR}/.config.defconfig")
file(SHA256 "${_defconfig}" _defconfig_hash)
set(_last "")
if(EXISTS "${_stamp}")
  file(READ "${_stamp}" _last)
endif()
if(NOT EXISTS "${MAGICBOOT_DOTCONFIG}" OR NOT _last STREQUAL "${_defconfig} ${_defconfig_hash}")
  execute_process(COMMAND ${_kenv} ${MB_PYTHON} -m defconfig --kconfig ${PROJECT_SOURCE_DIR}/Kconfig ${_defconfig}
                  RESULT_VARIABLE _rc OUTPUT_QUIET)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "kconfig: defconfig ${_defconfig} failed (is python3-kconfiglib installed? run tools/setup)")
  endif()
  file(WRITE "${_stamp}" "${_defconfig} ${_defconfig_hash}")
endif()
file(MAKE_DIRECTORY "${MAGICBOOT_GENERATED}/magicboot")
execute_process(COMMAND ${_kenv} ${MB_PYTHON} -m genconfig --header-path ${_header} ${PROJECT_SOURCE_DIR}/Kconfig
                RESULT_VARIABLE _rc OUTPUT_QUIET)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "kconfig: genconfig failed")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${PROJECT_SOURCE_DIR}/Kconfig" "${_defconfig}" "${MAGICBOOT_DOTCONFIG}")

add_custom_target(menuconfig
  COMMAND ${_kenv} ${MB_PYTHON} -m menuconfig ${PROJECT_SOURCE_DIR}/Kconfig
  COMMAND ${_kenv} ${MB_PYTHON} -m genconfig --header-path ${_header} ${PROJECT_SOURCE_DIR}/Kconfig
  USES_TERMINAL
  COMMENT "Kconfig menu; saves ${MAGICBOOT_DOTCONFIG}")

add_library(mb_config INTERFACE)
target_include_directories(mb_config INTERFACE "${MAGICBOOT_GENERATED}")

# The configuration's symbols as CMake variables (CONFIG_FOO = "y", a number
# or a string), for choices the build makes: which sources a config links.
file(STRINGS "${MAGICBOOT_DOTCONFIG}" _kconfig_lines REGEX "^CONFIG_[A-Za-z0-9_]+=")
foreach(_line IN LISTS _kconfig_lines)
  if(_line MATCHES "^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
    set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()
