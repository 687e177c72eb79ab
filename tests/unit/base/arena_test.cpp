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

}  // namespace
}  // namespace mb
