#include <gtest/gtest.h>

#include <string>

#include "magicboot/loader/ledger.h"

namespace mb::loader {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

PhysRange R(uint64_t base, uint64_t size) { return PhysRange{GuestPhys{base}, size}; }

std::string text(const MemoryLedger& l) {
  char buf[4096];
  const size_t n = l.format(buf, sizeof buf);
  EXPECT_LT(n, sizeof buf);
  return std::string(buf);
}

template <class T>
std::string detail(const Res<T>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : std::string(r.error().detail);
}

// A guest like Xen builds one: 128 MiB at 0x40000000, plus the magic and
// grant table regions below it.
MemoryLedger small_guest() {
  MemoryLedger l;
  EXPECT_TRUE(l.add_ram(R(0x40000000, 128 * kMiB)).ok());
  EXPECT_TRUE(l.add_outside_ram(R(0x38000000, 16 * kMiB), RangeType::kGrantTable).ok());
  EXPECT_TRUE(l.add_outside_ram(R(0x39000000, 16 * kMiB), RangeType::kMagic).ok());
  return l;
}

TEST(LedgerTest, ToStringNamesEveryType) {
  for (size_t i = 0; i < kRangeTypeCount; ++i)
    EXPECT_STRNE(to_string(static_cast<RangeType>(i)), "unknown range type") << i;
  EXPECT_STREQ(to_string(RangeType::kLoaderImage), "loader image");
  EXPECT_STREQ(to_string(RangeType::kGrantTable), "grant table");
}

TEST(LedgerTest, FormatsWholeLedger) {
  MemoryLedger l = small_guest();
  ASSERT_TRUE(l.claim(R(0x40000000, 2 * kMiB), RangeType::kLoaderImage).ok());
  ASSERT_TRUE(l.claim(R(0x40200000, 64 * 1024), RangeType::kLoaderStack).ok());
  ASSERT_TRUE(l.claim(R(0x47e00000, 0x1234), RangeType::kIncomingDt).ok());
  ASSERT_TRUE(l.add_ram(R(0x200000000, 3 * kGiB)).ok());
  EXPECT_EQ(text(l),
            "  [0x0000000038000000, 0x0000000039000000) 16 MiB    grant table\n"
            "  [0x0000000039000000, 0x000000003a000000) 16 MiB    magic\n"
            "  [0x0000000040000000, 0x0000000040200000) 2 MiB     loader image\n"
            "  [0x0000000040200000, 0x0000000040210000) 64 KiB    loader stack\n"
            "  [0x0000000040210000, 0x0000000047e00000) 123.9 MiB free RAM\n"    // 126912 KiB
            "  [0x0000000047e00000, 0x0000000047e01234) 4.6 KiB   incoming DT\n"  // 4660 B
            "  [0x0000000047e01234, 0x0000000048000000) 2.0 MiB   free RAM\n"    // 2092492 B: near, not exactly
            "  [0x0000000200000000, 0x00000002c0000000) 3 GiB     free RAM\n");
}

TEST(LedgerTest, FormatTruncatesAndReportsNeededLength) {
  MemoryLedger l = small_guest();
  const std::string whole = text(l);
  char small[20];
  EXPECT_EQ(l.format(small, sizeof small), whole.size());
  EXPECT_EQ(std::string(small), whole.substr(0, sizeof small - 1));
  EXPECT_EQ(l.format(nullptr, 0), whole.size());
}

TEST(LedgerTest, FormatMarksReservedOutsideRam) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_outside_ram(R(0x10000000, kMiB), RangeType::kReserved).ok());
  ASSERT_TRUE(l.add_ram(R(0x40000000, kMiB)).ok());
  ASSERT_TRUE(l.claim(R(0x40000000, 0x1000), RangeType::kReserved).ok());
  EXPECT_EQ(text(l),
            "  [0x0000000010000000, 0x0000000010100000) 1 MiB     reserved (not RAM)\n"
            "  [0x0000000040000000, 0x0000000040001000) 4 KiB     reserved\n"
            "  [0x0000000040001000, 0x0000000040100000) 1020 KiB  free RAM\n");
}

