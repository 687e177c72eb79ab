// The PV layer (xenstore client, grant table, blkfront) against the model's
// xenstored and blkback twins: a disk read through the ring equals the
// image, the teardown leaves no grant, frame, port or connection behind and
// the backend ready for the next frontend, and a backend or xenstored that
// misbehaves costs a named error and a bounded wait, never a hang and never
// something left open.
#include "magicboot/pv/blkfront.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "magicboot/pv/xenbus.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/wall_clock_cpu.h"

namespace mb::pv {
namespace {

namespace board = boards::xen_arm64;
using model::DiskConfig;
using model::DomainConfig;
using model::DomainKind;
using model::Model;

using TestCpu = model::WallClockCpu;

std::vector<uint8_t> pattern_disk(size_t bytes) {
  std::vector<uint8_t> d(bytes);
  uint32_t x = 0x12345678;
  for (auto& b : d) {
    x = x * 1103515245 + 12345;
    b = static_cast<uint8_t>(x >> 24);
  }
  return d;
}

DomainConfig xl_with_disk(size_t bytes = 3u << 20) {
  DomainConfig c;
  c.kind = DomainKind::kXl;
  c.ram_bytes = uint64_t{256} << 20;
  DiskConfig d;
  d.image = pattern_disk(bytes);
  c.disk = d;
  return c;
}

// Everything one test needs, opened the way PvDisk opens it.
struct Rig {
  explicit Rig(const DomainConfig& c, uint32_t timeout_ms = 2000)
      : m(c), mem(m.memory("loader")), ram(m.ram()) {
    auto place = find_xenstore(m.hypercalls(), board::kMagic, {ram.bank, ram.count});
    EXPECT_TRUE(place.ok()) << (place.ok() ? "" : place.error().detail);
    xs.emplace(m.hypercalls(), mem, cpu, place.ok() ? *place : RingPlace{}, timeout_ms);
    gnt.emplace(m.hypercalls(), mem);
  }
  PhysRange pages() const {
    // The top of RAM bank 0: loader RAM, as PvDisk takes it from the ledger.
    const uint64_t size = uint64_t{Blkfront::kMaxPages} * kPageSize;
    return PhysRange{GuestPhys{ram.bank[0].end().value - size}, size};
  }
  Res<void> open_grants() { return gnt->open(board::kGntTab, {ram.bank, ram.count}, 1); }

