// Step 5, plan(), rule by rule: one table row per placement rule of Linux's
// arm64 booting.rst (boot_protocol.h) and per choice the planner makes. Each
// row is a ledger as step 2 leaves it (RAM banks, the payload claimed), a
// payload as step 4 identifies it, and what the plan must be -- or the check
// that must refuse it. After every accepted plan, the ledger must own exactly
// what the plan says.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "magicboot/loader/boot_protocol.h"
#include "steps.h"

namespace mb::loader {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kAlign = boot_protocol::kKernelAlign;
constexpr uint64_t kNone = ~0ull;  // "no expectation" for an address

struct Case {
  const char* name;
  std::vector<PhysRange> ram;
  PhysRange payload;            // what step 2 claimed
  uint64_t kernel_at;           // the kernel's bytes in the payload
  uint64_t kernel_size;
  Compression compression = Compression::kNone;
  uint64_t text_offset = 0;
  uint64_t image_size = 0;
  bool anywhere = false;
  PhysRange ramdisk{};          // empty: none
  size_t dt_capacity = 64 * 1024;
  // Expected: either `refused` names the check, or the placement.
  const char* refused = nullptr;
  bool in_place = false;
  uint64_t kernel_entry = kNone;  // kNone: any base the rules allow
  uint64_t dtb = kNone;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

PhysRange R(uint64_t base, uint64_t size) { return PhysRange{GuestPhys{base}, size}; }

const std::vector<PhysRange> kOneBank = {R(0x40000000, 128 * kMiB)};
const std::vector<PhysRange> kTwoBanks = {R(0x40000000, 64 * kMiB), R(0x200000000, 256 * kMiB)};

const Case kCases[] = {
    {.name = "RawImageAtABlockStartRunsInPlace",
     .ram = kOneBank, .payload = R(0x44000000, 30 * kMiB), .kernel_at = 0x44000000, .kernel_size = 20 * kMiB,
     .image_size = 24 * kMiB, .in_place = true, .kernel_entry = 0x44000000,
     // The DTB takes the highest free 2 MiB block of the top bank.
     .dtb = 0x40000000 + 128 * kMiB - 2 * kMiB},
    {.name = "RawImageAtBlockPlusTextOffsetRunsInPlace",
     .ram = kOneBank, .payload = R(0x44000000, 30 * kMiB), .kernel_at = 0x44080000, .kernel_size = 20 * kMiB,
     .text_offset = 0x80000, .image_size = 24 * kMiB, .in_place = true, .kernel_entry = 0x44080000},
    {.name = "RawImageOffTheTwoMiBGridIsCopiedToIt",
     .ram = kOneBank, .payload = R(0x44001000, 30 * kMiB), .kernel_at = 0x44001000, .kernel_size = 20 * kMiB,
     .image_size = 24 * kMiB, .in_place = false},
    {.name = "TextOffsetIsKeptWhenCopied",
     .ram = kOneBank, .payload = R(0x44001000, 30 * kMiB), .kernel_at = 0x44001000, .kernel_size = 20 * kMiB,
     .text_offset = 0x80000, .image_size = 24 * kMiB, .in_place = false},
    {.name = "GzipIsNeverInPlace",
     .ram = kOneBank, .payload = R(0x44000000, 10 * kMiB), .kernel_at = 0x44000000, .kernel_size = 9 * kMiB,
     .compression = Compression::kGzip, .image_size = 24 * kMiB, .in_place = false},
    {.name = "ImageSizePastTheBankIsCopied",
     .ram = kOneBank, .payload = R(0x47000000, 14 * kMiB), .kernel_at = 0x47000000, .kernel_size = 14 * kMiB,
     .image_size = 24 * kMiB, .in_place = false},
    {.name = "InPlaceKernelOverTheRamdiskIsCopied",
     .ram = kOneBank, .payload = R(0x44000000, 40 * kMiB), .kernel_at = 0x44000000, .kernel_size = 10 * kMiB,
     .image_size = 24 * kMiB, .ramdisk = R(0x44000000 + 12 * kMiB, 8 * kMiB), .in_place = false},
    {.name = "TheRamdiskStaysWhereItLies",
     .ram = kOneBank, .payload = R(0x44000000, 40 * kMiB), .kernel_at = 0x44000000, .kernel_size = 10 * kMiB,
     .image_size = 12 * kMiB, .ramdisk = R(0x44000000 + 30 * kMiB, 8 * kMiB), .in_place = true,
     .kernel_entry = 0x44000000},
    {.name = "WithoutTheAnywhereFlagTheKernelStaysInTheLowestBank",
     .ram = kTwoBanks, .payload = R(0x200000000, 30 * kMiB), .kernel_at = 0x200000000, .kernel_size = 20 * kMiB,
     .image_size = 24 * kMiB, .in_place = false},
    {.name = "WithTheAnywhereFlagAHighBankKernelRunsInPlace",
     .ram = kTwoBanks, .payload = R(0x200000000, 30 * kMiB), .kernel_at = 0x200000000, .kernel_size = 20 * kMiB,
     .image_size = 24 * kMiB, .anywhere = true, .in_place = true, .kernel_entry = 0x200000000,
     .dtb = 0x200000000 + 256 * kMiB - 2 * kMiB},
    {.name = "ALowestBankTooSmallIsRefusedWithoutTheAnywhereFlag",
     .ram = {R(0x40000000, 16 * kMiB), R(0x200000000, 256 * kMiB)}, .payload = R(0x200000000, 30 * kMiB),
     .kernel_at = 0x200001000, .kernel_size = 20 * kMiB, .image_size = 24 * kMiB, .refused = "ledger-allocate"},
    {.name = "ALowestBankTooSmallIsFineWithTheAnywhereFlag",
     .ram = {R(0x40000000, 16 * kMiB), R(0x200000000, 256 * kMiB)}, .payload = R(0x200000000, 30 * kMiB),
     .kernel_at = 0x200001000, .kernel_size = 20 * kMiB, .image_size = 24 * kMiB, .anywhere = true,
     .in_place = false},
    {.name = "AKernelDtOverTwoMiBIsRefused",
     .ram = kOneBank, .payload = R(0x44000000, 30 * kMiB), .kernel_at = 0x44000000, .kernel_size = 20 * kMiB,
     .image_size = 24 * kMiB, .dt_capacity = boot_protocol::kDtbMaxSize + 1, .refused = "dtb-size"},
    {.name = "NoRoomForTheKernelIsRefused",
     .ram = {R(0x40000000, 32 * kMiB)}, .payload = R(0x40001000, 30 * kMiB), .kernel_at = 0x40001000,
     .kernel_size = 20 * kMiB, .image_size = 24 * kMiB, .refused = "ledger-allocate"},
};

class PlanRule : public testing::TestWithParam<Case> {};

TEST_P(PlanRule, Holds) {
  const Case& c = GetParam();
  MemoryLedger ledger;
  for (const PhysRange& bank : c.ram) ASSERT_TRUE(ledger.add_ram(bank).ok());
  ASSERT_TRUE(ledger.claim(c.payload, RangeType::kPayload).ok());

  steps::Identified id{};
  id.range = c.payload;
  id.payload.kind = c.compression == Compression::kGzip ? PayloadKind::kGzipImage : PayloadKind::kImage;
  id.payload.kernel = Blob{GuestPhys{c.kernel_at}, c.kernel_size, nullptr};
  id.payload.kernel_compression = c.compression;
  id.payload.ramdisk = Blob{c.ramdisk.base, c.ramdisk.size, nullptr};
  id.image.text_offset = c.text_offset;
  id.image.image_size = c.image_size;
  id.image.anywhere = c.anywhere;
  id.kernel_size = c.kernel_size;

  auto plan = steps::plan(id, c.ram, c.dt_capacity, ledger);
  if (c.refused != nullptr) {
    ASSERT_FALSE(plan.ok()) << "planned kernel at " << std::hex << plan->kernel.base.value;
    EXPECT_STREQ(plan.error().check, c.refused) << plan.error().detail;
    return;
  }
  ASSERT_TRUE(plan.ok()) << plan.error().check << ": " << plan.error().detail;
  const steps::Plan& p = *plan;

  // booting.rst: base = entry - text_offset, 2 MiB-aligned; image_size free
  // from the entry; below 2^48; in the lowest bank unless "anywhere".
  EXPECT_EQ(p.kernel_in_place, c.in_place);
  EXPECT_EQ(p.kernel.size, c.image_size);
  EXPECT_EQ((p.kernel.base.value - c.text_offset) % kAlign, 0u) << std::hex << p.kernel.base.value;
  if (c.kernel_entry != kNone) { EXPECT_EQ(p.kernel.base.value, c.kernel_entry); }
  EXPECT_TRUE(boot_protocol::in_one_bank(c.ram, p.kernel));
  if (!c.anywhere) { EXPECT_TRUE(c.ram.front().contains(p.kernel)) << "left the lowest bank"; }
  EXPECT_EQ(p.initrd, c.ramdisk);
  EXPECT_FALSE(p.kernel.overlaps(p.initrd));

  // The DTB: 8-byte aligned, its capacity reserved, alone in a 2 MiB block
  // when one is free, in RAM, overlapping neither kernel nor initrd.
  EXPECT_EQ(p.dtb.size, c.dt_capacity);
  EXPECT_TRUE(p.dtb.base.is_aligned(boot_protocol::kDtbBlock)) << std::hex << p.dtb.base.value;
  if (c.dtb != kNone) { EXPECT_EQ(p.dtb.base.value, c.dtb); }
  EXPECT_TRUE(boot_protocol::in_one_bank(c.ram, p.dtb));
  EXPECT_FALSE(p.dtb.overlaps(p.kernel) || p.dtb.overlaps(p.initrd));

  // The ledger owns what the plan says: the kernel, the DTB's block, the
  // ramdisk; the kernel's source stays claimed until loaded, and nothing
  // else of the payload is.
  auto owner = [&](PhysRange r) -> RangeType {
    const LedgerRange* at = ledger.find(r.base);
    return at != nullptr && at->range.contains(r) ? at->type : RangeType::kFreeRam;
  };
  EXPECT_EQ(owner(p.kernel), RangeType::kKernel);
  EXPECT_EQ(owner(p.dtb), RangeType::kOutgoingDt);
  if (!c.ramdisk.empty()) { EXPECT_EQ(owner(c.ramdisk), RangeType::kInitrd); }
  const PhysRange source{GuestPhys{c.kernel_at}, c.kernel_size};
  EXPECT_EQ(owner(source), c.in_place ? RangeType::kKernel : RangeType::kPayload);
  EXPECT_EQ(ledger.total(RangeType::kPayload), c.in_place ? 0 : c.kernel_size);
}

INSTANTIATE_TEST_SUITE_P(BootingRst, PlanRule, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// When no 2 MiB block is free, the DTB takes whole pages at the top instead.
TEST(PlanDtb, FallsBackToPagesWithoutAFreeBlock) {
  MemoryLedger ledger;
  const PhysRange bank = R(0x40000000, 32 * kMiB);
  ASSERT_TRUE(ledger.add_ram(bank).ok());
  // Above the kernel, every 2 MiB block has its first page reserved.
  for (uint64_t b = 0x40000000 + 24 * kMiB; b < bank.end().value; b += 2 * kMiB)
    ASSERT_TRUE(ledger.claim(R(b, 0x1000), RangeType::kReserved).ok());
  ASSERT_TRUE(ledger.claim(R(0x40000000, 24 * kMiB), RangeType::kPayload).ok());
  steps::Identified id{};
  id.range = R(0x40000000, 24 * kMiB);
  id.payload.kind = PayloadKind::kImage;
  id.payload.kernel = Blob{GuestPhys{0x40000000}, 20 * kMiB, nullptr};
  id.payload.kernel_compression = Compression::kNone;
  id.image.image_size = 24 * kMiB;
  id.kernel_size = 20 * kMiB;
  const std::vector<PhysRange> ram = {bank};
  auto plan = steps::plan(id, ram, 0x3000, ledger);
  ASSERT_TRUE(plan.ok()) << plan.error().detail;
  EXPECT_TRUE(plan->kernel_in_place);
  EXPECT_TRUE(plan->dtb.base.is_aligned(0x1000));
  EXPECT_FALSE(plan->dtb.base.is_aligned(boot_protocol::kDtbBlock));
  EXPECT_EQ(plan->dtb.end().value, bank.end().value) << "the highest pages";
}

}  // namespace
}  // namespace mb::loader
