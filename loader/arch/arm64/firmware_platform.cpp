#include "magicboot/loader/arch/arm64/firmware_platform.h"

#include "boards/xen_arm64/board.h"
#include "magicboot/config.h"
#include "magicboot/magic_pages/shared_info.h"
#include "magicboot/loader/arch/arm64/layout.h"
#include "magicboot/loader/arch/arm64/sysreg.h"

namespace mb::arm64 {
namespace {

// Devices of every board we run on lie below 4 GiB (QEMU virt, Xen's guest
// layout); above it only RAM is mapped and anything else faults.
constexpr PhysRange kDeviceWindow{GuestPhys{0}, uint64_t{1} << 32};

// Maps `range` with `map` except the stack's guard page: start.S left it
// unmapped so that an overflow faults, and a RAM bank or the device window
// (which fills every unmapped page below 4 GiB) mapped whole would undo that.
template <class Map>
Res<void> around_guard(PhysRange range, Map map) {
  MB_CHECK(map(range.before(stack_guard())));
  return map(range.after(stack_guard()));
}

}  // namespace

FirmwarePlatform::FirmwarePlatform(GuestPhys dtb, unsigned entry_el, uint64_t entry_counter)
    : dtb_(dtb),
      entry_el_(entry_el),
      entry_counter_(entry_counter),
      console_(hyp_, mem_),
      cpu_(footprint()),
      mmu_(page_table_pool()),
      faults_(console_) {}

Res<void> FirmwarePlatform::bring_up() {
  faults_.install();  // prints nowhere until a console is chosen, but stops cleanly
  dtb_size_ = fdt_total_size_early(dtb_);
  if (dtb_size_ == 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-magic", "no device tree at x0 = %#lx",
                  dtb_.value);
  const void* fdt = reinterpret_cast<const void*>(static_cast<uintptr_t>(dtb_.value));
  // start.S mapped exactly the header's totalsize bytes of the DTB. Step 1
  // of the boot, done once: the loader takes this result.
  auto discovered = loader::discover_at(mem_, dtb_);
  if (discovered.ok()) dt_ = *discovered;
  uart_ = find_uart(fdt, discovered.ok() ? &dt_ : nullptr);

  if (discovered.ok()) {
    for (const PhysRange& bank : dt_.ram())
      MB_CHECK(around_guard(bank, [&](PhysRange r) { return mmu_.map(r, MemType::kNormal); }));
    if (dt_.xen.present) {
      // Xen's pages that the loader maps (shared_info, grant frames) are
      // ordinary memory to Xen: map them cacheable like Linux does.
      MB_CHECK(mmu_.map(boards::xen_arm64::kMagic, MemType::kNormal));
      MB_CHECK(mmu_.map(dt_.xen.grant_table.empty() ? boards::xen_arm64::kGntTab : dt_.xen.grant_table,
                        MemType::kNormal));
      // The page an extended region offers shared_info, should the loader
      // take it (magic::find_slot): mapped now, like GUEST_MAGIC.
      const Gfn offered = magic::extended_region_page(dt_.xen.extended_regions());
      if (offered.value != 0) MB_CHECK(mmu_.map(range_of_pages(offered, 1), MemType::kNormal));
    }
  }
  MB_CHECK(around_guard(kDeviceWindow, [&](PhysRange r) { return mmu_.fill_device(r); }));
  if (uart_.found) MB_CHECK(mmu_.fill_device(PhysRange{uart_.base, kPageSize}));

#if defined(CONFIG_CONSOLE_PL011)
  if (uart_.found) console_.use_pl011(uart_.base, uart_.sbsa);
#endif
#if defined(CONFIG_CONSOLE_XEN_PV)
  // The ring lies in GUEST_MAGIC, which is mapped Normal write-back above,
  // as dom0's xenconsoled maps it: no cache maintenance, only barriers.
  if (discovered.ok() && dt_.xen.present) {
    auto ring = pv::find_console_ring(hyp_, boards::xen_arm64::kMagic, dt_.ram());
    if (ring.ok()) console_.use_pv_ring(*ring);
    else if (ring.error().code != ErrorCode::kUnsupported) ring_refused_ = ring.error();
  }
#endif
#if defined(CONFIG_CONSOLE_XEN)
  if (discovered.ok() && dt_.xen.present) console_.use_xen_console_io_if_alone();
#endif
  MB_CHECK(std::move(discovered));  // now that a console can say why
  return {};
}

}  // namespace mb::arm64
