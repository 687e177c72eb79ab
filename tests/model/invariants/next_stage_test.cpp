// The Linux-like next stage hits the bugs the way Linux would.
#include "strategy_env.h"

namespace mb::model::testing {
namespace {

namespace st = strategies;

const DomainConfig k1GiB = domain(DomainKind::kDom0less, kGiB);
constexpr uint64_t kLastRamPage = (0x40000000 + kGiB) / 4096 - 1;
constexpr uint64_t kSpare = (0x40000000 + 24 * kMiB) / 4096;

TEST(NextStage, UbootLegacyIsABugAndCorruption) {
  Ran r = run(st::uboot_legacy, k1GiB);
  NextStageResult n = run_next_stage(*r.model, r.view);
  EXPECT_FALSE(n.xen_guest_init_ok);
  EXPECT_NE(n.bug.find("add_to_physmap(shared_info"), std::string::npos) << n.bug;
  EXPECT_NE(n.bug.find("EBUSY"), std::string::npos) << n.bug;
  // Xen's tick rewrote the page Linux had filled: the corruption is at the GFN.
  const Finding* f = at(n.corruption, "corruption", kLastRamPage);
  ASSERT_NE(f, nullptr) << dump(n.corruption);
  EXPECT_EQ(f->owner_b, "xen (shared_info)");
  EXPECT_EQ(f->count, 1u);
  EXPECT_FALSE(n.clean());
}

TEST(NextStage, RemoveIntoHoleCrashesOnTouch) {
  Ran r = run(st::remove_into_hole, k1GiB);
  NextStageResult n = run_next_stage(*r.model, r.view);
  EXPECT_TRUE(n.xen_guest_init_ok) << n.bug;
  ASSERT_EQ(n.faults.size(), 1u) << dump(n.faults);
  EXPECT_EQ(n.faults[0].invariant, "no-ram-hole");
  EXPECT_EQ(n.faults[0].first, Gfn{kLastRamPage});
  EXPECT_TRUE(n.corruption.empty()) << dump(n.corruption);
}

TEST(NextStage, RemoveAndRefillOnDom0lessCrashesOnTouch) {
  Ran r = run(st::remove_and_refill, k1GiB);
  NextStageResult n = run_next_stage(*r.model, r.view);
  ASSERT_EQ(n.faults.size(), 1u) << dump(n.faults);
  EXPECT_EQ(n.faults[0].first, Gfn{kLastRamPage});
}

TEST(NextStage, VcpuInfoInRamIsABugAndCorruption) {
  Ran r = run(st::vcpu_info_in_ram, k1GiB);
  NextStageResult n = run_next_stage(*r.model, r.view);
  EXPECT_NE(n.bug.find("register_vcpu_info"), std::string::npos) << n.bug;
  const Finding* f = at(n.corruption, "corruption", kSpare);
  ASSERT_NE(f, nullptr) << dump(n.corruption);
  EXPECT_EQ(f->owner_b, "xen (vcpu_info of vcpu 0)");
}

TEST(NextStage, HoldLeftMakesLinuxCollide) {
  Ran r = run(st::hold_left, k1GiB);
  NextStageResult n = run_next_stage(*r.model, r.view);
  ASSERT_FALSE(n.faults.empty());
  EXPECT_EQ(n.faults[0].invariant, "exclusive-access");
  EXPECT_EQ(n.faults[0].first, Gfn{kSpare});
  EXPECT_EQ(n.faults[0].count, 16u);
  // The collision is on record for the validator too: two accessors, one range.
  auto f = check_exclusive_access(*r.model, r.view);
  bool linux_collided = false;
  for (const Finding& x : f) linux_collided |= x.owner_a == "linux" && x.first == Gfn{kSpare};
  EXPECT_TRUE(linux_collided) << dump(f);
}

TEST(NextStage, HeapAsFreeRamIsABugAndCorruptionInTheHeap) {
  Ran r = run(st::heap_as_free_ram, k1GiB);
  NextStageResult n = run_next_stage(*r.model, r.view);
  EXPECT_NE(n.bug.find("EBUSY"), std::string::npos) << n.bug;
  const Finding* f = at(n.corruption, "corruption", 0x40110);  // the heap's first page
  ASSERT_NE(f, nullptr) << dump(n.corruption);
  EXPECT_EQ(f->owner_b, "xen (shared_info)");
}

TEST(NextStage, WritesEveryFreePageOnceAndOnlyThose) {
  // 64 MiB: 16384 pages - 384 reserved - 3088 payload - shared_info - vcpu_info.
  Ran r = run(strategies::correct, domain(DomainKind::kDom0less, 64 * kMiB));
  NextStageResult n = run_next_stage(*r.model, r.view);
  EXPECT_EQ(n.pages_written, 16384u - 384 - 3088 - 2);
  // The kernel Linux runs from was not overwritten by its own page fill.
  uint32_t magic = 0;
  ASSERT_TRUE(r.model->memory("check").read(r.view.kernel.base + 0x38, &magic, sizeof magic).ok());
  EXPECT_EQ(magic, 0x644d5241u);
}

}  // namespace
}  // namespace mb::model::testing
