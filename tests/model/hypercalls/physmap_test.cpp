// XENMEM add_to_physmap / remove_from_physmap / populate_physmap as Xen 4.17
// on Arm answers them.
#include "fixtures.h"

namespace mb::model::testing {
namespace {

using xen::Errno;

TEST(Physmap, SharedInfoMappedIntoMagicReadsAsSharedInfo) {
  Model m(dom0less());
  ASSERT_FALSE(m.lookup(slot_gfn()));
  ASSERT_TRUE(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_shared_info, 0, slot_gfn()).ok());
  auto e = m.lookup(slot_gfn());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mfn, m.shared_info_mfn());
  EXPECT_EQ(e->type, PageType::kXenShared);
  EXPECT_EQ(e->owner, Owner::kXen);
  EXPECT_EQ(m.shared_info_gfn(), slot_gfn());
  // Real Xen 4.17 showed wc_version == 2 on first read.
  EXPECT_EQ(read_wc_version(m.memory("loader"), slot_gfn()), 2u);
  EXPECT_EQ(m.leaked_pages(), 0u);
  EXPECT_EQ(m.xen_written_gfns(), std::vector<Gfn>{slot_gfn()});
}

TEST(Physmap, SecondSharedInfoMappingIsBusyEvenAtTheSameGfn) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  ASSERT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, slot_gfn()).ok());
  // Linux's xen_guest_init maps it on a RAM page of its own: EBUSY, its BUG().
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, ram_gfn(100))), Errno::kEBUSY);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, slot_gfn())), Errno::kEBUSY);
  EXPECT_EQ(m.lookup(ram_gfn(100))->type, PageType::kRamRw);  // untouched by the refusal
  // Unmapped first, it may be mapped again: what Linux needs from a loader.
  ASSERT_TRUE(xen::remove_from_physmap(h, slot_gfn()).ok());
  EXPECT_FALSE(m.shared_info_gfn());
  EXPECT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, ram_gfn(100)).ok());
  EXPECT_EQ(m.shared_info_gfn(), ram_gfn(100));
}

TEST(Physmap, SharedInfoOnRamReplacesAndLeaksThePage) {
  Model m(dom0less());
  const Gfn g = ram_gfn(7);
  const Mfn ram_mfn = m.lookup(g)->mfn;
  const uint64_t tot = m.tot_pages();
  uint32_t stamp = 0xfeedf00d;
  ASSERT_TRUE(m.memory().write(g.addr(), &stamp, sizeof stamp).ok());

  ASSERT_TRUE(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_shared_info, 0, g).ok());
  EXPECT_EQ(m.lookup(g)->mfn, m.shared_info_mfn());
  EXPECT_EQ(m.leaked_pages(), 1u);
  EXPECT_EQ(m.tot_pages(), tot);  // still the domain's, but unreachable
  EXPECT_EQ(m.mfn_info(ram_mfn).owner, Owner::kGuest);
  // The guest now reads shared_info there; its own data is only in the lost page.
  EXPECT_EQ(read_wc_version(m.memory(), g), 2u);
  uint32_t lost = 0;
  m.read_mfn(ram_mfn, 0, &lost, sizeof lost);
  EXPECT_EQ(lost, stamp);
  EXPECT_EQ(m.xen_written_gfns(), std::vector<Gfn>{g});
}

TEST(Physmap, RemoveLeavesAHoleAndEmptyGfnIsEnoent) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  const Gfn g = ram_gfn(3);
  ASSERT_TRUE(xen::remove_from_physmap(h, g).ok());
  EXPECT_TRUE(m.is_hole(g));
  EXPECT_FALSE(m.lookup(g));
  EXPECT_EQ(m.leaked_pages(), 1u);
  EXPECT_EQ(error_of(xen::remove_from_physmap(h, g)), Errno::kENOENT);
  // Never mapped: ENOENT, and not a hole.
  EXPECT_EQ(error_of(xen::remove_from_physmap(h, slot_gfn())), Errno::kENOENT);
  EXPECT_FALSE(m.is_hole(slot_gfn()));
  // vpl011 is emulated: no page to remove.
  EXPECT_EQ(error_of(xen::remove_from_physmap(h, board::kVpl011.base.gfn())), Errno::kENOENT);
  // A read of the removed GFN takes a fault (real Xen: data abort).
  uint8_t b;
  auto r = m.memory().read(g.addr(), &b, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kMemoryFault);
  ASSERT_EQ(m.faults().size(), 1u);
  EXPECT_EQ(m.faults()[0].kind, FaultKind::kHole);
  EXPECT_EQ(m.faults()[0].gfn, g);
}

