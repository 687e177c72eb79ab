// shared_info's slot: the param first (0 means "not offered"), then the last
// page of the first extended region, then the GUEST_MAGIC fallback; and
// whatever the source, a page in RAM, the grant table or the toolstack's
// pages is refused by name. Xen here is the model, configured as each Xen
// answers; the model's extended regions are held to what real Xen 4.17 gave.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "magicboot/magic_pages/shared_info.h"
#include "magicboot/xen_stubs/model.h"

namespace mb::magic {
namespace {

namespace xa = boards::xen_arm64;
using model::DomainConfig;
using model::DomainKind;
using model::Model;
using model::SharedInfoParam;

constexpr uint64_t kMiB = uint64_t{1} << 20;

DomainConfig domain(DomainKind kind, SharedInfoParam param, bool regions, uint64_t ram = 512 * kMiB) {
  DomainConfig c;
  c.kind = kind;
  c.ram_bytes = ram;
  c.shared_info_param = param;
  c.extended_regions = regions;
  return c;
}

// The rules magicboot's open_xen builds, from what the model tells a guest.
struct Rules {
  std::vector<PhysRange> ram, regions;
  SlotRules rules;
  explicit Rules(Model& m) {
    for (unsigned i = 0; i < m.ram().count; ++i) ram.push_back(m.ram().bank[i]);
    regions = m.extended_regions();
    rules.magic = xa::kMagic;
    rules.fallback_offset = xa::kMagicSharedInfoDefault;
    rules.ram = ram;
    rules.grant_table = xa::kGntTab;
    rules.extended_regions = regions;
    if (auto offer = m.shared_info_dt_offer()) rules.dt_offer = *offer;
    if (m.config().kind == DomainKind::kXl) {
      rules.toolstack_pages = xa::kToolstackMagicPages;
      rules.console_pfn = Model::magic_gfn(xa::kMagicConsole).value;
      rules.store_pfn = Model::magic_gfn(xa::kMagicXenstore).value;
    }
  }
};

Res<Slot> slot_of(const DomainConfig& c) {
  Model m(c);
  Rules r(m);
  return find_slot(m.hypercalls(), r.rules);
}

// What Xen 4.17 gave a 512 MiB dom0less domU (REFERENCE.md, from its guest
// DT): the rest of each RAM window, the second up to the P2M's 40 bits.
TEST(ExtendedRegions, TheModelGivesWhatXenGave) {
  Model m(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, true));
  const std::vector<PhysRange> want = {PhysRange{GuestPhys{0x60000000}, 0xa0000000},
                                       PhysRange{GuestPhys{0x200000000}, 0xfe00000000}};
  EXPECT_EQ(m.extended_regions(), want);
}

TEST(ExtendedRegions, AFullWindowGivesNoneAndSmallRestsAreDropped) {
  // 3 GiB fills RAM0's window: only RAM1's rest is offered.
  Model full(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, true, 3072 * kMiB));
  ASSERT_EQ(full.extended_regions().size(), 1u);
  EXPECT_EQ(full.extended_regions()[0].base.value, 0x200000000u);
  // 40 MiB short of the window: under 64 MiB, not offered.
  Model near(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, true, 3072 * kMiB - 40 * kMiB));
  ASSERT_EQ(near.extended_regions().size(), 1u);
  Model none(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, false));
  EXPECT_TRUE(none.extended_regions().empty());
}

TEST(FindSlot, StockXenWithRegionsOffersTheFirstRegionsLastPage) {
  for (DomainKind kind : {DomainKind::kDom0less, DomainKind::kXl}) {
    auto s = slot_of(domain(kind, SharedInfoParam::kAbsent, true));
    ASSERT_TRUE(s.ok()) << s.error().detail;
    EXPECT_EQ(s->source, SlotSource::kExtendedRegion);
    EXPECT_EQ(s->gfn.value, 0xfffffu);  // 0x100000000 - 4 KiB
  }
}

