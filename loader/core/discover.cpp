#include "steps.h"
#include "magicboot/loader/dt_fixup.h"
#include "magicboot/loader/fdt/format.h"

namespace mb::loader::steps {
namespace {

Res<void> check_size(GuestPhys dtb, size_t total) {
  if (total < fdt::kHeaderSize || total > kMaxKernelDtSize)
    return MB_ERR(ErrorCode::kBadInput, "dt-size", "device tree at %#llx claims %zu bytes (limit %zu)",
                  (unsigned long long)dtb.value, total, kMaxKernelDtSize);
  return {};
}

Res<DiscoveredDt> parse(GuestMemory& mem, GuestPhys dtb) {
  if (!dtb.is_aligned(8))
    return MB_ERR(ErrorCode::kBadInput, "dt-address", "device tree at %#llx is not 8-byte aligned",
                  (unsigned long long)dtb.value);
  const uint8_t* head = MB_TRY(mem.view(dtb, fdt::kHeaderSize));
  if (fdt::magic(head) != fdt::kMagic)
    return MB_ERR(ErrorCode::kBadInput, "dt-magic", "no device tree at %#llx (magic %#x)",
                  (unsigned long long)dtb.value, (unsigned)fdt::magic(head));
  const size_t total = fdt::total_size(head);
  MB_CHECK(check_size(dtb, total));
  const uint8_t* blob = MB_TRY(mem.view(dtb, total));
  auto dt = discover(blob, total);
  if (!dt.ok())  // the parser sees a buffer; the user needs the guest address
    return MB_ERR(dt.error().code, dt.error().check, "DT at %#llx: %s", (unsigned long long)dtb.value,
                  dt.error().detail);
  return dt;
}

}  // namespace

Res<void> discover_dt(GuestMemory& mem, GuestPhys dtb, const DiscoveredDt* discovered, BootReport& r) {
  if (discovered != nullptr) {
    MB_CHECK(check_size(dtb, discovered->total_size));
    r.dt = *discovered;
  } else {
    r.dt = MB_TRY(parse(mem, dtb));
  }
  r.incoming_dt = PhysRange{dtb, r.dt.total_size};
  if (r.dt.payload.empty())
    return MB_ERR(ErrorCode::kBadInput, "no-payload",
                  "/chosen has no linux,initrd-start/-end: nothing to boot (give the payload as the ramdisk module)");
  return {};
}

}  // namespace mb::loader::steps
