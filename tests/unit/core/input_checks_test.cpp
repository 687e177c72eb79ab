// What the loader refuses before it loads anything, step by step:
// a kernel command line Linux would cut (bootargs-length, at the boundary,
// from either source) and a FIT configuration asked of a payload that is no
// FIT (fit-config-not-fit).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "magicboot/cmdline.h"
#include "step_support.h"
#include "steps.h"

namespace mb::loader {
namespace {

static_assert(kLinuxCommandLineSize == 2048, "arm64's COMMAND_LINE_SIZE");

using test::BlobMemory;

std::vector<uint8_t> small_image() {
  std::vector<uint8_t> b(64 * 1024);
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0x00, 0x91005a4d, 4);
  put(0x10, 1 << 20, 8);  // image_size
  put(0x18, 0xa, 8);
  put(0x38, 0x644d5241, 4);  // "ARM\x64"
  return b;
}

constexpr GuestPhys kAt{0x46200000};

// Step 4 on a small Image, with these options and /chosen bootargs.
Res<steps::Identified> identify(const BootOptions& opts, const char* chosen_bootargs = nullptr) {
  BlobMemory mem(kAt, small_image());
  alignas(16) static uint8_t heap[64 * 1024];
  Arena arena(heap, sizeof heap);
  DiscoveredDt dt;
  dt.payload = PhysRange{kAt, 64 * 1024};
  dt.bootargs = chosen_bootargs;
  return steps::identify(mem, arena, opts, dt, steps::module_payload(dt));
}

TEST(BootargsLength, TheLongestLineLinuxKeepsWholePasses) {
  const std::string keep(kLinuxCommandLineSize - 1, 'k');  // 2047 + NUL = 2048
  BootOptions opts;
  EXPECT_TRUE(identify(opts).ok());             // no command line at all
  EXPECT_TRUE(identify(opts, keep.c_str()).ok());  // /chosen's
  opts.bootargs = keep.c_str();                 // the loader's
  EXPECT_TRUE(identify(opts).ok());
  opts.bootargs = "";
  EXPECT_TRUE(identify(opts).ok());
}

TEST(BootargsLength, OneByteMoreIsRefusedNamingTheLimitAndTheLength) {
  const std::string cut(kLinuxCommandLineSize, 'c');
  BootOptions opts;
  opts.bootargs = cut.c_str();
  auto res = identify(opts);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kBadInput);
  EXPECT_STREQ(res.error().check, "bootargs-length");
  EXPECT_STREQ(res.error().detail, "2048-byte kernel command line: arm64 Linux keeps 2047 (COMMAND_LINE_SIZE)");
}

TEST(BootargsLength, ChecksTheLineTheKernelGets) {
  const std::string cut(5000, 'c');
  BootOptions opts;
  // /chosen's line, when the loader is given none.
  auto res = identify(opts, cut.c_str());
  ASSERT_FALSE(res.ok());
  EXPECT_STREQ(res.error().check, "bootargs-length");
  EXPECT_STREQ(res.error().detail, "5000-byte kernel command line: arm64 Linux keeps 2047 (COMMAND_LINE_SIZE)");
  // A line given to the loader replaces /chosen's: the long one never reaches the kernel.
  opts.bootargs = "console=hvc0";
  EXPECT_TRUE(identify(opts, cut.c_str()).ok());
  DiscoveredDt dt;
  dt.bootargs = cut.c_str();
  EXPECT_STREQ(steps::kernel_bootargs(opts, dt), "console=hvc0");
  // And a long given line is refused even under a short /chosen one.
  opts.bootargs = cut.c_str();
  EXPECT_FALSE(identify(opts, "console=hvc0").ok());
}

TEST(FitConfigNotFit, AnImageWithAConfigurationIsRefused) {
  BootOptions opts;
  ASSERT_TRUE(identify(opts).ok());  // the same payload without one boots
  opts.fit_config = "conf-1";
  auto res = identify(opts);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kBadInput);
  EXPECT_STREQ(res.error().check, "fit-config-not-fit");
  EXPECT_STREQ(res.error().detail, "configuration \"conf-1\" asked of a non-FIT payload (image)");
}

}  // namespace
}  // namespace mb::loader
