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

// What is left of a range with a hole taken out: below it and above it.
TEST(Addr, BeforeAndAfterAHole) {
  const PhysRange r{GuestPhys{0x1000}, 0x4000};  // [0x1000, 0x5000)
  const PhysRange mid{GuestPhys{0x2000}, 0x1000};
  EXPECT_EQ(r.before(mid), (PhysRange{GuestPhys{0x1000}, 0x1000}));
  EXPECT_EQ(r.after(mid), (PhysRange{GuestPhys{0x3000}, 0x2000}));
  const PhysRange below{GuestPhys{0}, 0x800}, above{GuestPhys{0x6000}, 0x1000};
  EXPECT_EQ(r.before(above), r);  // a hole past the end leaves it whole
  EXPECT_TRUE(r.after(above).empty());
  EXPECT_TRUE(r.before(below).empty());
  EXPECT_EQ(r.after(below), r);
  const PhysRange head{GuestPhys{0x1000}, 0x1000}, tail{GuestPhys{0x4000}, 0x2000};
  EXPECT_TRUE(r.before(head).empty());
  EXPECT_EQ(r.after(head), (PhysRange{GuestPhys{0x2000}, 0x3000}));
  EXPECT_EQ(r.before(tail), (PhysRange{GuestPhys{0x1000}, 0x3000}));
  EXPECT_TRUE(r.after(tail).empty());
  const PhysRange all{GuestPhys{0}, 0x10000};
  EXPECT_TRUE(r.before(all).empty());
  EXPECT_TRUE(r.after(all).empty());
}

}  // namespace
}  // namespace mb
