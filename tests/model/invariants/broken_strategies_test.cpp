// Each broken strategy is caught by the invariant it breaks, at the GFN the
// bug is at. The expected GFNs are written out from the guest layout
// (RAM0 at 0x40000000, a 1 GiB dom0less guest), not from the strategy code.
#include <set>

#include "strategy_env.h"

namespace mb::model::testing {
namespace {

namespace st = strategies;

const DomainConfig k1GiB = domain(DomainKind::kDom0less, kGiB);
constexpr uint64_t kLastRamPage = (0x40000000 + kGiB) / 4096 - 1;  // 0x7ffff
constexpr uint64_t kSpare = (0x40000000 + 24 * kMiB) / 4096;       // 0x41800

TEST(BrokenStrategy, UbootLegacyLeavesSharedInfoInRam) {
  Ran r = run(st::uboot_legacy, k1GiB);
  auto f = check_no_xen_page_in_ram(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{kLastRamPage});
  EXPECT_EQ(f[0].count, 1u);
  EXPECT_EQ(f[0].owner_a, "linux (free RAM)");
  EXPECT_EQ(f[0].owner_b, "xen (shared_info)");
  // Linux's own mapping will collide with the one left behind.
  EXPECT_NE(at(check_exclusive_access(*r.model, r.view), "exclusive-access", kLastRamPage), nullptr);
}

TEST(BrokenStrategy, RemoveIntoHoleLeavesAHole) {
  Ran r = run(st::remove_into_hole, k1GiB);
  auto f = check_no_ram_hole(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{kLastRamPage});
  EXPECT_EQ(f[0].owner_b, "nothing (hole)");
  EXPECT_TRUE(check_no_xen_page_in_ram(*r.model, r.view).empty());
}

TEST(BrokenStrategy, RemoveAndRefillOnDom0lessStillLeavesAHole) {
  Ran r = run(st::remove_and_refill, k1GiB);
  auto f = check_no_ram_hole(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{kLastRamPage});
}

TEST(BrokenStrategy, RemoveAndRefillWorksWhereXlLeavesHeadroom) {
  // The same strategy is fine on an xl domain: the model's max_pages differs,
  // which is exactly why U-Boot's refill is not a fix on dom0less.
  Ran r = run(st::remove_and_refill, domain(DomainKind::kXl, kGiB));
  EXPECT_TRUE(check_no_ram_hole(*r.model, r.view).empty()) << dump(check_no_ram_hole(*r.model, r.view));
}

TEST(BrokenStrategy, VcpuInfoInRam) {
  Ran r = run(st::vcpu_info_in_ram, k1GiB);
  auto f = check_no_xen_page_in_ram(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{kSpare});
  EXPECT_EQ(f[0].owner_b, "xen (vcpu_info of vcpu 0)");
  EXPECT_NE(at(check_exclusive_access(*r.model, r.view), "exclusive-access", kSpare), nullptr);
}

TEST(BrokenStrategy, HeapHandedOverAsFreeRam) {
  Ran r = run(st::heap_as_free_ram, k1GiB);
  auto f = check_image_outside_free_ram(*r.model, r.view);
  ASSERT_EQ(f.size(), 3u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{0x40080});  // image: 0x40080000, 512 KiB
  EXPECT_EQ(f[0].count, 0x80u);
  EXPECT_EQ(f[0].owner_b, "loader (image)");
  EXPECT_EQ(f[2].first, Gfn{0x40110});  // heap: 0x40110000, 960 KiB
  EXPECT_EQ(f[2].count, 0xf0u);
  EXPECT_EQ(f[2].owner_b, "loader (heap)");
  // ... while Xen writes into the heap.
  auto x = check_no_xen_page_in_ram(*r.model, r.view);
  ASSERT_EQ(x.size(), 1u) << dump(x);
  EXPECT_EQ(x[0].first, Gfn{0x40110});
}

TEST(BrokenStrategy, ReadOnlyPageWrittenThroughAlias) {
  Ran r = run(st::ro_written_through_alias, k1GiB);
  auto f = check_ro_stays_ro(*r.model, r.view);
  ASSERT_EQ(f.size(), 2u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{0x39010});  // GUEST_MAGIC + 16: the zero page no longer reads zero
  EXPECT_EQ(f[0].owner_a, "read-only page (zero page)");
  EXPECT_EQ(f[1].first, Gfn{0x39011});  // GUEST_MAGIC + 17: the writable alias
  EXPECT_EQ(f[1].owner_a, "writable alias");
}

TEST(BrokenStrategy, KernelAbove48Bit) {
  Ran r = run(st::kernel_above_48bit, k1GiB);
  auto f = check_addressable_layout(*r.model, r.view);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].first, Gfn{uint64_t{1} << 36});  // 2^48 / 4 KiB
  EXPECT_NE(f[0].explanation.find("2^48"), std::string::npos) << dump(f);
}

