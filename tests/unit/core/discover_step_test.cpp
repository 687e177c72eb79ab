// Step 1 with BootOptions::discovered: the firmware's bring-up already ran
// discover(), so the step must take that result without reading the blob
// again -- and still record the incoming DT's range and refuse a boot with
// no payload. Without it, the step parses (and so must read guest memory).
#include <gtest/gtest.h>

#include <cstring>

#include "magicboot/loader/dt_fixup.h"
#include "steps.h"

namespace mb::loader {
namespace {

// A guest memory that refuses every access and counts the attempts.
class NoMemory final : public GuestMemory {
 public:
  Res<void> read(GuestPhys a, void*, size_t) override { return refuse(a); }
  Res<void> write(GuestPhys a, const void*, size_t) override { return refuse(a); }
  Res<void> copy(GuestPhys a, GuestPhys, size_t) override { return refuse(a); }
  Res<void> fill(GuestPhys a, uint8_t, size_t) override { return refuse(a); }
  Res<const uint8_t*> view(GuestPhys a, size_t) override {
    ++accesses;
    return MB_ERR(ErrorCode::kBadInput, "no-memory", "access at %#llx", static_cast<unsigned long long>(a.value));
  }
  unsigned accesses = 0;

 private:
  Res<void> refuse(GuestPhys a) {
    ++accesses;
    return MB_ERR(ErrorCode::kBadInput, "no-memory", "access at %#llx", static_cast<unsigned long long>(a.value));
  }
};

constexpr GuestPhys kDtb{0x48000000};

DiscoveredDt discovered_with_payload() {
  DiscoveredDt dt;
  dt.banks[0] = PhysRange{GuestPhys{0x40000000}, 128ull << 20};
  dt.bank_count = 1;
  dt.payload = PhysRange{GuestPhys{0x42000000}, 0x300000};
  dt.xen.present = true;
  dt.total_size = 35186;
  return dt;
}

TEST(DiscoverStep, TakesTheGivenResultWithoutReadingTheBlob) {
  NoMemory mem;
  const DiscoveredDt given = discovered_with_payload();
  BootReport r;
  auto res = steps::discover_dt(mem, kDtb, &given, r);
  ASSERT_TRUE(res.ok()) << res.error().check << ": " << res.error().detail;
  EXPECT_EQ(mem.accesses, 0u);
  EXPECT_EQ(r.incoming_dt, (PhysRange{kDtb, 35186}));
  ASSERT_EQ(r.dt.bank_count, 1u);
  EXPECT_EQ(r.dt.banks[0], given.banks[0]);
  EXPECT_EQ(r.dt.payload, given.payload);
  EXPECT_TRUE(r.dt.xen.present);
}

TEST(DiscoverStep, GivenResultWithoutPayloadIsRefused) {
  NoMemory mem;
  DiscoveredDt given = discovered_with_payload();
  given.payload = PhysRange{};
  BootReport r;
  auto res = steps::discover_dt(mem, kDtb, &given, r);
  ASSERT_FALSE(res.ok());
  EXPECT_STREQ(res.error().check, "no-payload");
  EXPECT_EQ(r.incoming_dt, (PhysRange{kDtb, 35186}));  // recorded before the refusal
}

TEST(DiscoverStep, GivenResultOverTheKernelDtLimitIsRefused) {
  NoMemory mem;
  DiscoveredDt given = discovered_with_payload();
  given.total_size = kMaxKernelDtSize + 8;
  BootReport r;
  auto res = steps::discover_dt(mem, kDtb, &given, r);
  ASSERT_FALSE(res.ok());
  EXPECT_STREQ(res.error().check, "dt-size");
}

// The other side: with nothing given the step parses the blob itself, so it
// reads guest memory (and here fails on it).
TEST(DiscoverStep, WithoutAResultItReadsTheBlob) {
  NoMemory mem;
  BootReport r;
  auto res = steps::discover_dt(mem, kDtb, nullptr, r);
  ASSERT_FALSE(res.ok());
  EXPECT_STREQ(res.error().check, "no-memory");
  EXPECT_GT(mem.accesses, 0u);
}

}  // namespace
}  // namespace mb::loader
