#include "magicboot/pv/ring_place.h"

#include "magicboot/hypercall/xen.h"

namespace mb::pv {

Res<RingPlace> find_ring(Hypercalls& h, const RingParams& params, PhysRange magic, std::span<const PhysRange> ram) {
  auto pfn = xen::get_param(h, params.pfn_param);
  auto port = xen::get_param(h, params.evtchn_param);
  if (!pfn.ok() || !port.ok() || *pfn == 0 || *port == 0)
    return MB_ERR(ErrorCode::kUnsupported, params.none_check, "no %s: PFN param %#lx, event channel param %lu",
                  params.name, pfn.ok() ? *pfn : uint64_t{0}, port.ok() ? *port : uint64_t{0});
  PhysRange page = range_of_pages(Gfn{*pfn}, 1);
  bool in_ram = false;
  for (const PhysRange& bank : ram) in_ram = in_ram || bank.overlaps(page);
  if (!magic.contains(page) || in_ram)
    return MB_ERR(ErrorCode::kBadInput, params.placement_check, "%s PFN %#lx is %s: not written", params.name,
                  *pfn, in_ram ? "in RAM" : "outside GUEST_MAGIC");
  if (*port > UINT32_MAX)
    return MB_ERR(ErrorCode::kBadInput, params.placement_check, "%s event channel %lu is not a port", params.name,
                  *port);
  return RingPlace{Gfn{*pfn}, static_cast<uint32_t>(*port)};
}

}  // namespace mb::pv