TEST(BrokenStrategy, DtbOver2MiB) {
  Ran r = run(st::dtb_over_2mib, k1GiB);
  auto f = check_addressable_layout(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{0x47c00});  // 2 MiB below the usual 0x47e00000
  EXPECT_EQ(f[0].count, 513u);
  EXPECT_NE(f[0].explanation.find("2 MiB"), std::string::npos);
}

TEST(BrokenStrategy, HoldLeftAtTheJump) {
  Ran r = run(st::hold_left, k1GiB);
  auto f = check_exclusive_access(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{kSpare});
  EXPECT_EQ(f[0].count, 16u);
  EXPECT_EQ(f[0].owner_a, "loader-dma (hold)");
}

TEST(BrokenStrategy, PartialGrantMapNotRolledBack) {
  Ran r = run(st::partial_grant_map, k1GiB);
  auto f = check_exclusive_access(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{0x38000});  // GUEST_GNTTAB_BASE
  EXPECT_EQ(f[0].count, 4u);
  EXPECT_EQ(f[0].owner_b, "xen (grant frame)");
}

TEST(BrokenStrategy, GrantFrameLeftOnRam) {
  Ran r = run(st::grant_frame_left_on_ram, k1GiB);
  auto f = check_no_foreign_access(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].first, Gfn{kSpare});
  EXPECT_EQ(f[0].owner_b, "xen (grant frame)");
}

// The PV disk's broken strategies, on an xl domain with a disk.
DomainConfig xl_disk() {
  DomainConfig c = domain(DomainKind::kXl, 256 * kMiB);
  DiskConfig d;
  d.image.assign(2 * kMiB, 0x5a);
  c.disk = d;
  return c;
}

TEST(BrokenStrategy, DiskLeftConnectedIsCaughtAtTheRingAndEveryGrant) {
  Ran r = run(st::disk_left_connected, xl_disk());
  auto f = check_no_foreign_access(*r.model, r.view);
  const auto ring = r.model->backend_ring_gfn();
  ASSERT_TRUE(ring.has_value());
  const Finding* at_ring = nullptr;
  unsigned grants = 0, ports = 0;
  for (const Finding& x : f) {
    if (x.owner_b == "dom0 blkback (ring)") at_ring = &x;
    grants += x.owner_b.rfind("domain 0 (grant", 0) == 0;
    ports += x.owner_b.rfind("port ", 0) == 0;
  }
  ASSERT_NE(at_ring, nullptr) << dump(f);
  EXPECT_EQ(at_ring->first, *ring);
  // blkback offers neither a multi-page ring nor indirect requests here:
  // blkfront's defaults fill the one-page ring, 32 requests of 11 pages.
  EXPECT_EQ(grants, 1u + 32u * 11u) << "the ring's grant and every data page's";
  EXPECT_EQ(ports, 1u);
  // And the next stage sees what it costs: blkback writes into Linux's pages.
  NextStageResult next = run_next_stage(*r.model, r.view);
  ASSERT_FALSE(next.corruption.empty());
  bool by_blkback = false;
  for (const Finding& x : next.corruption) by_blkback |= x.owner_b.rfind("dom0 blkback", 0) == 0;
  EXPECT_TRUE(by_blkback) << dump(next.corruption);
}

TEST(BrokenStrategy, DiskClosedWithoutWaitingLeavesTheBackendConnected) {
  Ran r = run(st::disk_closed_without_waiting, xl_disk());
  auto f = check_no_foreign_access(*r.model, r.view);
  ASSERT_EQ(f.size(), 1u) << dump(f);
  EXPECT_EQ(f[0].owner_b, "dom0 blkback (ring)");
  EXPECT_EQ(f[0].first, *r.model->backend_ring_gfn());
  EXPECT_FALSE(run_next_stage(*r.model, r.view).corruption.empty());
}

TEST(BrokenStrategy, EveryInvariantCatchesAtLeastItsStrategy) {
  std::set<std::string> caught;
  for (const st::Strategy& s : st::kStrategies) {
    if (std::string(s.catches).empty()) continue;
    Ran r = run(s.run, k1GiB);
    auto all = validate(*r.model, r.view);
    EXPECT_FALSE(findings_of(all, s.catches).empty()) << s.name << " not caught by " << s.catches << "\n"
                                                       << dump(all);
    if (!findings_of(all, s.catches).empty()) caught.insert(s.catches);
  }
  for (const char* inv : kInvariants) EXPECT_TRUE(caught.count(inv)) << inv << " catches nothing";
}

}  // namespace
}  // namespace mb::model::testing
