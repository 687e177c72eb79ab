// Step 8's second half: the loader checks the handover from its own books
// (close_xen, in xen_session.cpp, has undone what Xen would keep writing
// to). The model's validator checks the same from Xen's side; this is what
// the firmware can know by itself.
#include <cstdarg>

#include "magicboot/format.h"
#include "magicboot/loader/boot_protocol.h"
#include "steps.h"

namespace mb::loader::steps {
namespace {

using boot_protocol::in_one_bank;
using boot_protocol::kAddressLimit;

[[gnu::format(printf, 3, 4)]] void add(BootReport& r, const char* check, const char* fmt, ...) {
  if (r.finding_count >= sizeof r.findings / sizeof r.findings[0]) return;
  SelfFinding& f = r.findings[r.finding_count++];
  f.check = check;
  va_list ap;
  va_start(ap, fmt);
  vformat_to(f.detail, sizeof f.detail, fmt, ap);
  va_end(ap);
}

}  // namespace

void check_handover(BootReport& r) {
  if (r.strategy == SharedInfoStrategy::kRamLegacy) {
    r.self_check_skipped = true;  // U-Boot checks nothing; that is the point
    return;
  }
  const XenSession& x = r.xen;
  if (x.mapped() && !x.removed())
    add(r, "no-xen-page-in-ram", "shared_info still mapped at GFN %#lx", x.slot().gfn.value);
  if (x.slot_found()) {
    PhysRange page = range_of_pages(x.slot().gfn, 1);
    for (const PhysRange& bank : r.ram())
      if (bank.overlaps(page))
        add(r, "no-xen-page-in-ram", "shared_info GFN %#lx lies in RAM", x.slot().gfn.value);
  }
  for (const LedgerRange& lr : r.ledger.ranges())
    if (lr.in_ram && (lr.type == RangeType::kMagic || lr.type == RangeType::kGrantTable))
      add(r, "no-xen-page-in-ram", "%s range at %#lx is in RAM", to_string(lr.type),
          lr.range.base.value);
  char open_detail[sizeof r.findings[0].detail];
  if (r.pv_devices != nullptr && r.pv_devices->still_open(open_detail, sizeof open_detail))
    add(r, "no-foreign-access", "%s", open_detail);
  if (r.ledger.total_ram() != r.ram_total())
    add(r, "no-ram-hole", "ledger holds %lu bytes of RAM, the DT says %lu",
        r.ledger.total_ram(), r.ram_total());
  if (r.kernel.end().value > kAddressLimit || !in_one_bank(r.ram(), r.kernel))
    add(r, "addressable-layout", "kernel [%#lx, %#lx) is not in RAM below 2^48",
        r.kernel.base.value, r.kernel.end().value);
  if (!r.dtb.base.is_aligned(boot_protocol::kDtbAlign) || r.dtb.size > boot_protocol::kDtbMaxSize ||
      !in_one_bank(r.ram(), r.dtb))
    add(r, "addressable-layout", "DTB [%#lx, +%#lx) is not 8-byte aligned, <= 2 MiB, in RAM",
        r.dtb.base.value, r.dtb.size);
  if (!r.initrd.empty() && !in_one_bank(r.ram(), r.initrd))
    add(r, "addressable-layout", "initrd [%#lx, %#lx) is not in RAM",
        r.initrd.base.value, r.initrd.end().value);
  if (r.kernel.overlaps(r.dtb) || r.kernel.overlaps(r.initrd) || r.dtb.overlaps(r.initrd))
    add(r, "addressable-layout", "kernel, DTB and initrd overlap");
}

}  // namespace mb::loader::steps
