// Step 1: the incoming DT at a guest address (discover() sees only a
// buffer; this is where its errors gain the guest address).
#include "magicboot/loader/boot_protocol.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/fdt/format.h"
#include "magicboot/platform.h"

namespace mb::loader {

Res<DiscoveredDt> discover_at(GuestMemory& mem, GuestPhys dtb) {
  if (!dtb.is_aligned(8))
    return MB_ERR(ErrorCode::kBadInput, "dt-address", "device tree at %#lx is not 8-byte aligned",
                  dtb.value);
  const uint8_t* head = MB_TRY(mem.view(dtb, fdt::kHeaderSize));
  if (fdt::magic(head) != fdt::kMagic)
    return MB_ERR(ErrorCode::kBadInput, "dt-magic", "no device tree at %#lx (magic %#x)",
                  dtb.value, (unsigned)fdt::magic(head));
  const size_t total = fdt::total_size(head);
  if (total < fdt::kHeaderSize || total > boot_protocol::kDtbMaxSize)
    return MB_ERR(ErrorCode::kBadInput, "dt-size", "device tree at %#lx claims %zu bytes (limit %zu)",
                  dtb.value, total, boot_protocol::kDtbMaxSize);
  const uint8_t* blob = MB_TRY(mem.view(dtb, total));
  auto dt = discover(blob, total);
  if (!dt.ok())
    return MB_ERR(dt.error().code, dt.error().check, "DT at %#lx: %s", dtb.value,
                  dt.error().detail);
  dt->blob = PhysRange{dtb, total};
  return dt;
}

}  // namespace mb::loader