TEST(LedgerTest, AdjacentBanksMerge) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_ram(R(0x40000000, kMiB)).ok());
  ASSERT_TRUE(l.add_ram(R(0x40000000 - kMiB, kMiB)).ok());
  ASSERT_TRUE(l.add_ram(R(0x40000000 + kMiB, kMiB)).ok());
  ASSERT_EQ(l.ranges().size(), 1u);
  EXPECT_EQ(l.ranges()[0].range, R(0x40000000 - kMiB, 3 * kMiB));
}

TEST(LedgerTest, AddRamOverlapNamesBothRanges) {
  MemoryLedger l = small_guest();
  auto r = l.add_ram(R(0x47000000, 32 * kMiB));
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
  EXPECT_STREQ(r.error().check, "ledger-add-ram");
  EXPECT_EQ(detail(r), "RAM bank [0x47000000, 0x49000000) overlaps free RAM [0x40000000, 0x48000000)");
  auto m = l.add_ram(R(0x39fff000, 0x2000));
  EXPECT_EQ(detail(m), "RAM bank [0x39fff000, 0x3a001000) overlaps magic [0x39000000, 0x3a000000)");
}

TEST(LedgerTest, AddRamRejectsEmptyAndWrapping) {
  MemoryLedger l;
  EXPECT_EQ(l.add_ram(R(0x1000, 0)).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.add_ram(R(~uint64_t{0} - 0xfff, 0x1000)).error().code, ErrorCode::kBadInput);
  EXPECT_TRUE(l.ranges().empty());
}

TEST(LedgerTest, AddOutsideRamErrors) {
  MemoryLedger l = small_guest();
  auto over_ram = l.add_outside_ram(R(0x3ffff000, 0x2000), RangeType::kReserved);
  EXPECT_EQ(over_ram.error().code, ErrorCode::kOverlap);
  EXPECT_EQ(detail(over_ram), "reserved [0x3ffff000, 0x40001000) overlaps free RAM [0x40000000, 0x48000000)");
  auto over_magic = l.add_outside_ram(R(0x38fff000, 0x1000 * 2), RangeType::kMagic);
  EXPECT_EQ(detail(over_magic), "magic [0x38fff000, 0x39001000) overlaps grant table [0x38000000, 0x39000000)");
  auto wrong_type = l.add_outside_ram(R(0x10000000, 0x1000), RangeType::kKernel);
  EXPECT_EQ(wrong_type.error().code, ErrorCode::kBadInput);
  EXPECT_EQ(detail(wrong_type), "kernel [0x10000000, 0x10001000) cannot lie outside RAM");
  EXPECT_EQ(l.add_outside_ram(R(0x10000000, 0), RangeType::kMagic).error().code, ErrorCode::kBadInput);
}

TEST(LedgerTest, ClaimSplitsFreeRam) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_ram(R(0x40000000, 16 * kMiB)).ok());
  ASSERT_TRUE(l.claim(R(0x40400000, 2 * kMiB), RangeType::kKernel).ok());
  ASSERT_EQ(l.ranges().size(), 3u);
  EXPECT_EQ(l.ranges()[0], (LedgerRange{R(0x40000000, 4 * kMiB), RangeType::kFreeRam, true}));
  EXPECT_EQ(l.ranges()[1], (LedgerRange{R(0x40400000, 2 * kMiB), RangeType::kKernel, true}));
  EXPECT_EQ(l.ranges()[2], (LedgerRange{R(0x40600000, 10 * kMiB), RangeType::kFreeRam, true}));
  // An adjacent claim of the same type merges with it.
  ASSERT_TRUE(l.claim(R(0x40600000, kMiB), RangeType::kKernel).ok());
  EXPECT_EQ(l.ranges()[1].range, R(0x40400000, 3 * kMiB));
  EXPECT_EQ(l.total(RangeType::kKernel), 3 * kMiB);
  EXPECT_EQ(l.total(RangeType::kFreeRam), 13 * kMiB);
}

