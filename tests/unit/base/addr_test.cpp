#include "magicboot/addr.h"

#include <gtest/gtest.h>

namespace mb {
namespace {

TEST(Addr, GfnAndByteAddressConvertExplicitly) {
  GuestPhys a{0x39fff430};
  EXPECT_EQ(a.gfn(), Gfn{0x39fff});
  EXPECT_EQ(a.page_offset(), 0x430u);
  EXPECT_EQ(Gfn{0x39fff}.addr(), GuestPhys{0x39fff000});
}

TEST(Addr, RangeOverlapIsHalfOpen) {
  PhysRange r{GuestPhys{0x40000000}, 0x200000};
  EXPECT_TRUE(r.contains(GuestPhys{0x40000000}));
  EXPECT_TRUE(r.contains(GuestPhys{0x401fffff}));
  EXPECT_FALSE(r.contains(GuestPhys{0x40200000}));
  EXPECT_FALSE(r.overlaps(PhysRange{GuestPhys{0x40200000}, 0x1000}));
  EXPECT_TRUE(r.overlaps(PhysRange{GuestPhys{0x3ffff000}, 0x1001}));
  EXPECT_FALSE(r.overlaps(PhysRange{GuestPhys{0x40000000}, 0}));
}

TEST(Addr, ContainsRangeDoesNotOverflowNearTheTop) {
  PhysRange top{GuestPhys{~uint64_t{0} - 0xfff}, 0x1000};
  EXPECT_TRUE(top.contains(PhysRange{GuestPhys{~uint64_t{0} - 0xff}, 0x100}));
  EXPECT_FALSE(top.contains(PhysRange{GuestPhys{~uint64_t{0} - 0xff}, 0x200}));
}

TEST(Addr, PageCountCoversPartialPages) {
  EXPECT_EQ((PhysRange{GuestPhys{0x1ff0}, 0x20}.page_count()), 2u);
  EXPECT_EQ((PhysRange{GuestPhys{0x1000}, 0x1000}.page_count()), 1u);
  EXPECT_EQ((PhysRange{GuestPhys{0x1000}, 0}.page_count()), 0u);
  EXPECT_EQ(range_of_pages(Gfn{0x40000}, 2), (PhysRange{GuestPhys{0x40000000}, 0x2000}));
}

TEST(Addr, Alignment) {
  EXPECT_EQ(align_up(0x40000001, 0x200000), 0x40200000u);
  EXPECT_EQ(align_down(0x401fffff, 0x200000), 0x40000000u);
  EXPECT_TRUE(GuestPhys{0x48000000}.is_aligned(8));
  EXPECT_FALSE(GuestPhys{0x48000004}.is_aligned(8));
  EXPECT_TRUE(is_pow2(4096));
  EXPECT_FALSE(is_pow2(0));
}

}  // namespace
}  // namespace mb
