// The PV layer (xenstore client, grant table, blkfront) against the model's
// xenstored and blkback twins: a disk read through the ring equals the
// image, the teardown leaves no grant, frame, port or connection behind and
// the backend ready for the next frontend, and a backend or xenstored that
// misbehaves costs a named error and a bounded wait, never a hang and never
// something left open.
#include "magicboot/pv/blkfront.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "magicboot/pv/xenbus.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/validator.h"
#include "magicboot/xen_stubs/wall_clock_cpu.h"
#include "pv_rig.h"

namespace mb::pv {
namespace {

using namespace test;

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
  ASSERT_TRUE(rig.gnt->open(board::kGntTab, {rig.ram.bank, rig.ram.count}, 1).ok());
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

// --- multi-page rings and indirect requests -------------------------------------

TEST(BlkfrontPlan, UsesWhatBothSidesAllowAndFitsThePages) {
  const BlkfrontOptions today{0, 0, 16, 176};
  const BlkfrontOptions most{BlkfrontOptions::kMaxRingOrder, 32, BlkfrontOptions::kMaxInFlight,
                             BlkfrontOptions::kMaxDataPages};
  // Neither offered: one ring page, 11-page requests, whatever was asked.
  BlkfrontLayout l = Blkfront::plan(Blkfront::kMaxPages, 0, 0, most);
  EXPECT_EQ(l.ring_pages, 1u);
  EXPECT_FALSE(l.indirect);
  EXPECT_EQ(l.in_flight, 32u) << "the whole one-page ring";
  EXPECT_EQ(l.data_pages, 32u * 11);
  l = Blkfront::plan(Blkfront::kMaxPages, 0, 0, today);
  EXPECT_EQ(l.in_flight, 16u);
  EXPECT_EQ(l.data_pages, 176u);
  EXPECT_EQ(l.pages(), 177u);
  // Both offered (Linux's blkback: order 4, 256 segments): ours is the cap.
  l = Blkfront::plan(Blkfront::kMaxPages, 4, 256, most);
  EXPECT_EQ(l.ring_order, BlkfrontOptions::kMaxRingOrder);
  EXPECT_EQ(l.slots, 32u << BlkfrontOptions::kMaxRingOrder);
  EXPECT_TRUE(l.indirect);
  EXPECT_EQ(l.segments, 32u);
  EXPECT_EQ(l.in_flight, BlkfrontOptions::kMaxDataPages / 32);
  EXPECT_EQ(l.indirect_pages, l.in_flight);
  EXPECT_LE(l.pages(), Blkfront::kMaxPages);
  // Asked for more segments than offered: the backend's 16.
  l = Blkfront::plan(Blkfront::kMaxPages, 0, 16, most);
  EXPECT_TRUE(l.indirect);
  EXPECT_EQ(l.segments, 16u);
  EXPECT_EQ(l.in_flight, 32u) << "the one-page ring is full first";
  // 11 or fewer segments offered: indirect requests buy nothing.
  l = Blkfront::plan(Blkfront::kMaxPages, 0, 11, most);
  EXPECT_FALSE(l.indirect);
  // A multi-page ring with direct requests: the window is the cap.
  l = Blkfront::plan(Blkfront::kMaxPages, 2, 0, most);
  EXPECT_EQ(l.ring_pages, 4u);
  EXPECT_EQ(l.in_flight, BlkfrontOptions::kMaxInFlight);
  EXPECT_EQ(l.data_pages, BlkfrontOptions::kMaxInFlight * 11);
  // Few pages: a smaller ring, fewer and smaller requests, never none.
  l = Blkfront::plan(2, 4, 256, most);
  EXPECT_EQ(l.ring_pages, 1u);
  EXPECT_EQ(l.pages(), 2u);
  EXPECT_FALSE(l.indirect);
  EXPECT_EQ(l.data_pages, 1u);
  l = Blkfront::plan(20, 4, 256, most);
  EXPECT_EQ(l.ring_pages, 4u);
  EXPECT_TRUE(l.indirect);
  EXPECT_EQ(l.segments, 15u);
  EXPECT_EQ(l.pages(), 20u);
  l = Blkfront::plan(4, 2, 256, most);
  EXPECT_EQ(l.ring_pages, 2u) << "a ring that leaves a data page";
  EXPECT_EQ(l.pages(), 4u);
}

TEST(BlkfrontPlan, PagesForBoundsEveryOffer) {
  const BlkfrontOptions wants[] = {{0, 0, 16, 176}, {0, 0, 64, 704}, {2, 0, 64, 704}, {0, 32, 64, 704},
                                   {2, 32, 64, 704}, {1, 256, 64, 704}, {4, 512, 200, 5000}, {0, 0, 0, 0},
                                   {2, 12, 3, 704},   {2, 32, 64, 8},   {1, 32, 64, 20},  {1, 0, 64, 448},
                                   {BlkfrontOptions{}}};
  for (const BlkfrontOptions& w : wants) {
    const unsigned bound = Blkfront::pages_for(w);
    EXPECT_LE(bound, Blkfront::kMaxPages);
    unsigned most = 0;
    for (unsigned order = 0; order <= 4; ++order)
      for (unsigned segs : {0u, 8u, 11u, 12u, 16u, 31u, 32u, 33u, 100u, 256u, 1000u}) {
        const BlkfrontLayout l = Blkfront::plan(Blkfront::kMaxPages, order, segs, w);
        EXPECT_LE(l.pages(), bound) << w.ring_order << "/" << w.indirect_segments << "/" << w.max_in_flight
                                    << " offered " << order << "/" << segs;
        most = std::max(most, l.pages());
        // Given just the bound, the same layout.
        const BlkfrontLayout b = Blkfront::plan(bound, order, segs, w);
        EXPECT_EQ(b.pages(), l.pages());
        EXPECT_EQ(b.in_flight, l.in_flight);
      }
    // Direct requests only: the bound is reached by some offer (with indirect
    // ones it may be a few indirect pages more than any offer uses).
    if (w.indirect_segments <= Blkfront::kSegments) {
      EXPECT_EQ(most, bound);
    }
  }
  EXPECT_EQ(Blkfront::pages_for({0, 0, 16, 176}), 177u) << "the one-page reader: the ring and 16 x 11 pages";
  EXPECT_EQ(Blkfront::grant_frames_for(Blkfront::pages_for(BlkfrontOptions{})), 1u)
      << "the defaults fit one grant frame whatever is offered";
  // The defaults against Linux's blkback, one offering only the ring, and one offering neither.
  EXPECT_EQ(Blkfront::plan(Blkfront::kMaxPages, 4, 256, BlkfrontOptions{}).in_flight, 14u);
  EXPECT_EQ(Blkfront::plan(Blkfront::kMaxPages, 4, 0, BlkfrontOptions{}).in_flight, 40u);
  EXPECT_EQ(Blkfront::plan(Blkfront::kMaxPages, 0, 0, BlkfrontOptions{}).in_flight, 32u);
  EXPECT_EQ(Blkfront::grant_frames_for(177), 1u);
  EXPECT_EQ(Blkfront::grant_frames_for(GrantTable::kEntriesPerFrame - GrantTable::kFirstFree + 1), 2u);
}

// What a disconnect must have left: nothing of ours valid, mapped, bound,
// connected or published. Empty when clean; otherwise what is left, by GFN.
std::string left_behind(Rig& rig, uint32_t port) {
  std::string why;
  for (const model::GrantInfo& g : rig.m.active_grants()) {
    char line[96];
    snprintf(line, sizeof line, "grant %u on GFN %#lx valid; ", g.ref, uint64_t{g.frame});
    why += line;
  }
  if (rig.m.backend_connected()) why += "backend connected; ";
  for (uint32_t p : rig.m.bound_ports())
    if (p == port) why += "port " + std::to_string(p) + " bound; ";
  const std::string fe = "/local/domain/1/device/vbd/51712/";
  for (const char* key : {"ring-ref", "ring-ref0", "ring-ref1", "ring-page-order", "event-channel"})
    if (rig.m.xenstore_read(fe + key)) why += std::string(key) + " still published; ";
  for (const std::string& e : rig.m.ring_protocol_errors()) why += "ring error " + e + "; ";
  return why;
}

struct Variant {
  const char* name;
  unsigned offered_order, offered_segments;  // what blkback offers
  BlkfrontOptions want;
  unsigned ring_pages, indirect_segments;  // what must be used
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

class BlkfrontVariants : public testing::TestWithParam<Variant> {};

TEST_P(BlkfrontVariants, ReadTheWholeDiskAndEndEveryGrant) {
  const Variant& v = GetParam();
  DomainConfig c = xl_with_disk(5u << 20);
  c.disk->max_ring_page_order = v.offered_order;
  c.disk->max_indirect_segments = v.offered_segments;
  Rig rig(c);
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  auto connected = blk.connect(rig.pages(), 0, 2000, v.want);
  ASSERT_TRUE(connected.ok()) << detail(connected);
  const BlkfrontLayout& l = blk.layout();
  EXPECT_EQ(l.ring_pages, v.ring_pages);
  EXPECT_EQ(l.indirect ? l.segments : 0u, v.indirect_segments);
  EXPECT_EQ(blk.stats().offered_ring_order, v.offered_order);
  EXPECT_EQ(blk.stats().offered_indirect_segments, v.offered_segments);

  // What blkback mapped is what we published: ring-ref, or the order and a
  // ring-ref<i> per page, each the grant of that ring page.
  const std::string fe = "/local/domain/1/device/vbd/51712/";
  if (l.ring_pages == 1) {
    EXPECT_EQ(rig.m.xenstore_read(fe + "ring-ref"), std::to_string(blk.grant_of(0)));
    EXPECT_FALSE(rig.m.xenstore_read(fe + "ring-page-order").has_value());
  } else {
    EXPECT_FALSE(rig.m.xenstore_read(fe + "ring-ref").has_value());
    EXPECT_EQ(rig.m.xenstore_read(fe + "ring-page-order"), std::to_string(l.ring_order));
    for (unsigned i = 0; i < l.ring_pages; ++i)
      EXPECT_EQ(rig.m.xenstore_read(fe + "ring-ref" + std::to_string(i)), std::to_string(blk.grant_of(i)));
  }
  ASSERT_EQ(rig.m.backend_ring_gfn(), rig.pages().base.gfn());
  const auto writable = rig.m.backend_writable_gfns();
  for (unsigned i = 0; i < l.ring_pages; ++i)
    EXPECT_TRUE(std::count(writable.begin(), writable.end(), Gfn{rig.pages().base.gfn().value + i}))
        << "ring page " << i << " mapped by blkback";

  std::vector<uint8_t> got(c.disk->image.size());
  ASSERT_TRUE(blk.read(0, blk.sector_count(), got.data()).ok());
  EXPECT_TRUE(got == c.disk->image);
  std::vector<uint8_t> part(37 * 512);
  ASSERT_TRUE(blk.read(4093, 37, part.data()).ok());
  EXPECT_EQ(0, memcmp(part.data(), c.disk->image.data() + 4093 * 512, part.size()));
  EXPECT_EQ(blk.stats().max_in_flight, l.in_flight);
  EXPECT_EQ(rig.m.backend_requests(), blk.stats().requests) << "one ring request per request, indirect or not";
  const uint64_t pages_read = (c.disk->image.size() + kPageSize - 1) / kPageSize;
  EXPECT_GE(blk.stats().requests, (pages_read + l.segments - 1) / l.segments);
  // Persistent grants: blkback holds the ring, data and indirect pages mapped.
  unsigned held = 0;
  for (const model::GrantInfo& g : rig.m.active_grants()) held += (g.flags & GTF_writing) != 0;
  EXPECT_GE(held, l.ring_pages + l.in_flight) << "ring, data and indirect pages held mapped";
  if (l.indirect) {
    const GrantRef ind = blk.grant_of(l.ring_pages + l.data_pages);
    bool found = false;
    for (const model::GrantInfo& g : rig.m.active_grants())
      if (g.ref == ind) found = (g.flags & GTF_writing) != 0;
    EXPECT_TRUE(found) << "the first indirect page is a persistent grant blkback holds";
  }
  EXPECT_EQ(rig.m.active_grants().size(), l.pages()) << "every page granted once";

  const uint32_t port = blk.port();
  ASSERT_TRUE(blk.disconnect().ok());
  EXPECT_EQ(rig.m.backend_state(), XenbusStateInitWait) << "ready for Linux's blkfront";
  EXPECT_EQ(rig.gnt->granted_total(), l.pages());
  EXPECT_EQ(rig.gnt->ended_total(), rig.gnt->granted_total());
  EXPECT_EQ(left_behind(rig, port), "");
  ASSERT_TRUE(rig.gnt->close().ok());
  EXPECT_TRUE(rig.m.grant_frame_gfns().empty());
  model::HandoverView view;
  view.ram = rig.ram;
  EXPECT_TRUE(model::check_no_foreign_access(rig.m, view).empty());
}

const BlkfrontOptions kMost{BlkfrontOptions::kMaxRingOrder, 32, BlkfrontOptions::kMaxInFlight,
                           BlkfrontOptions::kMaxDataPages};
const BlkfrontOptions kRingOnly{2, 0, BlkfrontOptions::kMaxInFlight, BlkfrontOptions::kMaxDataPages};
const BlkfrontOptions kIndirectOnly{0, 32, BlkfrontOptions::kMaxInFlight, BlkfrontOptions::kMaxDataPages};
INSTANTIATE_TEST_SUITE_P(
    Offers, BlkfrontVariants,
    testing::Values(Variant{"neither_offered", 0, 0, kMost, 1, 0},
                    Variant{"ring_offered", 2, 0, kMost, 4, 0},
                    Variant{"ring_order1_offered", 1, 0, kMost, 2, 0},
                    Variant{"indirect_offered", 0, 256, kMost, 1, 32},
                    Variant{"both_offered", 4, 256, kMost, 4, 32},
                    Variant{"both_offered_ring_asked", 4, 256, kRingOnly, 4, 0},
                    Variant{"both_offered_indirect_asked", 4, 256, kIndirectOnly, 1, 32},
                    Variant{"both_offered_one_page", 4, 256, BlkfrontOptions{0, 0, 16, 176}, 1, 0},
                    Variant{"both_offered_big_indirect", 4, 256, BlkfrontOptions{1, 256, 64, 704}, 2, 256},
                    Variant{"neither_offered_defaults", 0, 0, BlkfrontOptions{}, 1, 0},
                    Variant{"ring_offered_defaults", 4, 0, BlkfrontOptions{}, 2, 0},
                    Variant{"both_offered_defaults", 4, 256, BlkfrontOptions{}, 2, 32}),
    [](const testing::TestParamInfo<Variant>& i) { return std::string(i.param.name); });

TEST(Blkfront, AnUnreadableOfferIsNoOffer) {
  DomainConfig c = xl_with_disk(1u << 20);
  c.disk->max_ring_page_order = 2;
  c.disk->max_indirect_segments = 256;
  Rig rig(c);
  rig.m.xenstore_write("/local/domain/0/backend/vbd/1/51712/max-ring-page-order", "lots");
  rig.m.xenstore_write("/local/domain/0/backend/vbd/1/51712/feature-max-indirect-segments", "-1");
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  ASSERT_TRUE(blk.connect(rig.pages(), 0, 2000, kMost).ok());
  EXPECT_EQ(blk.layout().ring_pages, 1u);
  EXPECT_FALSE(blk.layout().indirect);
  std::vector<uint8_t> got(c.disk->image.size());
  ASSERT_TRUE(blk.read(0, blk.sector_count(), got.data()).ok());
  EXPECT_TRUE(got == c.disk->image);
  ASSERT_TRUE(blk.disconnect().ok());
  EXPECT_EQ(left_behind(rig, 0), "");
}

TEST(Blkfront, IndirectResponsesAreCheckedAsDirectOnesAre) {
  using Bend = void (*)(model::BlkbackResponse&);
  // An id past the 32nd: only a 64-bit answered mask tells it from a real one.
  const std::pair<Bend, const char*> kWays[] = {
      {[](model::BlkbackResponse& rsp) { rsp.id = 40; }, "blkif-response"},
      {[](model::BlkbackResponse& rsp) { rsp.operation = BLKIF_OP_WRITE; }, "blkif-response"},
      {[](model::BlkbackResponse& rsp) { rsp.status = BLKIF_RSP_ERROR; }, "disk-read"},
  };
  for (const auto& [bend, check] : kWays) {
    DomainConfig c = xl_with_disk(1u << 20);
    c.disk->max_ring_page_order = 2;
    c.disk->max_indirect_segments = 256;
    Rig rig(c);
    ASSERT_TRUE(rig.open_grants().ok());
    Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
    ASSERT_TRUE(blk.connect(rig.pages(), 0, 2000, kMost).ok());
    ASSERT_TRUE(blk.layout().indirect);
    rig.m.set_blkback_response_filter(bend);
    std::vector<uint8_t> got(c.disk->image.size());
    auto r = blk.read(64, blk.sector_count() - 64, got.data());
    ASSERT_FALSE(r.ok());
    EXPECT_STREQ(r.error().check, check);
    if (std::string(check) == "disk-read") {
      EXPECT_NE(std::string(r.error().detail).find("sector 64:"), std::string::npos) << r.error().detail;
    }
    rig.m.set_blkback_response_filter(nullptr);
    ASSERT_TRUE(blk.disconnect().ok());
    EXPECT_EQ(left_behind(rig, 0), "");
  }
}

// The broken variant: a teardown that forgets an indirect page's grant.
// The checks the variants above pass must catch it at that page's GFN, the
// validator's no-foreign-access too, and blkback's late DMA lands there.
TEST(Blkfront, AnIndirectPageLeftGrantedIsCaughtAtItsGfn) {
  DomainConfig c = xl_with_disk(1u << 20);
  c.disk->max_indirect_segments = 256;
  Rig rig(c);
  ASSERT_TRUE(rig.open_grants().ok());
  Blkfront blk(rig.m.hypercalls(), rig.mem, rig.cpu, *rig.xs, *rig.gnt);
  ASSERT_TRUE(blk.connect(rig.pages(), 0, 2000, kIndirectOnly).ok());
  ASSERT_TRUE(blk.layout().indirect);
  std::vector<uint8_t> got(c.disk->image.size());
  ASSERT_TRUE(blk.read(0, blk.sector_count(), got.data()).ok());
  const unsigned index = blk.layout().ring_pages + blk.layout().data_pages;  // the first indirect page
  const Gfn gfn{rig.pages().base.gfn().value + index};
  const uint32_t port = blk.port();
  ASSERT_TRUE(blk.disconnect().ok());
  ASSERT_EQ(left_behind(rig, port), "");
  // What a blkfront that never ended it would leave: the page granted to dom0.
  auto kept = rig.gnt->grant(0, gfn, false);
  ASSERT_TRUE(kept.ok());
  const std::string why = left_behind(rig, port);
  char want[64];
  snprintf(want, sizeof want, "on GFN %#lx valid", gfn.value);
  EXPECT_NE(why.find(want), std::string::npos) << why;
  model::HandoverView view;
  view.ram = rig.ram;
  const auto findings = model::check_no_foreign_access(rig.m, view);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].first, gfn);
  EXPECT_EQ(findings[0].owner_a, "linux (free RAM)");
  // Time passes: dom0's late DMA lands in the page Linux would get as free.
  std::vector<uint8_t> before(kPageSize), after(kPageSize);
  ASSERT_TRUE(rig.mem.read(gfn.addr(), before.data(), kPageSize).ok());
  rig.m.tick();
  ASSERT_TRUE(rig.mem.read(gfn.addr(), after.data(), kPageSize).ok());
  EXPECT_NE(before, after) << "blkback wrote into the forgotten indirect page";
  ASSERT_TRUE(rig.gnt->end(*kept).ok());
  ASSERT_TRUE(rig.gnt->close().ok());
}

}  // namespace
}  // namespace mb::pv
