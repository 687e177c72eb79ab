// The device tree Xen gives a domU, built with libfdt's sequential writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "magicboot/addr.h"

namespace mb::sim {

struct GuestDtSpec {
  std::vector<PhysRange> ram;
  std::vector<PhysRange> memreserve;
  std::string bootargs;
  PhysRange initrd;             // the payload module, as linux,initrd-start/-end
  bool hypervisor = true;       // /hypervisor (xen,enhanced): Linux detects Xen by it
  std::vector<PhysRange> ext_regions;  // /hypervisor reg after the grant table
  std::optional<Gfn> shared_info_gfn;  // /hypervisor xen,shared-info-gfn (the patched Xen)
  unsigned xen_major = 4, xen_minor = 17;
};

// A packed, valid FDT blob.
std::vector<uint8_t> build_guest_dt(const GuestDtSpec& spec);

}  // namespace mb::sim
