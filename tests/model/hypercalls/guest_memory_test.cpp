// Guest memory through the P2M: faults, traps, holds, rollback, Xen's tick
// writes, and the cost of a big guest.
#include <cstring>
#include <numeric>

#include "fixtures.h"

namespace mb::model::testing {
namespace {

TEST(GuestMemory, WriteToAHoleFaultsWithoutCrashing) {
  Model m(dom0less());
  const Gfn g = ram_gfn(9);
  ASSERT_TRUE(xen::remove_from_physmap(m.hypercalls(), g).ok());
  uint64_t v = 42;
  auto r = m.memory("loader").write(g.addr() + 8, &v, sizeof v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kMemoryFault);
  EXPECT_STREQ(r.error().check, "guest-memory-fault");
  EXPECT_NE(std::strstr(r.error().detail, "0x40009"), nullptr) << r.error().detail;
  ASSERT_EQ(m.faults().size(), 1u);
  const Fault f = m.faults()[0];  // faults() returns a copy
  EXPECT_EQ(f.kind, FaultKind::kHole);
  EXPECT_EQ(f.gfn, g);
  EXPECT_EQ(f.accessor, "loader");
  EXPECT_TRUE(f.write);
}

TEST(GuestMemory, NeverMappedGfnFaultsAsUnmapped) {
  Model m(dom0less());
  uint8_t b = 0;
  auto r = m.memory().read(slot_gfn().addr(), &b, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(m.faults().at(0).kind, FaultKind::kUnmapped);
  // Past the end of RAM and past any IPA: still a fault, never a crash.
  EXPECT_FALSE(m.memory().read(board::kRam0.base + (uint64_t{1} << 30), &b, 1).ok());
  EXPECT_FALSE(m.memory().read(GuestPhys{~uint64_t{0}}, &b, 1).ok());
  EXPECT_FALSE(m.memory().fill(GuestPhys{~uint64_t{0} - 10}, 0, 100).ok());
  EXPECT_EQ(m.faults().size(), 4u);
}

TEST(GuestMemory, ReadOnlyPageTrapsOnWrite) {
  Model m(dom0less());
  const Gfn g = ram_gfn(11);
  m.map_page(g, P2mEntry{m.zero_page(), PageType::kRamRo, Owner::kXen});
  uint8_t b = 1;
  ASSERT_TRUE(m.memory().read(g.addr(), &b, 1).ok());
  EXPECT_EQ(b, 0);
  auto r = m.memory().write(g.addr(), &b, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(m.faults().at(0).kind, FaultKind::kReadOnly);
  EXPECT_FALSE(m.memory().fill(g.addr(), 0xff, kPageSize).ok());
  uint8_t z = 0xaa;
  m.read_mfn(m.zero_page(), 0, &z, 1);
  EXPECT_EQ(z, 0);
  // The same page aliased as device memory is writable: the bug the
  // ro-stays-ro invariant exists for. The model lets it happen, visibly.
  m.map_page(ram_gfn(12), P2mEntry{m.zero_page(), PageType::kMmio, Owner::kXen});
  b = 0x5a;
  ASSERT_TRUE(m.memory().write(ram_gfn(12).addr(), &b, 1).ok());
  m.read_mfn(m.zero_page(), 0, &z, 1);
  EXPECT_EQ(z, 0x5a);
}

TEST(GuestMemory, HeldRangeIsBusyForOthersOnly) {
  Model m(dom0less());
  const PhysRange dma{ram_gfn(100).addr(), 2 * kPageSize};
  ASSERT_TRUE(m.hold("dma", dma));
  EXPECT_FALSE(m.hold("linux", PhysRange{dma.base + kPageSize, kPageSize}));
  EXPECT_TRUE(m.hold("dma", dma));  // its own again: fine
  uint32_t v = 7;
  auto r = m.memory("linux").write(dma.base + kPageSize + 4, &v, sizeof v);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBusy);
  ASSERT_EQ(m.faults().size(), 1u);
  EXPECT_EQ(m.faults()[0].kind, FaultKind::kBusy);
  EXPECT_EQ(m.faults()[0].gfn, ram_gfn(101));
  EXPECT_EQ(m.faults()[0].accessor, "linux");
  EXPECT_TRUE(m.memory("dma").write(dma.base, &v, sizeof v).ok());
  EXPECT_FALSE(m.memory("linux").read(dma.base, &v, sizeof v).ok());
  EXPECT_EQ(m.holds().size(), 2u);
  m.release("dma", dma);
  m.release("dma", dma);
  EXPECT_TRUE(m.holds().empty());
  EXPECT_TRUE(m.memory("linux").write(dma.base + kPageSize + 4, &v, sizeof v).ok());
}

TEST(GuestMemory, PartialMultiPageWriteRollsBackCompletely) {
  Model m(dom0less());
  const Gfn first = ram_gfn(200);
  ASSERT_TRUE(m.memory().fill(first.addr(), 0x11, 4 * kPageSize).ok());
  ASSERT_TRUE(xen::remove_from_physmap(m.hypercalls(), first + 3).ok());
  std::vector<uint8_t> data(4 * kPageSize, 0x22);
  EXPECT_FALSE(m.memory().write(first.addr() + 100, data.data(), data.size() - 200).ok());
  EXPECT_FALSE(m.memory().fill(first.addr(), 0x33, 4 * kPageSize).ok());
  EXPECT_FALSE(m.memory().copy(first.addr(), board::kRam0.base, 4 * kPageSize).ok());
  // The three pages before the hole are as they were.
  EXPECT_TRUE(m.pages_not_filled_with(range_of_pages(first, 3), 0x11).empty());
  EXPECT_EQ(m.faults().size(), 3u);
  for (const auto& f : m.faults()) EXPECT_EQ(f.gfn, first + 3);
}

TEST(GuestMemory, CopyHasMemmoveSemanticsAcrossPages) {
  Model m(dom0less());
  auto& mem = m.memory();
  std::vector<uint8_t> src(3 * kPageSize);
  std::iota(src.begin(), src.end(), uint8_t{0});
  const GuestPhys a = ram_gfn(300).addr() + 10;
  ASSERT_TRUE(mem.write(a, src.data(), src.size()).ok());
  ASSERT_TRUE(mem.copy(a + 1000, a, src.size()).ok());  // overlapping, upwards
  std::vector<uint8_t> out(src.size());
  ASSERT_TRUE(mem.read(a + 1000, out.data(), out.size()).ok());
  EXPECT_EQ(out, src);
  ASSERT_TRUE(mem.copy(a, a + 1000, src.size()).ok());  // back down
  ASSERT_TRUE(mem.read(a, out.data(), out.size()).ok());
  EXPECT_EQ(out, src);
  auto v = mem.view(a, 16);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::memcmp(*v, src.data(), 16), 0);
}

TEST(GuestMemory, MagicAndMmioPagesAreReadable) {
  Model m(xl());
  uint8_t buf[16];
  EXPECT_TRUE(m.memory().read(Model::magic_gfn(0).addr(), buf, sizeof buf).ok());
  EXPECT_TRUE(m.memory().read(board::kVpl011.base, buf, 4).ok());
  EXPECT_TRUE(m.faults().empty());
}

TEST(Tick, LandsInTheSharedInfoMachinePageWhereverItIsMapped) {
  Model m(dom0less());
  // Not mapped: Xen still updates its own page.
  m.tick();
  shared_info_t si;
  m.read_mfn(m.shared_info_mfn(), 0, &si, sizeof si);
  EXPECT_EQ(si.wc_version, 4u);
  // The U-Boot way: shared_info on a RAM page; the guest sees every tick there.
  const Gfn g = ram_gfn(64);
  ASSERT_TRUE(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_shared_info, 0, g).ok());
  EXPECT_EQ(read_wc_version(m.memory(), g), 4u);
  m.tick();
  m.tick();
  EXPECT_EQ(read_wc_version(m.memory(), g), 8u);
  EXPECT_EQ(m.ticks(), 3u);
  // A guest write there lands in Xen's page.
  uint32_t scribble = 0xdeadbeef;
  ASSERT_TRUE(m.memory("linux").write(g.addr() + offsetof(shared_info_t, wc_sec), &scribble, 4).ok());
  m.read_mfn(m.shared_info_mfn(), 0, &si, sizeof si);
  EXPECT_EQ(si.wc_sec, scribble);
  // And an alias made behind Xen's back sees the writes too.
  m.map_page(ram_gfn(65), P2mEntry{m.shared_info_mfn(), PageType::kRamRw, Owner::kGuest});
  m.tick();
  EXPECT_EQ(read_wc_version(m.memory(), ram_gfn(65)), 10u);
  EXPECT_EQ(m.xen_written_gfns(), (std::vector<Gfn>{g, ram_gfn(65)}));
  EXPECT_FALSE(m.pages_not_filled_with(range_of_pages(ram_gfn(65), 1), 0).empty());
}

TEST(Sparse, FourGiBGuestCostsOnlyWhatIsTouched) {
  Model m(dom0less(uint64_t{4} << 30));
  auto banks = m.ram();
  ASSERT_EQ(banks.count, 2u);
  EXPECT_EQ(banks.bank[1].base, board::kRam1.base);
  EXPECT_EQ(m.tot_pages(), (uint64_t{4} << 30) >> kPageShift);
  // Only Xen's own shared_info page is materialised at start.
  const size_t base = m.touched_pages();
  EXPECT_LE(base, 1u);
  // A few writes materialise a few pages.
  for (uint64_t i = 0; i < 10; ++i) {
    uint64_t v = i + 1;  // nonzero: writing zeros to a zero page changes nothing
    ASSERT_TRUE(m.memory().write(banks.bank[i % 2].base + i * 0x1000000 + 8, &v, sizeof v).ok());
  }
  EXPECT_EQ(m.touched_pages(), base + 10);
  // A pattern fill of all RAM stays compact, and can be verified quickly.
  for (unsigned b = 0; b < banks.count; ++b) ASSERT_TRUE(m.memory("linux").fill(banks.bank[b].base, 0xa5, banks.bank[b].size).ok());
  EXPECT_EQ(m.touched_pages(), base);
  EXPECT_LT(m.host_bytes(), size_t{64} << 10);
  for (unsigned b = 0; b < banks.count; ++b) EXPECT_TRUE(m.pages_not_filled_with(banks.bank[b], 0xa5).empty());
  m.tick();
  // Untouched pages read zero; a whole-page write of one byte stays compact.
  Model n(dom0less(uint64_t{4} << 30));
  std::vector<uint8_t> page(kPageSize, 0x77);
  ASSERT_TRUE(n.memory().write(ram_gfn(5).addr(), page.data(), page.size()).ok());
  EXPECT_EQ(n.touched_pages(), base);
  uint64_t v = 1;
  ASSERT_TRUE(n.memory().read(banks.bank[1].base + 12345 * kPageSize, &v, sizeof v).ok());
  EXPECT_EQ(v, 0u);
  auto odd = n.pages_not_filled_with(range_of_pages(ram_gfn(0), 10), 0);
  EXPECT_EQ(odd, std::vector<Gfn>{ram_gfn(5)});
}

}  // namespace
}  // namespace mb::model::testing
