// shared_info in GUEST_MAGIC: where to put it, mapping it, reading it, and
// removing it before the jump. The whole point of magicboot: the page never
// lies in RAM, and nothing of Xen's is left mapped when Linux starts.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/platform.h"

namespace mb::magic {

// Where shared_info's GFN came from, in the order they are tried.
enum class SlotSource : uint8_t {
  kParam,           // HVM_PARAM_SHARED_INFO_PFN (our Xen patch; 0 = not offered)
  kDtProperty,      // /hypervisor xen,shared-info-gfn alone (the patch's DT copy of the param)
  kExtendedRegion,  // a page of the first extended region in /hypervisor reg (Xen >= 4.16/4.17)
  kFallback,        // neither: CONFIG_SHARED_INFO_MAGIC_OFFSET pages into GUEST_MAGIC
};
const char* to_string(SlotSource s);

struct Slot {
  Gfn gfn;
  SlotSource source;
};

// What the domain looks like, for choosing and judging a slot.
struct SlotRules {
  PhysRange magic;                              // GUEST_MAGIC
  unsigned fallback_offset = 0;                 // pages into it
  std::span<const PhysRange> ram;
  PhysRange grant_table;                        // /hypervisor reg[0]
  std::span<const PhysRange> extended_regions;  // /hypervisor reg[1..]
  Gfn dt_offer{};                               // /hypervisor xen,shared-info-gfn; 0: absent
  // Pages the toolstack populated: the first `toolstack_pages` of GUEST_MAGIC
  // (xg_dom_arm.c's NR_MAGIC_PAGES) and the console and xenstore PFNs the
  // params name (0: none).
  unsigned toolstack_pages = 0;
  uint64_t console_pfn = 0, store_pfn = 0;
};

// The page an extended region offers shared_info: the last whole page of
// the first region that has one. Gfn{0} when there is none. A pure function
// of the DT, so the firmware can map that page before the loader asks.
Gfn extended_region_page(std::span<const PhysRange> regions);

// Asks Xen for the shared_info GFN (the param; -EINVAL or 0: not offered),
// else takes the DT's xen,shared-info-gfn, else extended_region_page(), else
// GUEST_MAGIC + fallback_offset. Xen offering two different GFNs (param and
// DT) is refused ("shared-info-param-dt-mismatch"): neither can be trusted.
// Whatever the source, a GFN is refused (kBadInput, naming the GFN, its
// source and what it hit) when it lies in RAM ("shared-info-gfn-in-ram"), in
// the grant-table region ("shared-info-gfn-in-grant-table"), on a page the
// toolstack populated ("shared-info-gfn-on-toolstack-page"), or -- for
// Xen's offer and the fallback -- outside GUEST_MAGIC ("shared-info-gfn-
// outside-magic"). Any other answer to the param fails ("shared-info-param").
Res<Slot> find_slot(Hypercalls& h, const SlotRules& rules);

struct Wallclock {
  uint32_t version;  // odd while Xen updates it
  uint64_t sec;
  uint32_t nsec;
};

// The mapping's life: map, use, remove; and the one record of where it is.
// Not copyable: one mapping, one owner (a move hands the record on).
class SharedInfo {
 public:
  SharedInfo() = default;
  SharedInfo(const SharedInfo&) = delete;
  SharedInfo& operator=(const SharedInfo&) = delete;
  SharedInfo(SharedInfo&&) = default;
  SharedInfo& operator=(SharedInfo&&) = default;

  // XENMEM_add_to_physmap(XENMAPSPACE_shared_info) at slot.gfn. The slot is
  // recorded first: a refused map still says where it was tried.
  Res<void> map(Hypercalls& h, Slot slot);
  // Reads the wallclock through the mapping (retries while Xen updates it).
  Res<Wallclock> wallclock(GuestMemory& mem) const;
  // XENMEM_remove_from_physmap. A failure must stop the boot: Linux's own
  // mapping would then fail with -EBUSY on Xen >= 4.17.
  Res<void> remove(Hypercalls& h);

  bool has_slot() const { return has_slot_; }
  bool mapped() const { return mapped_; }
  bool removed() const { return removed_; }
  const Slot& slot() const { return slot_; }

 private:
  Slot slot_{};
  bool has_slot_ = false;
  bool mapped_ = false;
  bool removed_ = false;
};

}  // namespace mb::magic
