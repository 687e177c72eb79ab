#include "magicboot/arena.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mb {
namespace {

TEST(Arena, AllocatesAlignedUntilFullThenFailsAsValue) {
  alignas(64) uint8_t buf[256];
  Arena a(buf, sizeof buf);
  void* p = a.allocate(10, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  void* q = a.allocate(10, 64);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(static_cast<uint8_t*>(q) - static_cast<uint8_t*>(p), 64);
  EXPECT_EQ(a.allocate(200), nullptr);  // 74 used, 200 more does not fit
  EXPECT_NE(a.allocate(100), nullptr);
  EXPECT_EQ(a.allocate_array<uint64_t>(SIZE_MAX / 4), nullptr);  // overflow refused
}

TEST(Arena, MarkRewindsAndPeakRemembers) {
  alignas(16) uint8_t buf[128];
  Arena a(buf, sizeof buf);
  auto m = a.mark();
  ASSERT_NE(a.allocate(100), nullptr);
  a.rewind(m);
  EXPECT_EQ(a.used(), 0u);
  EXPECT_EQ(a.peak(), 100u);
  EXPECT_NE(a.allocate(120), nullptr);
}

TEST(Arena, ScopeGivesBackOnEveryPath) {
  alignas(16) uint8_t buf[128];
  Arena a(buf, sizeof buf);
  ASSERT_NE(a.allocate(16), nullptr);
  auto work = [&](bool fail_early) {
    ArenaScope scratch(a);
    if (a.allocate(32) == nullptr) return false;
    if (fail_early) return false;
    return a.allocate(64) != nullptr;
  };
  EXPECT_FALSE(work(true));
  EXPECT_EQ(a.used(), 16u);
  EXPECT_TRUE(work(false));
  EXPECT_EQ(a.used(), 16u);
  EXPECT_EQ(a.peak(), 16u + 32u + 64u);
  {
    ArenaScope outer(a);
    ASSERT_NE(a.allocate(8), nullptr);
    {
      ArenaScope inner(a);
      ASSERT_NE(a.allocate(8), nullptr);
    }
    EXPECT_EQ(a.used(), 16u + 8u);  // the inner scope's 8 (at 32) are gone
  }
  EXPECT_EQ(a.used(), 16u);
}

}  // namespace
}  // namespace mb
