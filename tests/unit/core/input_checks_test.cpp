// What the loader refuses before it loads anything, step by step:
// a kernel command line Linux would cut (bootargs-length, at the boundary,
// from either source) and a FIT configuration asked of a payload that is no
// FIT (fit-config-not-fit).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "magicboot/cmdline.h"
#include "steps.h"

namespace mb::loader {
namespace {

static_assert(kLinuxCommandLineSize == 2048, "arm64's COMMAND_LINE_SIZE");

// Guest memory holding one payload; nothing else is readable.
class PayloadMemory final : public GuestMemory {
 public:
  PayloadMemory(GuestPhys at, std::vector<uint8_t> bytes) : at_(at), bytes_(std::move(bytes)) {}
  Res<void> read(GuestPhys a, void*, size_t) override { return refuse(a); }
  Res<void> write(GuestPhys a, const void*, size_t) override { return refuse(a); }
  Res<void> copy(GuestPhys a, GuestPhys, size_t) override { return refuse(a); }
  Res<void> fill(GuestPhys a, uint8_t, size_t) override { return refuse(a); }
  Res<const uint8_t*> view(GuestPhys a, size_t len) override {
    if (a.value < at_.value || a.value - at_.value + len > bytes_.size())
      return MB_ERR(ErrorCode::kMemoryFault, "test-memory", "no memory at %#llx", (unsigned long long)a.value);
    return bytes_.data() + (a.value - at_.value);
  }

 private:
  static Res<void> refuse(GuestPhys a) {
    return MB_ERR(ErrorCode::kMemoryFault, "test-memory", "no memory at %#llx", (unsigned long long)a.value);
  }
  GuestPhys at_;
  std::vector<uint8_t> bytes_;
};

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
Res<steps::PayloadView> identify(const BootOptions& opts, const char* chosen_bootargs = nullptr) {
  PayloadMemory mem(kAt, small_image());
  alignas(16) static uint8_t heap[64 * 1024];
  Arena arena(heap, sizeof heap);
  BootReport r;
  r.payload = PhysRange{kAt, 64 * 1024};
  r.dt.bootargs = chosen_bootargs;
  return steps::identify(mem, arena, opts, r);
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
  BootReport r;
  r.dt.bootargs = cut.c_str();
  EXPECT_STREQ(steps::kernel_bootargs(opts, r), "console=hvc0");
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