TEST(LedgerTest, ClaimOverOwnerNamesIt) {
  MemoryLedger l = small_guest();
  ASSERT_TRUE(l.claim(R(0x40000000, 2 * kMiB), RangeType::kLoaderImage).ok());
  auto r = l.claim(R(0x401ff000, 0x2000), RangeType::kPayload);
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
  EXPECT_STREQ(r.error().check, "ledger-claim");
  EXPECT_EQ(detail(r), "payload [0x401ff000, 0x40201000) overlaps loader image [0x40000000, 0x40200000)");
}

TEST(LedgerTest, ClaimNamesFirstConflictInAddressOrder) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_ram(R(0x40000000, 16 * kMiB)).ok());
  ASSERT_TRUE(l.claim(R(0x40800000, kMiB), RangeType::kKernel).ok());
  ASSERT_TRUE(l.claim(R(0x40400000, kMiB), RangeType::kInitrd).ok());
  auto r = l.claim(R(0x40000000, 16 * kMiB), RangeType::kPayload);
  EXPECT_EQ(detail(r), "payload [0x40000000, 0x41000000) overlaps initrd [0x40400000, 0x40500000)");
}

TEST(LedgerTest, ClaimOutsideRamIsAnError) {
  MemoryLedger l = small_guest();
  auto magic = l.claim(R(0x39fff000, 0x1000), RangeType::kReserved);
  EXPECT_EQ(detail(magic), "reserved [0x39fff000, 0x3a000000) overlaps magic [0x39000000, 0x3a000000)");
  auto gap = l.claim(R(0x3f000000, 32 * kMiB), RangeType::kPayload);
  EXPECT_EQ(detail(gap), "payload [0x3f000000, 0x41000000) is not RAM at [0x3f000000, 0x40000000)");
  auto past_end = l.claim(R(0x47fff000, 0x2000), RangeType::kPayload);
  EXPECT_EQ(detail(past_end), "payload [0x47fff000, 0x48001000) is not RAM at [0x48000000, 0x48001000)");
  auto nowhere = l.claim(R(0x100000000, 0x1000), RangeType::kPayload);
  EXPECT_EQ(detail(nowhere), "payload [0x100000000, 0x100001000) is not RAM at [0x100000000, 0x100001000)");
}

TEST(LedgerTest, ClaimAcrossTwoBanksNamesTheGap) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_ram(R(0x40000000, kMiB)).ok());
  ASSERT_TRUE(l.add_ram(R(0x40200000, kMiB)).ok());
  auto r = l.claim(R(0x40080000, 2 * kMiB), RangeType::kKernel);
  EXPECT_EQ(detail(r), "kernel [0x40080000, 0x40280000) is not RAM at [0x40100000, 0x40200000)");
}

TEST(LedgerTest, ClaimRejectsBadTypesAndRanges) {
  MemoryLedger l = small_guest();
  EXPECT_EQ(l.claim(R(0x40000000, 0x1000), RangeType::kFreeRam).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.claim(R(0x40000000, 0x1000), RangeType::kMagic).error().code, ErrorCode::kBadInput);
  auto gnttab = l.claim(R(0x40000000, 0x1000), RangeType::kGrantTable);
  EXPECT_EQ(detail(gnttab), "grant table [0x40000000, 0x40001000) cannot be claimed out of RAM");
  EXPECT_EQ(l.claim(R(0x40000000, 0), RangeType::kKernel).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.total(RangeType::kFreeRam), 128 * kMiB);
}

TEST(LedgerTest, ReleaseReturnsRangeToFreeRam) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_ram(R(0x40000000, 16 * kMiB)).ok());
  ASSERT_TRUE(l.claim(R(0x40400000, 4 * kMiB), RangeType::kPayload).ok());
  ASSERT_TRUE(l.release(R(0x40500000, kMiB), RangeType::kPayload).ok());
  ASSERT_EQ(l.ranges().size(), 5u);
  ASSERT_TRUE(l.release(R(0x40400000, kMiB), RangeType::kPayload).ok());
  ASSERT_TRUE(l.release(R(0x40600000, 2 * kMiB), RangeType::kPayload).ok());
  ASSERT_EQ(l.ranges().size(), 1u);
  EXPECT_EQ(l.ranges()[0], (LedgerRange{R(0x40000000, 16 * kMiB), RangeType::kFreeRam, true}));
}

