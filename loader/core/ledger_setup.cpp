#include "boards/xen_arm64/board.h"
#include "magicboot/loader/boot_protocol.h"
#include "steps.h"

namespace mb::loader::steps {
namespace {

bool in_ram(const DiscoveredDt& dt, PhysRange range) { return boot_protocol::in_one_bank(dt.ram(), range); }

bool touches_ram(const DiscoveredDt& dt, PhysRange range) {
  for (const PhysRange& bank : dt.ram())
    if (bank.overlaps(range)) return true;
  return false;
}

// A range in RAM is claimed; one wholly outside RAM is recorded as such.
Res<void> claim_anywhere(MemoryLedger& l, const DiscoveredDt& dt, PhysRange range, RangeType type) {
  if (range.empty()) return {};
  if (!touches_ram(dt, range)) return l.add_outside_ram(range, type);
  return l.claim(range, type);
}

}  // namespace

Res<void> build_ledger(const LoaderLayout& layout, const DiscoveredDt& dt, MemoryLedger& l, bool from_disk) {
  if (dt.payload.empty() && !from_disk)
    return MB_ERR(ErrorCode::kBadInput, "no-payload",
                  "/chosen has no linux,initrd-start/-end: nothing to boot (give the payload as the ramdisk module)");
  for (const PhysRange& bank : dt.ram()) MB_CHECK(l.add_ram(bank));
  if (dt.xen.present) {
    namespace xa = boards::xen_arm64;
    MB_CHECK(l.add_outside_ram(xa::kMagic, RangeType::kMagic));
    PhysRange gnttab = dt.xen.grant_table.empty() ? xa::kGntTab : dt.xen.grant_table;
    MB_CHECK(l.add_outside_ram(gnttab, RangeType::kGrantTable));
  }
  for (const DtReservation& res : dt.reservations()) {
    // A reservation may repeat one already made (memreserve and a node).
    if (in_ram(dt, res.range) && !l.is_free(res.range)) {
      const LedgerRange* at = l.find(res.range.base);
      if (at && at->type == RangeType::kReserved && at->range.contains(res.range)) continue;
    }
    MB_CHECK(claim_anywhere(l, dt, res.range, RangeType::kReserved));
  }
  MB_CHECK(claim_anywhere(l, dt, layout.image, RangeType::kLoaderImage));
  MB_CHECK(claim_anywhere(l, dt, layout.stack, RangeType::kLoaderStack));
  MB_CHECK(claim_anywhere(l, dt, layout.heap, RangeType::kLoaderHeap));
  MB_CHECK(l.claim(dt.blob, RangeType::kIncomingDt));
  if (from_disk) return {};  // step 3c claims what it reads
  if (!in_ram(dt, dt.payload))
    return MB_ERR(ErrorCode::kBadInput, "payload-outside-ram",
                  "payload [%#lx, %#lx) does not lie within one RAM bank",
                  dt.payload.base.value, dt.payload.end().value);
  return l.claim(dt.payload, RangeType::kPayload);
}

}  // namespace mb::loader::steps
