// Fast clean boots of small synthetic Images, for the placement rules the
// real kernel (text_offset 0, flag bit 3 set) does not exercise: a nonzero
// text_offset, and a kernel that must stay in the first bank (bit 3 clear)
// next to one that may go anywhere.
#include <gtest/gtest.h>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

constexpr uint64_t kTextOffset = 0x80000;

struct Booted {
  SimResult r;
  Bytes kernel;  // read back at the jump, file-sized
};

Booted boot(SimOptions o, size_t file_size) {
  Booted b;
  b.r = run_sim(o, [&](model::Model& m, const SimResult& s) {
    if (s.jumped) b.kernel = read_guest(m, s.report.kernel.base, file_size);
  });
  return b;
}

TEST(SyntheticImage, TextOffsetInPlaceIsZeroCopy) {
  Bytes img = synthetic_image(200 * 1024, 3 * kMiB, kTextOffset);
  SimOptions o;
  o.payload = img;
  o.payload_address = 0x44000000 + kTextOffset;  // 2 MiB-aligned base + text_offset
  Booted b = boot(o, img.size());
  ASSERT_EQ(b.r.outcome, SimResult::Outcome::kClean) << describe(b.r);
  EXPECT_TRUE(b.r.report.kernel_zero_copy);
  EXPECT_EQ(b.r.report.kernel.base.value, 0x44000000 + kTextOffset);
  EXPECT_EQ(b.r.report.kernel.size, 3 * kMiB);
  EXPECT_TRUE(b.kernel == img);
}

TEST(SyntheticImage, TextOffsetAtABlockBaseIsMovedUp) {
  Bytes img = synthetic_image(200 * 1024, 3 * kMiB, kTextOffset);
  SimOptions o;
  o.payload = img;  // at a 2 MiB-aligned module address: entry - text_offset is not aligned
  Booted b = boot(o, img.size());
  ASSERT_EQ(b.r.outcome, SimResult::Outcome::kClean) << describe(b.r);
  EXPECT_FALSE(b.r.report.kernel_zero_copy);
  EXPECT_EQ((b.r.report.kernel.base.value - kTextOffset) % (2 * kMiB), 0u) << std::hex << b.r.report.kernel.base.value;
  EXPECT_FALSE(b.r.report.kernel.overlaps(kLoaderSpan));
  EXPECT_TRUE(b.kernel == img);
}

TEST(SyntheticImage, GzipWithTextOffset) {
  Bytes img = synthetic_image(300 * 1024, 2 * kMiB, kTextOffset);
  SimOptions o;
  o.payload = gzip_bytes(img, 9);
  o.domain = model::DomainKind::kXl;
  o.shared_info_param = model::SharedInfoParam::kOffered;
  Booted b = boot(o, img.size());
  ASSERT_EQ(b.r.outcome, SimResult::Outcome::kClean) << describe(b.r);
  EXPECT_EQ((b.r.report.kernel.base.value - kTextOffset) % (2 * kMiB), 0u);
  EXPECT_EQ(b.r.report.kernel_file_size, img.size());
  EXPECT_TRUE(b.kernel == img);
}

// Flag bit 3 ("anywhere") decides whether a kernel too big for what is left
// of the first bank may go to the second: bank 0 is reserved above 128 MiB
// (memreserve), leaving ~100 MiB there, and the kernel wants 200 MiB.
SimOptions big_kernel_in_6g(uint64_t flags) {
  Bytes img = synthetic_image(128 * 1024, 200 * kMiB);
  put_le(img, 0x18, flags, 8);
  SimOptions o;
  o.payload = img;
  o.ram_mib = 6144;
  o.memreserve = {PhysRange{GuestPhys{0x48000000}, xa::kRam0.end() - GuestPhys{0x48000000}}};
  return o;
}

TEST(SyntheticImage, AnywhereGoesToTheSecondBank) {
  SimOptions o = big_kernel_in_6g(0xa);
  Booted b = boot(o, o.payload.size());
  ASSERT_EQ(b.r.outcome, SimResult::Outcome::kClean) << describe(b.r);
  EXPECT_TRUE(xa::kRam1.contains(b.r.report.kernel)) << std::hex << b.r.report.kernel.base.value;
  EXPECT_TRUE(b.kernel == o.payload);
}

TEST(SyntheticImage, NotAnywhereMustStayInTheFirstBank) {
  SimOptions o = big_kernel_in_6g(0x2);  // LE, 4 KiB pages, bit 3 clear
  std::optional<Gfn> shared_info_at;
  SimResult r = run_sim(o, [&](model::Model& m, const SimResult&) { shared_info_at = m.shared_info_gfn(); });
  ASSERT_EQ(r.outcome, SimResult::Outcome::kBadInput) << describe(r);
  EXPECT_STREQ(r.error.check, "ledger-allocate") << r.error.detail;
  EXPECT_TRUE(r.findings.empty());
  EXPECT_FALSE(shared_info_at.has_value());
}

}  // namespace
}  // namespace mb::sim::test