TEST(LedgerTest, ReleaseErrors) {
  MemoryLedger l = small_guest();
  ASSERT_TRUE(l.claim(R(0x40000000, 2 * kMiB), RangeType::kLoaderImage).ok());
  ASSERT_TRUE(l.claim(R(0x40200000, 2 * kMiB), RangeType::kPayload).ok());
  auto wrong_owner = l.release(R(0x40000000, 0x1000), RangeType::kPayload);
  EXPECT_EQ(wrong_owner.error().code, ErrorCode::kOverlap);
  EXPECT_STREQ(wrong_owner.error().check, "ledger-release");
  EXPECT_EQ(detail(wrong_owner), "payload [0x40000000, 0x40001000) overlaps loader image [0x40000000, 0x40200000)");
  auto runs_past = l.release(R(0x40300000, 2 * kMiB), RangeType::kPayload);
  EXPECT_EQ(detail(runs_past), "payload [0x40300000, 0x40500000) overlaps free RAM [0x40400000, 0x48000000)");
  auto free_ram = l.release(R(0x41000000, 0x1000), RangeType::kPayload);
  EXPECT_EQ(detail(free_ram), "payload [0x41000000, 0x41001000) overlaps free RAM [0x40400000, 0x48000000)");
  auto nothing = l.release(R(0x10000000, 0x1000), RangeType::kPayload);
  EXPECT_EQ(detail(nothing), "payload [0x10000000, 0x10001000) is not RAM at [0x10000000, 0x10001000)");
  EXPECT_EQ(l.release(R(0x39000000, 0x1000), RangeType::kMagic).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.release(R(0x40000000, 0x1000), RangeType::kFreeRam).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.total(RangeType::kPayload), 2 * kMiB);
}

TEST(LedgerTest, ReservedOutsideRamCannotBeReleased) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_outside_ram(R(0x10000000, kMiB), RangeType::kReserved).ok());
  auto r = l.release(R(0x10000000, 0x1000), RangeType::kReserved);
  EXPECT_EQ(detail(r), "reserved [0x10000000, 0x10001000) overlaps reserved (not RAM) [0x10000000, 0x10100000)");
  EXPECT_EQ(l.total(RangeType::kFreeRam), 0u);
}

TEST(LedgerTest, ReservedInAndOutsideRamDoNotMerge) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_outside_ram(R(0x3ff00000, kMiB), RangeType::kReserved).ok());
  ASSERT_TRUE(l.add_ram(R(0x40000000, kMiB)).ok());
  ASSERT_TRUE(l.claim(R(0x40000000, 0x1000), RangeType::kReserved).ok());
  ASSERT_EQ(l.ranges().size(), 3u);
  EXPECT_EQ(l.total_ram(), kMiB);
  EXPECT_EQ(l.total(RangeType::kReserved), kMiB + 0x1000);
}

TEST(LedgerTest, AllocateLowestAndHighest) {
  MemoryLedger l = small_guest();
  ASSERT_TRUE(l.claim(R(0x40000000, 0x1000), RangeType::kLoaderImage).ok());
  auto low = l.allocate(0x3000, 2 * kMiB, GuestPhys{~uint64_t{0}}, RangeType::kKernel);
  ASSERT_TRUE(low.ok()) << low.error().detail;
  EXPECT_EQ(low->value, 0x40200000u);
  auto high = l.allocate(0x1800, 8, GuestPhys{0x44000000}, RangeType::kOutgoingDt, Placement::kHighest);
  ASSERT_TRUE(high.ok());
  EXPECT_EQ(high->value, 0x44000000u - 0x1800);
  auto top = l.allocate(kMiB, kMiB, GuestPhys{~uint64_t{0}}, RangeType::kInitrd, Placement::kHighest);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->value, 0x48000000u - kMiB);
  EXPECT_EQ(l.find(GuestPhys{0x47f00000})->type, RangeType::kInitrd);
  EXPECT_EQ(l.find(GuestPhys{0x40200000})->type, RangeType::kKernel);
}

