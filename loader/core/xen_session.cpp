#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen.h"
#include "steps.h"

namespace mb::loader::steps {
namespace {

// U-Boot's way, kept only so tests can show what it costs: a page of the
// loader's heap in RAM (U-Boot memaligns one), mapped over and never removed.
Res<magic::Slot> legacy_ram_slot(BootReport& r) {
  GuestPhys top = r.dt.ram()[0].end();
  GuestPhys page = MB_TRY(r.ledger.allocate(kPageSize, kPageSize, top, RangeType::kLoaderHeap,
                                            Placement::kHighest));
  return magic::Slot{page.gfn(), magic::SlotSource::kFallback};
}

}  // namespace

Res<void> open_xen(Platform& p, const BootOptions& opts, magic::SharedInfo& si, BootReport& r) {
  XenSession& x = r.xen;
  x.present = r.dt.xen.present;
  if (!x.present) return {};
  x.major = r.dt.xen.major;
  x.minor = r.dt.xen.minor;
  auto version = xen::xen_version(p.hyp);
  if (version.ok()) x.version = *version;
  x.pfns = magic::query_magic_pfns(p.hyp);

  magic::Slot slot{};
  if (opts.strategy == SharedInfoStrategy::kRamLegacy) {
    slot = MB_TRY(legacy_ram_slot(r));
  } else {
    slot = MB_TRY(magic::find_slot(p.hyp, boards::xen_arm64::kMagic, opts.shared_info_fallback_offset,
                                   r.dt.ram()));
  }
  x.slot = slot;
  x.slot_found = true;

  auto mapped = si.map(p.hyp, slot);
  if (!mapped.ok()) {
    x.map_failed = true;
    x.map_error = mapped.error();
    return {};  // the loader can do without shared_info; the report says so
  }
  x.mapped = true;
  auto wc = si.wallclock(p.mem);
  if (wc.ok()) {
    x.wallclock_ok = true;
    x.wallclock = *wc;
  }
  return {};
}

}  // namespace mb::loader::steps