  Model m;
  GuestMemory& mem;
  boards::RamBanks ram;
  TestCpu cpu;
  std::optional<XenStore> xs;
  std::optional<GrantTable> gnt;
};

std::string detail(const Res<void>& r) { return r.ok() ? "" : std::string(r.error().check) + ": " + r.error().detail; }

TEST(XenStoreClient, ReadsTheToolstacksEntries) {
  Rig rig(xl_with_disk());
  char v[64];
  auto n = rig.xs->read("name", v, sizeof v);
  ASSERT_TRUE(n.ok()) << n.error().detail;
  EXPECT_GT(*n, 0u);
  auto port = rig.xs->read_u64("store/port");
  ASSERT_TRUE(port.ok()) << port.error().detail;
  EXPECT_EQ(*port, model::kXlStorePort);
  char names[128];
  auto count = rig.xs->directory("device/vbd", names, sizeof names);
  ASSERT_TRUE(count.ok()) << count.error().detail;
  EXPECT_EQ(*count, 1u);
  EXPECT_STREQ(names, "51712");
}

TEST(XenStoreClient, WritesRemovesAndTransactions) {
  Rig rig(xl_with_disk());
  ASSERT_TRUE(rig.xs->write("data/magicboot", "hello").ok());
  char v[16];
  ASSERT_TRUE(rig.xs->read("data/magicboot", v, sizeof v).ok());
  EXPECT_STREQ(v, "hello");
  auto tx = rig.xs->transaction_start();
  ASSERT_TRUE(tx.ok()) << tx.error().detail;
  ASSERT_TRUE(rig.xs->write("data/magicboot", "again", *tx).ok());
  auto committed = rig.xs->transaction_end(*tx, true);
  ASSERT_TRUE(committed.ok() && *committed);
  ASSERT_TRUE(rig.xs->read("data/magicboot", v, sizeof v).ok());
  EXPECT_STREQ(v, "again");
  ASSERT_TRUE(rig.xs->remove("data/magicboot").ok());
  auto gone = rig.xs->read("data/magicboot", v, sizeof v);
  ASSERT_FALSE(gone.ok());
  EXPECT_STREQ(gone.error().check, "xenstore-error");
  EXPECT_NE(std::string(gone.error().detail).find("ENOENT"), std::string::npos) << gone.error().detail;
}

TEST(XenStoreClient, ARepliedValueLongerThanTheBufferIsRefusedAndTheRingStaysInStep) {
  Rig rig(xl_with_disk());
  ASSERT_TRUE(rig.xs->write("data/long", std::string(300, 'x').c_str()).ok());
  char small[8];
  auto r = rig.xs->read("data/long", small, sizeof small);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "xenstore-size");
  char v[64];
  ASSERT_TRUE(rig.xs->read("name", v, sizeof v).ok()) << "the next request still works";
}

TEST(XenStoreClient, ASilentXenstoredIsABoundedWait) {
  DomainConfig c = xl_with_disk();
  c.xenstore_answers = false;
  Rig rig(c, 100);
  const auto start = std::chrono::steady_clock::now();
  char v[16];
  auto r = rig.xs->read("name", v, sizeof v);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "xenstore-timeout");
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(XenStoreClient, RepliesAreCheckedBeforeTheyAreBelieved) {
  Rig rig(xl_with_disk());
  // A reply that says it is an error with an errno xenstored never sends.
  rig.m.set_xenstore_reply_filter([](uint32_t, std::string& payload) { payload = "not-a-number"; });
  auto port = rig.xs->read_u64("store/port");
  ASSERT_FALSE(port.ok());
  EXPECT_STREQ(port.error().check, "xenstore-value");
}

TEST(GrantTableClient, FramesGoInTheGrantRegionAndLeaveWithClose) {
  Rig rig(xl_with_disk());
  ASSERT_TRUE(rig.open_grants().ok());
  ASSERT_EQ(rig.m.grant_frame_gfns().size(), 1u);
  EXPECT_EQ(rig.m.grant_frame_gfns()[0], board::kGntTab.base.gfn());
  auto ref = rig.gnt->grant(0, (rig.ram.bank[0].base + 0x100000).gfn(), true);
  ASSERT_TRUE(ref.ok());
  EXPECT_GE(*ref, GrantTable::kFirstFree);
  ASSERT_EQ(rig.m.active_grants().size(), 1u);
  EXPECT_EQ(rig.m.active_grants()[0].ref, *ref);
  auto early = rig.gnt->close();
  ASSERT_FALSE(early.ok());
  EXPECT_STREQ(early.error().check, "grant-active");
  EXPECT_EQ(rig.m.grant_frame_gfns().size(), 1u) << "a refused close removes nothing";
  ASSERT_TRUE(rig.gnt->end(*ref).ok());
  EXPECT_TRUE(rig.m.active_grants().empty());
  ASSERT_TRUE(rig.gnt->close().ok());
  EXPECT_TRUE(rig.m.grant_frame_gfns().empty());
}

TEST(GrantTableClient, NeverMapsFramesOnRam) {
  Rig rig(xl_with_disk());
  auto r = rig.gnt->open(PhysRange{rig.ram.bank[0].base, 0x10000}, {rig.ram.bank, rig.ram.count}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "grant-region");
  EXPECT_TRUE(rig.m.grant_frame_gfns().empty());
}

TEST(GrantTableClient, AGrantTheBackendHoldsMappedIsNotEnded) {
  Rig rig(xl_with_disk());
  ASSERT_TRUE(rig.open_grants().ok());
  auto ref = rig.gnt->grant(0, (rig.ram.bank[0].base + 0x100000).gfn(), false);
  ASSERT_TRUE(ref.ok());
  // The backend maps it: Xen sets GTF_reading|GTF_writing in the entry.
  const GuestPhys entry = board::kGntTab.base + uint64_t{*ref} * 8;
  uint16_t flags = 0;
  ASSERT_TRUE(rig.mem.read(entry, &flags, sizeof flags).ok());
  flags |= GTF_reading | GTF_writing;
  ASSERT_TRUE(rig.m.memory("xen").write(entry, &flags, sizeof flags).ok());
  auto r = rig.gnt->end(*ref);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "grant-in-use");
  EXPECT_EQ(rig.m.active_grants().size(), 1u);
}

