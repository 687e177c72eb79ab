#include "magicboot/cmdline.h"

#include <gtest/gtest.h>

namespace mb {
namespace {

TEST(Cmdline, MatchesWholeWordsOnly) {
  const char* line = "console=hvc0 magicboot.report=full  earlycon\tquiet";
  EXPECT_TRUE(cmdline_has(line, "magicboot.report=full"));
  EXPECT_TRUE(cmdline_has(line, "console=hvc0"));
  EXPECT_TRUE(cmdline_has(line, "earlycon"));
  EXPECT_TRUE(cmdline_has(line, "quiet"));
  EXPECT_FALSE(cmdline_has(line, "magicboot.report"));       // a prefix of a word
  EXPECT_FALSE(cmdline_has(line, "report=full"));            // a suffix
  EXPECT_FALSE(cmdline_has(line, "console"));
  EXPECT_FALSE(cmdline_has("xmagicboot.probe magicboot.probe2", "magicboot.probe"));
  EXPECT_TRUE(cmdline_has("magicboot.probe", "magicboot.probe"));
  EXPECT_FALSE(cmdline_has(nullptr, "quiet"));
  EXPECT_FALSE(cmdline_has("", "quiet"));
  EXPECT_FALSE(cmdline_has("quiet", ""));
  EXPECT_FALSE(cmdline_has("   ", " "));
}

}  // namespace
}  // namespace mb
