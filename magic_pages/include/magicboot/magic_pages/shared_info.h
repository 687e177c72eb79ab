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

enum class SlotSource : uint8_t {
  kParam,     // HVM_PARAM_SHARED_INFO_PFN (our proposed extension)
  kFallback,  // Xen answered -EINVAL (upstream 4.17): CONFIG_SHARED_INFO_MAGIC_OFFSET
};
const char* to_string(SlotSource s);

struct Slot {
  Gfn gfn;
  SlotSource source;
};

// Asks Xen for the shared_info GFN; on -EINVAL falls back to
// `magic.base + fallback_offset` pages. Fails if the GFN lies outside
// `magic` or inside any of `ram` (mapping there would replace a RAM page),
// or if Xen answers anything but success or -EINVAL.
Res<Slot> find_slot(Hypercalls& h, PhysRange magic, unsigned fallback_offset,
                    std::span<const PhysRange> ram);

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
