#include "magicboot/xen_stubs/page_set.h"

#include <gtest/gtest.h>

namespace mb::model {
namespace {

TEST(PageSet, RamIsInnerPagesReservationsAreOuterPages) {
  PageSet s = PageSet::inner_pages(PhysRange{GuestPhys{0x1800}, 0x3000});  // 0x1800..0x4800
  ASSERT_EQ(s.runs().size(), 1u);
  EXPECT_EQ(s.runs()[0], (GfnRun{Gfn{2}, 2}));
  s.remove_touched(PhysRange{GuestPhys{0x2fff}, 2});  // touches pages 2 and 3
  EXPECT_TRUE(s.empty());
}

TEST(PageSet, AddMergesAndRemoveSplits) {
  PageSet s;
  s.add(GfnRun{Gfn{10}, 5});
  s.add(GfnRun{Gfn{0}, 3});
  s.add(GfnRun{Gfn{3}, 7});  // bridges both
  ASSERT_EQ(s.runs().size(), 1u);
  EXPECT_EQ(s.runs()[0], (GfnRun{Gfn{0}, 15}));
  s.remove(GfnRun{Gfn{5}, 2});
  ASSERT_EQ(s.runs().size(), 2u);
  EXPECT_EQ(s.runs()[1], (GfnRun{Gfn{7}, 8}));
  EXPECT_TRUE(s.contains(Gfn{4}));
  EXPECT_FALSE(s.contains(Gfn{5}));
  EXPECT_FALSE(s.contains(Gfn{15}));
  EXPECT_EQ(s.pages(), 13u);
  PageSet i = s.intersect(GfnRun{Gfn{3}, 6});
  EXPECT_EQ(i.pages(), 4u);  // 3,4 and 7,8
}

}  // namespace
}  // namespace mb::model