TEST(Physmap, RemovingSharedInfoFromMagicLeavesNoRamChange) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  ASSERT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, slot_gfn()).ok());
  ASSERT_TRUE(xen::remove_from_physmap(h, slot_gfn()).ok());
  EXPECT_FALSE(m.shared_info_gfn());
  EXPECT_TRUE(m.xen_written_gfns().empty());
  EXPECT_EQ(m.leaked_pages(), 0u);
  EXPECT_EQ(m.tot_pages(), m.max_pages());
}

TEST(Physmap, PopulateRefillFailsOnDom0less) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  ASSERT_EQ(m.tot_pages(), m.max_pages());  // dom0less: exactly the memory size
  const Gfn g = ram_gfn(5);
  ASSERT_TRUE(xen::remove_from_physmap(h, g).ok());
  xen_pfn_t list[1] = {g.value};
  auto r = xen::populate_physmap(h, list, 1, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);  // Xen answers the extents done: none, no headroom
  EXPECT_TRUE(m.is_hole(g));
}

TEST(Physmap, PopulateRefillSucceedsOnXlUpToMaxPages) {
  Model m(xl());
  auto& h = m.hypercalls();
  ASSERT_GT(m.max_pages(), m.tot_pages());
  const Gfn g = ram_gfn(5);
  ASSERT_TRUE(xen::remove_from_physmap(h, g).ok());
  xen_pfn_t list[1] = {g.value};
  auto r = xen::populate_physmap(h, list, 1, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  EXPECT_FALSE(m.is_hole(g));
  EXPECT_EQ(m.lookup(g)->type, PageType::kRamRw);
  uint64_t v = 1;
  ASSERT_TRUE(m.memory().read(g.addr(), &v, sizeof v).ok());
  EXPECT_EQ(v, 0u);
  // Bounded: asking for more than the headroom gets only the headroom.
  uint64_t headroom = m.max_pages() - m.tot_pages();
  std::vector<xen_pfn_t> many(headroom + 10);
  for (size_t i = 0; i < many.size(); ++i) many[i] = ram_gfn(1000 + i).value;
  r = xen::populate_physmap(h, many.data(), many.size(), 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, headroom);
  EXPECT_EQ(m.tot_pages(), m.max_pages());
  // Orders above Xen's domU maximum are refused outright.
  r = xen::populate_physmap(h, list, 1, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
}

TEST(Physmap, GrantFramesMapLikeSharedInfo) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  const Gfn g = board::kGntTab.base.gfn();
  ASSERT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_grant_table, 0, g).ok());
  EXPECT_EQ(m.lookup(g)->type, PageType::kXenShared);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_grant_table, 0, g + 1)), Errno::kEBUSY);
  EXPECT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_grant_table, 3, g + 3).ok());  // grows the table
  EXPECT_EQ(xen::gnttab_query_size(h)->nr_frames, 4u);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_grant_table, kMaxGrantFrames, g)), Errno::kEINVAL);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_grant_table, XENMAPIDX_grant_table_status, g)),
            Errno::kEINVAL);
  EXPECT_EQ(m.xen_written_gfns(), (std::vector<Gfn>{g, g + 3}));
}

TEST(Physmap, BadSpacesAndArgumentsGetXensErrors) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 1, slot_gfn())), Errno::kEINVAL);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_gmfn, ram_gfn(1).value, ram_gfn(2))), Errno::kENOSYS);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, 77, 0, ram_gfn(2))), Errno::kENOSYS);
  EXPECT_EQ(error_of(xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, Gfn{uint64_t{1} << 40})), Errno::kEINVAL);
  EXPECT_FALSE(m.shared_info_gfn());
  // Another domain: no such domain here.
  xen_add_to_physmap_t x{};
  x.domid = 0;
  x.space = XENMAPSPACE_shared_info;
  x.gpfn = slot_gfn().value;
  EXPECT_EQ(h.call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, reinterpret_cast<uintptr_t>(&x), 0, 0, 0),
            xen::rc_from_errno(Errno::kESRCH));
}

}  // namespace
}  // namespace mb::model::testing
