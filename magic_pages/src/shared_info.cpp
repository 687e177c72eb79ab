#include "magicboot/magic_pages/shared_info.h"

#include "magicboot/hypercall/xen.h"

namespace mb::magic {

const char* to_string(SlotSource s) {
  switch (s) {
    case SlotSource::kParam: return "param";
    case SlotSource::kDtProperty: return "dt-property";
    case SlotSource::kExtendedRegion: return "extended-region";
    case SlotSource::kFallback: return "fallback";
  }
  return "?";
}

Gfn extended_region_page(std::span<const PhysRange> regions) {
  for (const PhysRange& r : regions) {
    const uint64_t end = align_down(r.end().value, kPageSize);
    if (end > r.base.value && end - kPageSize >= r.base.value) return GuestPhys{end - kPageSize}.gfn();
  }
  return Gfn{0};
}

namespace {

Res<Slot> choose(Hypercalls& h, const SlotRules& rules) {
  auto param = xen::get_param(h, HVM_PARAM_SHARED_INFO_PFN);
  if (!param.ok() && param.error() != xen::Errno::kEINVAL)
    return MB_ERR(ErrorCode::kHypercall, "shared-info-param", "HVMOP_get_param(SHARED_INFO_PFN=%u) -> %s",
                  unsigned{HVM_PARAM_SHARED_INFO_PFN}, xen::to_string(param.error()));
  const Gfn offered_param{param.ok() ? *param : 0};
  if (offered_param.value != 0 && rules.dt_offer.value != 0 && offered_param.value != rules.dt_offer.value)
    return MB_ERR(ErrorCode::kBadInput, "shared-info-param-dt-mismatch",
                  "Xen offers shared_info two GFNs: %#lx (HVM_PARAM_SHARED_INFO_PFN) and %#lx "
                  "(/hypervisor xen,shared-info-gfn)",
                  offered_param.value, rules.dt_offer.value);
  if (offered_param.value != 0) return Slot{offered_param, SlotSource::kParam};
  if (rules.dt_offer.value != 0) return Slot{rules.dt_offer, SlotSource::kDtProperty};
  const Gfn offered = extended_region_page(rules.extended_regions);
  if (offered.value != 0) return Slot{offered, SlotSource::kExtendedRegion};
  return Slot{rules.magic.base.gfn() + rules.fallback_offset, SlotSource::kFallback};
}

// One refusal message for every rule: what the page hit, and where that is.
Failure refuse(const char* check, Slot slot, const char* what, PhysRange where) {
  return MB_ERR(ErrorCode::kBadInput, check, "shared_info GFN %#lx (%s) lies in %s [%#lx, %#lx)", slot.gfn.value,
                to_string(slot.source), what, where.base.value, where.end().value);
}

}  // namespace

Res<Slot> find_slot(Hypercalls& h, const SlotRules& rules) {
  const Slot slot = MB_TRY(choose(h, rules));
  const PhysRange page = range_of_pages(slot.gfn, 1);
  for (const PhysRange& bank : rules.ram)
    if (bank.overlaps(page))
      return refuse("shared-info-gfn-in-ram", slot, "RAM (mapping it would replace a RAM page)", bank);
  if (rules.grant_table.overlaps(page)) return refuse("shared-info-gfn-in-grant-table", slot, "the grant table", rules.grant_table);
  const PhysRange toolstack = range_of_pages(rules.magic.base.gfn(), rules.toolstack_pages);
  for (const PhysRange& taken : {toolstack, range_of_pages(Gfn{rules.console_pfn}, rules.console_pfn != 0),
                                 range_of_pages(Gfn{rules.store_pfn}, rules.store_pfn != 0)})
    if (taken.overlaps(page)) return refuse("shared-info-gfn-on-toolstack-page", slot, "the toolstack's pages", taken);
  if (slot.source != SlotSource::kExtendedRegion && !rules.magic.contains(page))
    return MB_ERR(ErrorCode::kBadInput, "shared-info-gfn-outside-magic",
                  "shared_info GFN %#lx (%s) is outside GUEST_MAGIC [%#lx, %#lx)", slot.gfn.value,
                  to_string(slot.source), rules.magic.base.value, rules.magic.end().value);
  return slot;
}

Res<void> SharedInfo::map(Hypercalls& h, Slot slot) {
  slot_ = slot;
  has_slot_ = true;
  auto r = xen::add_to_physmap(h, XENMAPSPACE_shared_info, 0, slot.gfn);
  if (!r.ok())
    return MB_ERR(ErrorCode::kHypercall, "shared-info-map",
                  "XENMEM_add_to_physmap(shared_info, gfn %#lx) -> %s",
                  slot.gfn.value, xen::to_string(r.error()));
  mapped_ = true;
  removed_ = false;
  return {};
}

Res<Wallclock> SharedInfo::wallclock(GuestMemory& mem) const {
  if (!mapped_ || removed_)
    return MB_ERR(ErrorCode::kBadInput, "shared-info-not-mapped", "shared_info is not mapped");
  const GuestPhys base = slot_.gfn.addr();
  // Xen bumps wc_version to odd before an update and to even after.
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint32_t v0 = 0, v1 = 0, sec = 0, nsec = 0, sec_hi = 0;
    MB_CHECK(mem.read(base + offsetof(shared_info_t, wc_version), &v0, sizeof v0));
    MB_CHECK(mem.read(base + offsetof(shared_info_t, wc_sec), &sec, sizeof sec));
    MB_CHECK(mem.read(base + offsetof(shared_info_t, wc_nsec), &nsec, sizeof nsec));
    MB_CHECK(mem.read(base + offsetof(shared_info_t, wc_sec_hi), &sec_hi, sizeof sec_hi));
    MB_CHECK(mem.read(base + offsetof(shared_info_t, wc_version), &v1, sizeof v1));
    if (v0 == v1 && (v0 & 1) == 0)
      return Wallclock{v0, (uint64_t{sec_hi} << 32) | sec, nsec};
  }
  return MB_ERR(ErrorCode::kBusy, "shared-info-wallclock",
                "wc_version at %#lx stayed odd or changing", base.value);
}

Res<void> SharedInfo::remove(Hypercalls& h) {
  if (!mapped_ || removed_) return {};
  auto r = xen::remove_from_physmap(h, slot_.gfn);
  if (!r.ok())
    return MB_ERR(ErrorCode::kHypercall, "shared-info-remove",
                  "XENMEM_remove_from_physmap(gfn %#lx) -> %s: Linux's own mapping would fail "
                  "(-EBUSY on Xen >= 4.17), not jumping",
                  slot_.gfn.value, xen::to_string(r.error()));
  removed_ = true;
  return {};
}

}  // namespace mb::magic
