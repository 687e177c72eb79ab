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

  namespace xa = boards::xen_arm64;
  magic::SlotRules rules;
  rules.magic = xa::kMagic;
  rules.fallback_offset = opts.shared_info_fallback_offset;
  rules.ram = dt.ram();
  rules.grant_table = dt.xen.grant_table.empty() ? xa::kGntTab : dt.xen.grant_table;
  rules.extended_regions = dt.xen.extended_regions();
  rules.dt_offer = dt.xen.shared_info_gfn;
  // A toolstack built the domain when it named its rings: then the first
  // magic pages are its own, whatever the params say of them.
  const bool toolstack = x.pfns.console_pfn != 0 || x.pfns.store_pfn != 0;
  rules.toolstack_pages = toolstack ? xa::kToolstackMagicPages : 0;
  rules.console_pfn = x.pfns.console_pfn;
  rules.store_pfn = x.pfns.store_pfn;
  const magic::Slot slot = opts.strategy == SharedInfoStrategy::kRamLegacy ? MB_TRY(legacy_ram_slot(dt, ledger))
                                                                           : MB_TRY(magic::find_slot(p.hyp, rules));
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

Res<void> open_pv(Platform& p, const BootOptions& opts, const DiscoveredDt& dt, MemoryLedger& ledger,
                  const XenSession& x) {
#if defined(MB_WITHOUT_PV)
  (void)p, (void)opts, (void)dt, (void)ledger, (void)x;
  return {};
#else
  const bool from_disk = boots_from_disk(opts, dt);
  if (opts.pv == nullptr || !(opts.hash_disk || from_disk)) return {};
  if (!x.present)
    return MB_ERR(ErrorCode::kUnsupported, "vbd-none", "the PV disk is asked for (%s), and there is no Xen",
                  from_disk ? "no payload module" : kDiskHashWord);
  return opts.pv->open(p, dt, ledger, opts.hash_disk, x.mapped() ? x.slot().gfn.addr() : GuestPhys{});
#endif
}

Res<void> close_pv(const BootOptions& opts, MemoryLedger& ledger) {
#if defined(MB_WITHOUT_PV)
  (void)opts, (void)ledger;
  return {};
#else
  if (opts.pv == nullptr || !opts.pv->record().attempted) return {};
  return opts.pv->close(ledger);
#endif
}

}  // namespace mb::loader::steps
