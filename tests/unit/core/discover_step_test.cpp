// Step 1, discover_at(): the caller's one discovery of the incoming DT. It
// checks the address, magic and size before the parser runs, names the guest
// address in every error, and records where the blob lies. A DT without a
// payload is discovered fine; step 2 is what refuses it.
#include <gtest/gtest.h>

#include <cstring>

#include "magicboot/loader/dt_fixup.h"
#include "step_support.h"
#include "steps.h"

namespace mb::loader {
namespace {

using test::BlobMemory;
using test::build_mini_dt;
using test::MiniDt;

constexpr GuestPhys kDtb{0x48000000};

TEST(DiscoverAt, RecordsTheBlobAndWhatItSays) {
  const std::vector<uint8_t> blob = build_mini_dt(MiniDt{});
  BlobMemory mem(kDtb, blob);
  auto dt = discover_at(mem, kDtb);
  ASSERT_TRUE(dt.ok()) << dt.error().check << ": " << dt.error().detail;
  EXPECT_EQ(dt->blob, (PhysRange{kDtb, blob.size()}));
  EXPECT_EQ(dt->total_size, blob.size());
  ASSERT_EQ(dt->bank_count, 1u);
  EXPECT_EQ(dt->banks[0], MiniDt{}.ram);
  EXPECT_EQ(dt->payload, MiniDt{}.payload);
  EXPECT_TRUE(dt->xen.present);
}

TEST(DiscoverAt, RefusesAnUnalignedAddressWithoutReading) {
  BlobMemory mem(kDtb, build_mini_dt(MiniDt{}));
  auto dt = discover_at(mem, kDtb + 4);
  ASSERT_FALSE(dt.ok());
  EXPECT_STREQ(dt.error().check, "dt-address");
  EXPECT_STREQ(dt.error().detail, "device tree at 0x48000004 is not 8-byte aligned");
  EXPECT_EQ(mem.accesses, 0u);
}

TEST(DiscoverAt, RefusesABadMagicNamingTheAddress) {
  std::vector<uint8_t> blob = build_mini_dt(MiniDt{});
  blob[0] ^= 0xff;
  BlobMemory mem(kDtb, blob);
  auto dt = discover_at(mem, kDtb);
  ASSERT_FALSE(dt.ok());
  EXPECT_STREQ(dt.error().check, "dt-magic");
  EXPECT_NE(std::strstr(dt.error().detail, "no device tree at 0x48000000"), nullptr) << dt.error().detail;
}

TEST(DiscoverAt, RefusesATreeOverTheKernelDtLimitBeforeReadingIt) {
  std::vector<uint8_t> blob = build_mini_dt(MiniDt{});
  const uint32_t huge = kMaxKernelDtSize + 8;
  const uint8_t be[4] = {uint8_t(huge >> 24), uint8_t(huge >> 16), uint8_t(huge >> 8), uint8_t(huge)};
  std::memcpy(blob.data() + 4, be, 4);  // totalsize
  BlobMemory mem(kDtb, blob);
  auto dt = discover_at(mem, kDtb);
  ASSERT_FALSE(dt.ok());
  EXPECT_STREQ(dt.error().check, "dt-size");
  EXPECT_EQ(mem.accesses, 1u) << "only the header may be read";
}

TEST(DiscoverAt, AParserErrorNamesTheGuestAddress) {
  std::vector<uint8_t> blob = build_mini_dt(MiniDt{});
  blob.resize(blob.size() - 16);  // totalsize now claims more than memory holds
  const uint32_t total = static_cast<uint32_t>(blob.size());
  const uint8_t be[4] = {uint8_t(total >> 24), uint8_t(total >> 16), uint8_t(total >> 8), uint8_t(total)};
  std::memcpy(blob.data() + 4, be, 4);  // a consistent totalsize, a cut structure block
  BlobMemory mem(kDtb, blob);
  auto dt = discover_at(mem, kDtb);
  ASSERT_FALSE(dt.ok());
  EXPECT_EQ(std::strncmp(dt.error().detail, "DT at 0x48000000: ", 18), 0) << dt.error().detail;
}

// No payload is not discover_at's business: step 2 refuses it.
TEST(BuildLedger, ADtWithoutPayloadIsRefused) {
  MiniDt spec;
  spec.payload = PhysRange{};
  BlobMemory mem(kDtb, build_mini_dt(spec));
  auto dt = discover_at(mem, kDtb);
  ASSERT_TRUE(dt.ok()) << dt.error().detail;
  MemoryLedger ledger;
  auto res = steps::build_ledger(LoaderLayout{}, *dt, ledger);
  ASSERT_FALSE(res.ok());
  EXPECT_STREQ(res.error().check, "no-payload");
}

}  // namespace
}  // namespace mb::loader
