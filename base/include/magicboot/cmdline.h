// A kernel command line, as the options magicboot reads from it: words
// separated by spaces. Linux ignores "magicboot.*" words (they look like
// parameters of a module it does not have), so they may share the line.
#pragma once

namespace mb {

// True when `word` is one whole word of `line` (not a part of a longer
// word: "magicboot.probe" does not match "magicboot.probe2" or
// "xmagicboot.probe"). A null line has no words.
bool cmdline_has(const char* line, const char* word);

}  // namespace mb
