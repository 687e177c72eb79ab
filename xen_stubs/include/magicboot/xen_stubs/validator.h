// The handover validator: the invariant catalogue of ARCHITECTURE.md, each a
// detector over the model's state and what the loader hands over.
// Detectors only read: the model's const introspection API and the view.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "magicboot/addr.h"
#include "magicboot/boards/region.h"
#include "magicboot/xen_stubs/model.h"

namespace mb::model {

// What a strategy hands the next stage: what the outgoing DT says.
struct HandoverView {
  boards::RamBanks ram;                 // the memory nodes the kernel is told
  std::vector<PhysRange> reserved;      // /reserved-memory and memreserve
  PhysRange kernel;                     // [load address, + image_size)
  GuestPhys kernel_entry;               // arm64: the first byte of the image
  uint64_t kernel_text_offset = 0;      // kernel.base - text_offset must be 2 MiB aligned
  PhysRange dtb;
  PhysRange initrd;                     // empty if none
  // The loader's (and any hypervisor's) own image, stack and heap: must be
  // reserved if they lie in RAM the kernel is told about.
  std::vector<std::pair<std::string, PhysRange>> own_ranges;
};

struct Finding {
  std::string invariant;    // "no-xen-page-in-ram", ...
  Gfn first;
  uint64_t count = 1;       // pages
  std::string owner_a;      // e.g. "linux (free RAM)"
  std::string owner_b;      // e.g. "xen (shared_info)"
  std::string explanation;  // one line
};

// Formats "invariant: GFN 0x...(+n) owner_a vs owner_b: explanation".
std::string to_string(const Finding& f);

// The seven invariants, by name, in catalogue order.
inline constexpr const char* kInvariants[] = {
    "no-xen-page-in-ram", "no-ram-hole",        "image-outside-free-ram", "ro-stays-ro",
    "addressable-layout", "exclusive-access",   "no-foreign-access",
};

std::vector<Finding> check_no_xen_page_in_ram(const Model& m, const HandoverView& h);
std::vector<Finding> check_no_ram_hole(const Model& m, const HandoverView& h);
std::vector<Finding> check_image_outside_free_ram(const Model& m, const HandoverView& h);
std::vector<Finding> check_ro_stays_ro(const Model& m, const HandoverView& h);
std::vector<Finding> check_addressable_layout(const Model& m, const HandoverView& h);
std::vector<Finding> check_exclusive_access(const Model& m, const HandoverView& h);
std::vector<Finding> check_no_foreign_access(const Model& m, const HandoverView& h);

// The detectors by name, in catalogue order (same order as kInvariants).
struct Detector {
  const char* invariant;
  std::vector<Finding> (*check)(const Model&, const HandoverView&);
};
inline constexpr Detector kDetectors[] = {
    {"no-xen-page-in-ram", check_no_xen_page_in_ram},
    {"no-ram-hole", check_no_ram_hole},
    {"image-outside-free-ram", check_image_outside_free_ram},
    {"ro-stays-ro", check_ro_stays_ro},
    {"addressable-layout", check_addressable_layout},
    {"exclusive-access", check_exclusive_access},
    {"no-foreign-access", check_no_foreign_access},
};

// All seven, in catalogue order.
std::vector<Finding> validate(const Model& m, const HandoverView& h);

// The findings of one invariant.
std::vector<Finding> findings_of(const std::vector<Finding>& all, const std::string& invariant);

// The Linux-like next stage (see ARCHITECTURE.md): map its own shared_info
// on a RAM page it allocates (as xen_guest_init does; EBUSY -> the BUG Linux
// would hit), register its vcpu_info likewise, write a pattern to every page
// it believes free, let Xen tick, verify every page.
struct NextStageResult {
  bool xen_guest_init_ok = false;
  std::string bug;                   // what Linux would have died of, if anything
  uint64_t pages_written = 0;
  uint64_t pages_verified = 0;
  std::vector<Finding> corruption;   // invariant "corruption": a write that landed in the other party's page
  std::vector<Finding> faults;       // accesses that would crash Linux (invariant "no-ram-hole" or
                                     // "exclusive-access"): "Linux touched GFN x: hole -> would crash"
  bool clean() const { return xen_guest_init_ok && bug.empty() && corruption.empty() && faults.empty(); }
};
NextStageResult run_next_stage(Model& m, const HandoverView& h);

}  // namespace mb::model