TEST(FindSlot, WithoutRegionsItFallsBackIntoGuestMagic) {
  auto s = slot_of(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, false));
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->source, SlotSource::kFallback);
  EXPECT_EQ(s->gfn, Model::magic_gfn(xa::kMagicSharedInfoDefault));
}

TEST(FindSlot, TheParamWinsOverRegions) {
  DomainConfig c = domain(DomainKind::kXl, SharedInfoParam::kOffered, true);
  c.shared_info_magic_offset = 0xffe;  // another page than the fallback: Xen's value is used
  auto s = slot_of(c);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->source, SlotSource::kParam);
  EXPECT_EQ(s->gfn, Model::magic_gfn(0xffe));
}

TEST(FindSlot, AParamOfZeroOffersNothing) {
  auto with = slot_of(domain(DomainKind::kDom0less, SharedInfoParam::kZero, true));
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with->source, SlotSource::kExtendedRegion);
  auto without = slot_of(domain(DomainKind::kDom0less, SharedInfoParam::kZero, false));
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->source, SlotSource::kFallback);
}

void expect_refused(const Res<Slot>& s, const char* check, const char* part) {
  ASSERT_FALSE(s.ok()) << "accepted GFN " << std::hex << s->gfn.value;
  EXPECT_EQ(s.error().code, ErrorCode::kBadInput);
  EXPECT_STREQ(s.error().check, check);
  EXPECT_NE(std::strstr(s.error().detail, part), nullptr) << s.error().detail;
}

// The patched Xen says it twice, param and DT: both must name the same page.
TEST(FindSlot, TheParamAndTheDtPropertyAgree) {
  DomainConfig c = domain(DomainKind::kDom0less, SharedInfoParam::kOffered, true);
  c.shared_info_magic_offset = 0xff0;
  Model m(c);
  Rules r(m);
  ASSERT_EQ(r.rules.dt_offer, Model::magic_gfn(0xff0));
  auto s = find_slot(m.hypercalls(), r.rules);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->source, SlotSource::kParam);
  EXPECT_EQ(s->gfn, Model::magic_gfn(0xff0));

  r.rules.dt_offer = Model::magic_gfn(0xff1);
  expect_refused(find_slot(m.hypercalls(), r.rules), "shared-info-param-dt-mismatch",
                 "two GFNs: 0x39ff0 (HVM_PARAM_SHARED_INFO_PFN) and 0x39ff1 (/hypervisor xen,shared-info-gfn)");
}

// A DT that names the slot when the param does not (a patched libxl on a
// stock hypervisor): the DT is Xen's word too, and wins over the regions.
TEST(FindSlot, TheDtPropertyAloneWinsOverRegions) {
  Model m(domain(DomainKind::kXl, SharedInfoParam::kAbsent, true));
  Rules r(m);
  EXPECT_EQ(r.rules.dt_offer.value, 0u);
  r.rules.dt_offer = Model::magic_gfn(0xff0);
  auto s = find_slot(m.hypercalls(), r.rules);
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(s->source, SlotSource::kDtProperty);
  EXPECT_STREQ(to_string(s->source), "dt-property");
  EXPECT_EQ(s->gfn, Model::magic_gfn(0xff0));

  r.rules.dt_offer = Gfn{0x40000};
  expect_refused(find_slot(m.hypercalls(), r.rules), "shared-info-gfn-in-ram", "GFN 0x40000 (dt-property) lies in RAM");
  r.rules.dt_offer = Gfn{0x3b000};
  expect_refused(find_slot(m.hypercalls(), r.rules), "shared-info-gfn-outside-magic", "(dt-property) is outside GUEST_MAGIC");
}

