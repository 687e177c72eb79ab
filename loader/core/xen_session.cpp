#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen.h"
#include "steps.h"

namespace mb::loader::steps {
namespace {

// U-Boot's way, kept only so tests can show what it costs: a page of the
// loader's heap in RAM (U-Boot memaligns one), mapped over and never removed.
Res<magic::Slot> legacy_ram_slot(const DiscoveredDt& dt, MemoryLedger& ledger) {
  GuestPhys top = dt.ram()[0].end();
  GuestPhys page = MB_TRY(ledger.allocate(kPageSize, kPageSize, top, RangeType::kLoaderHeap,
                                            Placement::kHighest));
  return magic::Slot{page.gfn(), magic::SlotSource::kFallback};
}

}  // namespace

Res<void> open_xen(Platform& p, const BootOptions& opts, const DiscoveredDt& dt, MemoryLedger& ledger,
                   XenSession& x) {
  x.present = dt.xen.present;
  if (!x.present) return {};
  x.major = dt.xen.major;
  x.minor = dt.xen.minor;
  auto version = xen::xen_version(p.hyp);
  if (version.ok()) x.version = *version;
  x.pfns = magic::query_magic_pfns(p.hyp);

  const magic::Slot slot =
      opts.strategy == SharedInfoStrategy::kRamLegacy
          ? MB_TRY(legacy_ram_slot(dt, ledger))
          : MB_TRY(magic::find_slot(p.hyp, boards::xen_arm64::kMagic, opts.shared_info_fallback_offset, dt.ram()));
  auto mapped = x.shared_info.map(p.hyp, slot);
  if (!mapped.ok()) {
    x.map_failed = true;
    x.map_error = mapped.error();
    return {};  // the loader can do without shared_info; the report says so
  }
  auto wc = x.shared_info.wallclock(p.mem);
  if (wc.ok()) {
    x.wallclock_ok = true;
    x.wallclock = *wc;
  }
  return {};
}

Res<void> close_xen(Hypercalls& h, XenSession& x) { return x.shared_info.remove(h); }

}  // namespace mb::loader::steps