TEST(Blkfront, ReadsTheWholeDiskAsTheImageHoldsIt) {
  DomainConfig c = xl_with_disk();
  Rig rig(c);
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  auto connected = blk.connect(rig.pages());
  ASSERT_TRUE(connected.ok()) << detail(connected);
  EXPECT_TRUE(rig.m.backend_connected());
  EXPECT_EQ(rig.m.backend_state(), XenbusStateConnected);
  ASSERT_EQ(blk.sector_size(), 512u);
  ASSERT_EQ(blk.sector_count(), c.disk->image.size() / 512);
  std::vector<uint8_t> got(c.disk->image.size());
  ASSERT_TRUE(blk.read(0, blk.sector_count(), got.data()).ok());
  EXPECT_TRUE(got == c.disk->image);
  // A read that starts and ends mid-chunk.
  std::vector<uint8_t> part(7 * 512);
  ASSERT_TRUE(blk.read(1001, 7, part.data()).ok());
  EXPECT_EQ(0, memcmp(part.data(), c.disk->image.data() + 1001 * 512, part.size()));
  EXPECT_GT(blk.stats().max_in_flight, 1u) << "several requests on the ring at once";
  // Persistent grants: blkback keeps the data pages mapped between requests
  // (so ending them now would be refused) until it disconnects.
  unsigned held = 0;
  for (const model::GrantInfo& g : rig.m.active_grants()) held += (g.flags & GTF_writing) != 0;
  EXPECT_GT(held, 1u) << "blkback holds the ring and data pages mapped";
  EXPECT_GE(rig.m.backend_max_in_flight(), blk.stats().max_in_flight);

  const uint32_t port = blk.port();
  ASSERT_TRUE(blk.disconnect().ok());
  EXPECT_FALSE(rig.m.backend_connected());
  EXPECT_EQ(rig.m.backend_state(), XenbusStateInitWait) << "ready for Linux's blkfront";
  EXPECT_EQ(rig.m.xenstore_read("/local/domain/1/device/vbd/51712/state"), std::string("1"));
  EXPECT_FALSE(rig.m.xenstore_read("/local/domain/1/device/vbd/51712/ring-ref").has_value());
  EXPECT_TRUE(rig.m.active_grants().empty());
  for (uint32_t p : rig.m.bound_ports()) EXPECT_NE(p, port) << "our port is closed";
  ASSERT_TRUE(rig.gnt->close().ok());
  EXPECT_TRUE(rig.m.grant_frame_gfns().empty());
  EXPECT_TRUE(rig.m.ring_protocol_errors().empty()) << rig.m.ring_protocol_errors()[0];
}

TEST(Blkfront, ReadsPastTheEndAreRefused) {
  Rig rig(xl_with_disk(1u << 20));
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  ASSERT_TRUE(blk.connect(rig.pages()).ok());
  uint8_t buf[1024];
  auto r = blk.read(blk.sector_count() - 1, 2, buf);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "disk-read");
  ASSERT_TRUE(blk.disconnect().ok());
}

TEST(Blkfront, NoDiskIsNamedAndNothingIsOpened) {
  DomainConfig c = xl_with_disk();
  c.disk.reset();
  Rig rig(c);
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  auto r = blk.connect(rig.pages());
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "vbd-none");
  EXPECT_TRUE(rig.m.active_grants().empty());
}

TEST(Blkfront, ABackendThatNeverConnectsIsABoundedWaitAndLeavesNothingBehind) {
  DomainConfig c = xl_with_disk();
  c.disk->backend_connects = false;
  Rig rig(c, 200);
  ASSERT_TRUE(rig.open_grants().ok());
  const auto ports_before = rig.m.bound_ports();
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  const auto start = std::chrono::steady_clock::now();
  auto r = blk.connect(rig.pages(), 0, 200);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "vbd-connect") << r.error().detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(rig.m.active_grants().empty());
  EXPECT_EQ(rig.m.bound_ports(), ports_before);
  EXPECT_FALSE(rig.m.backend_connected());
}

TEST(Blkfront, ABackendErrorIsNamedWithTheSector) {
  Rig rig(xl_with_disk());
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  ASSERT_TRUE(blk.connect(rig.pages()).ok());
  rig.m.set_blkback_response_filter([](model::BlkbackResponse& rsp) { rsp.status = BLKIF_RSP_ERROR; });
  std::vector<uint8_t> buf(4096);
  auto r = blk.read(8, 8, buf.data());
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "disk-read");
  EXPECT_NE(std::string(r.error().detail).find("sector 8:"), std::string::npos) << r.error().detail;
  rig.m.set_blkback_response_filter(nullptr);
  ASSERT_TRUE(blk.disconnect().ok());
  EXPECT_TRUE(rig.m.active_grants().empty());
}

TEST(Blkfront, AResponseToNoRequestIsRefused) {
  Rig rig(xl_with_disk());
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  ASSERT_TRUE(blk.connect(rig.pages()).ok());
  rig.m.set_blkback_response_filter([](model::BlkbackResponse& rsp) { rsp.id += 1000; });
  std::vector<uint8_t> buf(4096);
  auto r = blk.read(0, 8, buf.data());
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "blkif-response");
  rig.m.set_blkback_response_filter(nullptr);
  ASSERT_TRUE(blk.disconnect().ok());
}

}  // namespace
}  // namespace mb::pv
