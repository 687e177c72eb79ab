#!/bin/sh
# Configuring the firmware before tools/setup must fail at once, say to run
# tools/setup, and leave nothing cached that a later configure would reuse:
# once the toolchain is there, the same build directory must configure the
# cross compiler, its ar and the MinSizeRel flags.
#   toolchain_missing_test.sh SOURCE_DIR WORK_DIR
set -u
src=$1
dir=$2/firmware-before-setup
rm -rf "$dir"
out=$(MAGICBOOT_CROSS_PREFIX=no-such-cross- cmake -S "$src" -B "$dir" \
      -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-firmware.cmake" -DCMAKE_BUILD_TYPE=MinSizeRel 2>&1)
rc=$?
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
[ $rc -ne 0 ] || fail "configure without a cross compiler succeeded"
flat=$(echo "$out" | tr -s ' \n' '  ')  # CMake wraps long messages
echo "$flat" | grep -q "no cross toolchain (missing no-such-cross-gcc, no-such-cross-g++" || fail "no message naming the compilers"
echo "$flat" | grep -q "run tools/setup" || fail "the message does not say to run tools/setup"
if [ -f "$dir/CMakeCache.txt" ] && grep -qE "^CMAKE_(AR|CXX_COMPILER|C_COMPILER|CXX_FLAGS_MINSIZEREL)[:=]" "$dir/CMakeCache.txt"; then
  fail "the failed configure cached tools or flags: $(grep -E '^CMAKE_(AR|CXX_COMPILER|CXX_FLAGS_MINSIZEREL)' "$dir/CMakeCache.txt")"
fi
out=$(cmake -S "$src" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-firmware.cmake" \
      -DCMAKE_BUILD_TYPE=MinSizeRel 2>&1) || fail "configure with the toolchain failed in the same directory"
grep -q "^CMAKE_AR:FILEPATH=.*aarch64-linux-gnu-" "$dir/CMakeCache.txt" || fail "ar is not the cross one: $(grep ^CMAKE_AR: "$dir/CMakeCache.txt")"
grep -q "^CMAKE_CXX_FLAGS_MINSIZEREL:STRING=-Os" "$dir/CMakeCache.txt" || fail "MinSizeRel flags not -Os: $(grep ^CMAKE_CXX_FLAGS_MINSIZEREL "$dir/CMakeCache.txt")"
rm -rf "$dir"
echo "PASS: refused without the toolchain, then configured cleanly in the same directory"
