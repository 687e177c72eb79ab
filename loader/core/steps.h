// The steps of prepare(), each a function of its inputs (internal).
#pragma once

#include "magicboot/loader/boot.h"

namespace mb::loader::steps {

// 1. The incoming DT: its size from the header, then discover(); or, when
// `discovered` is given, that result of an earlier discover() of the blob.
Res<void> discover_dt(GuestMemory& mem, GuestPhys dtb, const DiscoveredDt* discovered, BootReport& r);
// The command line the kernel will get: the loader's (BootOptions::
// bootargs), else /chosen's.
const char* kernel_bootargs(const BootOptions& opts, const BootReport& r);
// 2. RAM, Xen's regions, reservations, the loader itself, the DT, the payload.
Res<void> build_ledger(const LoaderLayout& layout, BootReport& r);
// 3. Detect Xen, find and map shared_info, read the magic PFNs and wallclock.
// Only a refused slot (e.g. a param pointing into RAM) fails; a failed map
// is recorded and the boot goes on without shared_info.
Res<void> open_xen(Platform& p, const BootOptions& opts, magic::SharedInfo& si, BootReport& r);
// 4. What the payload is; the kernel's Image header. Before anything is
// placed or loaded, what the boot was asked that it cannot do is refused:
// a kernel command line Linux would cut (longer than kLinuxCommandLineSize - 1
// bytes: "bootargs-length"), a FIT configuration for a payload that is not a
// FIT ("fit-config-not-fit").
struct PayloadView {
  Payload payload;
};
Res<PayloadView> identify(GuestMemory& mem, Arena& arena, const BootOptions& opts, BootReport& r);
// 5. Where the kernel, initrd and DTB go; everything claimed in the ledger.
Res<void> plan(const PayloadView& pv, size_t dt_capacity, BootReport& r);
// 6. Copy or inflate the kernel into place.
Res<void> load(GuestMemory& mem, Arena& arena, const PayloadView& pv, Progress* progress,
               BootReport& r);
// 7. The kernel's DT, written at r.dtb.base.
Res<void> fixup(GuestMemory& mem, Arena& arena, const BootOptions& opts, size_t dt_capacity,
                BootReport& r);
// 8. Remove shared_info, then check the handover from the ledger.
Res<void> quiesce(Hypercalls& h, magic::SharedInfo& si, BootReport& r);

// Room the kernel's DT may need: the incoming tree, the fixup slack, the command line.
size_t kernel_dt_capacity(const BootReport& r, const BootOptions& opts);

}  // namespace mb::loader::steps
