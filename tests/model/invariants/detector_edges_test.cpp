// Detector branches no strategy exercises: views that lie about RAM or
// break the arm64 boot protocol in other ways. Each starts from the correct
// strategy's state, so any finding is caused by the one change made.
#include "strategy_env.h"

namespace mb::model::testing {
namespace {

const DomainConfig k1GiB = domain(DomainKind::kDom0less, kGiB);

TEST(DetectorEdges, ToldMoreRamThanTheDomainHas) {
  Ran r = run(strategies::correct, k1GiB);
  r.view.ram.bank[0].size = 2 * kGiB;
  auto f = check_no_ram_hole(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{0x80000});
  EXPECT_EQ(f[0].count, 0x40000u);
  EXPECT_EQ(f[0].owner_b, "nothing (unmapped)");
}

TEST(DetectorEdges, KernelNotAtTwoMiBPlusTextOffset) {
  Ran r = run(strategies::correct, k1GiB);
  r.view.kernel.base = r.view.kernel.base + 0x1000;
  r.view.kernel_entry = r.view.kernel.base;
  auto f = check_addressable_layout(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{0x40201});
  // The same address is right for an image whose text_offset is 0x1000.
  r.view.kernel_text_offset = 0x1000;
  EXPECT_TRUE(check_addressable_layout(*r.model, r.view).empty());
}

TEST(DetectorEdges, DtbMisalignedAndOverlappingTheInitrd) {
  Ran r = run(strategies::correct, k1GiB);
  r.view.dtb = PhysRange{r.view.initrd.base + 4, 0x1000};
  auto f = check_addressable_layout(*r.model, r.view);
  ASSERT_EQ(f.size(), 2u) << dump(f);
  EXPECT_NE(f[0].explanation.find("8-byte"), std::string::npos);
  EXPECT_NE(f[1].explanation.find("overlap"), std::string::npos);
  EXPECT_EQ(f[1].first, Gfn{0x41000});
}

TEST(DetectorEdges, KernelInReservedMemory) {
  Ran r = run(strategies::correct, k1GiB);
  r.view.reserved.push_back(PhysRange{r.view.kernel.base + 0x100000, 0x1000});
  auto f = check_addressable_layout(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_NE(f[0].explanation.find("reserved"), std::string::npos);
}

TEST(DetectorEdges, ReservedXenPageIsNotFreeRam) {
  // shared_info left on a page the kernel is told is reserved: not in free
  // RAM (no-xen-page-in-ram is quiet) but still mapped (exclusive-access).
  Ran r = run(strategies::uboot_legacy, k1GiB);
  r.view.reserved.push_back(range_of_pages(Gfn{0x7ffff}, 1));
  EXPECT_TRUE(check_no_xen_page_in_ram(*r.model, r.view).empty());
  EXPECT_EQ(check_exclusive_access(*r.model, r.view).size(), 1u);
}

TEST(DetectorEdges, FindingFormat) {
  Finding f{"no-ram-hole", Gfn{0x7ffff}, 2, "linux (RAM)", "nothing (hole)", "why"};
  EXPECT_EQ(to_string(f), "no-ram-hole: GFN 0x7ffff(+2) linux (RAM) vs nothing (hole): why");
}

}  // namespace
}  // namespace mb::model::testing