// The model writes the DT copy only when the param is offered and its Xen
// (or toolstack) writes it.
TEST(FindSlot, TheModelsDtOffer) {
  EXPECT_EQ(Model(domain(DomainKind::kDom0less, SharedInfoParam::kOffered, true)).shared_info_dt_offer(),
            Model::magic_gfn(xa::kMagicPages - 1));
  EXPECT_FALSE(Model(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, true)).shared_info_dt_offer());
  EXPECT_FALSE(Model(domain(DomainKind::kDom0less, SharedInfoParam::kZero, true)).shared_info_dt_offer());
  DomainConfig stock_libxl = domain(DomainKind::kXl, SharedInfoParam::kOffered, true);
  stock_libxl.shared_info_dt_property = false;
  EXPECT_FALSE(Model(stock_libxl).shared_info_dt_offer());
}

TEST(FindSlotRefuses, AParamInRam) {
  DomainConfig c = domain(DomainKind::kDom0less, SharedInfoParam::kOffered, true);
  c.shared_info_magic_offset = 0x9000;  // GFN 0x42000: RAM
  expect_refused(slot_of(c), "shared-info-gfn-in-ram", "GFN 0x42000 (param) lies in RAM");
}

TEST(FindSlotRefuses, AParamOnTheToolstacksXenstorePage) {
  DomainConfig c = domain(DomainKind::kXl, SharedInfoParam::kOffered, true);
  c.shared_info_magic_offset = xa::kMagicXenstore;
  expect_refused(slot_of(c), "shared-info-gfn-on-toolstack-page", "GFN 0x39001 (param) lies in the toolstack's pages");
}

TEST(FindSlotRefuses, AParamOutsideGuestMagic) {
  DomainConfig c = domain(DomainKind::kDom0less, SharedInfoParam::kOffered, true);
  c.shared_info_magic_offset = 0x2000;  // GFN 0x3b000: no RAM, no magic
  expect_refused(slot_of(c), "shared-info-gfn-outside-magic", "GFN 0x3b000 (param) is outside GUEST_MAGIC");
}

TEST(FindSlotRefuses, ARegionWhoseLastPageIsInRamOrTheGrantTable) {
  Model m(domain(DomainKind::kDom0less, SharedInfoParam::kAbsent, true));
  Rules r(m);
  const std::vector<PhysRange> over_ram = {PhysRange{GuestPhys{0x5f000000}, 0x1000000}};
  r.rules.extended_regions = over_ram;
  expect_refused(find_slot(m.hypercalls(), r.rules), "shared-info-gfn-in-ram", "(extended-region) lies in RAM");
  const std::vector<PhysRange> over_gnttab = {PhysRange{GuestPhys{0x38000000}, 0x1000000}};
  r.rules.extended_regions = over_gnttab;
  expect_refused(find_slot(m.hypercalls(), r.rules), "shared-info-gfn-in-grant-table",
                 "GFN 0x38fff (extended-region) lies in the grant table [0x38000000, 0x39000000)");
}

TEST(FindSlotRefuses, AFallbackOnTheToolstacksPages) {
  Model m(domain(DomainKind::kXl, SharedInfoParam::kAbsent, false));
  Rules r(m);
  r.rules.fallback_offset = xa::kMagicVuart;  // populated by xg_dom_arm.c, named by no param
  expect_refused(find_slot(m.hypercalls(), r.rules), "shared-info-gfn-on-toolstack-page", "(fallback)");
}

TEST(ExtendedRegionPage, TheLastWholePageOfTheFirstRegionThatHasOne) {
  const std::vector<PhysRange> none;
  EXPECT_EQ(extended_region_page(none).value, 0u);
  const std::vector<PhysRange> tiny_then_big = {PhysRange{GuestPhys{0x60000800}, 0x400},
                                                PhysRange{GuestPhys{0x80000000}, 0x10000800}};
  EXPECT_EQ(extended_region_page(tiny_then_big).value, 0x8ffffu) << "unaligned end: the last page wholly inside";
}

}  // namespace
}  // namespace mb::magic
