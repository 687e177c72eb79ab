// A kernel command line, as the options magicboot reads from it: words
// separated by spaces. Linux ignores "magicboot.*" words (they look like
// parameters of a module it does not have), so they may share the line.
#pragma once

#include <cstddef>

namespace mb {

// Linux's COMMAND_LINE_SIZE on arm64 (arch/arm64/include/uapi/asm/setup.h):
// the kernel copies at most this many bytes of /chosen bootargs, the NUL
// included (drivers/of/fdt.c, early_init_dt_scan_chosen: strscpy(cmdline, p,
// min(l, COMMAND_LINE_SIZE))), so a longer line loses its tail without a
// word. The loader refuses such a line ("bootargs-length").
inline constexpr size_t kLinuxCommandLineSize = 2048;

// True when `word` is one whole word of `line` (not a part of a longer
// word: "magicboot.probe" does not match "magicboot.probe2" or
// "xmagicboot.probe"). A null line has no words.
bool cmdline_has(const char* line, const char* word);

}  // namespace mb