TEST(LedgerTest, AllocateErrors) {
  MemoryLedger l = small_guest();
  auto too_big = l.allocate(256 * kMiB, 0x1000, GuestPhys{~uint64_t{0}}, RangeType::kKernel);
  EXPECT_EQ(too_big.error().code, ErrorCode::kNoMemory);
  EXPECT_STREQ(too_big.error().check, "ledger-allocate");
  EXPECT_EQ(detail(too_big),
            "no 0x10000000 bytes of free RAM aligned to 0x1000 below 0xffffffffffffffff for kernel "
            "(0x8000000 bytes free)");
  auto below_ram = l.allocate(0x1000, 0x1000, GuestPhys{0x40000fff}, RangeType::kKernel);
  EXPECT_EQ(below_ram.error().code, ErrorCode::kNoMemory);
  EXPECT_EQ(l.allocate(0, 0x1000, GuestPhys{~uint64_t{0}}, RangeType::kKernel).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.allocate(0x1000, 3, GuestPhys{~uint64_t{0}}, RangeType::kKernel).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.allocate(0x1000, 0, GuestPhys{~uint64_t{0}}, RangeType::kKernel).error().code, ErrorCode::kBadInput);
  EXPECT_EQ(l.allocate(0x1000, 8, GuestPhys{~uint64_t{0}}, RangeType::kMagic).error().code, ErrorCode::kBadInput);
  // An alignment no free address meets.
  EXPECT_EQ(l.allocate(0x1000, uint64_t{1} << 40, GuestPhys{~uint64_t{0}}, RangeType::kKernel).error().code,
            ErrorCode::kNoMemory);
  EXPECT_EQ(l.total(RangeType::kFreeRam), 128 * kMiB);
}

TEST(LedgerTest, FindAndIsFree) {
  MemoryLedger l = small_guest();
  ASSERT_TRUE(l.claim(R(0x40000000, 2 * kMiB), RangeType::kLoaderImage).ok());
  EXPECT_EQ(l.find(GuestPhys{0x39000123})->type, RangeType::kMagic);
  EXPECT_EQ(l.find(GuestPhys{0x401fffff})->type, RangeType::kLoaderImage);
  EXPECT_EQ(l.find(GuestPhys{0x40200000})->type, RangeType::kFreeRam);
  EXPECT_EQ(l.find(GuestPhys{0x48000000}), nullptr);
  EXPECT_EQ(l.find(GuestPhys{0x0}), nullptr);
  EXPECT_TRUE(l.is_free(R(0x40200000, 126 * kMiB)));
  EXPECT_FALSE(l.is_free(R(0x40100000, 2 * kMiB)));
  EXPECT_FALSE(l.is_free(R(0x47fff000, 0x2000)));
  EXPECT_FALSE(l.is_free(R(0x40200000, 0)));
}

TEST(LedgerTest, FullLedgerFailsWithoutChangingAnything) {
  MemoryLedger l;
  ASSERT_TRUE(l.add_ram(R(0, 0x1000 * 1000)).ok());
  // Every other page claimed: each claim adds ranges until the slots run out.
  Res<void> last;
  uint64_t page = 1;
  for (; page < 1000; page += 2) {
    last = l.claim(R(page * 0x1000, 0x1000), RangeType::kKernel);
    if (!last.ok()) break;
  }
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, ErrorCode::kNoMemory);
  EXPECT_STREQ(last.error().check, "ledger-full");
  EXPECT_EQ(l.ranges().size(), MemoryLedger::kCapacity - 1);
  EXPECT_EQ(l.total_ram(), 0x1000u * 1000);
  EXPECT_TRUE(l.is_free(R(page * 0x1000, 0x1000)));
  // A claim that needs no new slot still works: it fills the free page
  // between two kernel pages, and the three merge.
  EXPECT_TRUE(l.claim(R(2 * 0x1000, 0x1000), RangeType::kKernel).ok());
  EXPECT_EQ(l.ranges().size(), MemoryLedger::kCapacity - 3);
}

}  // namespace
}  // namespace mb::loader
