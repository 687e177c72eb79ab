#include "magicboot/loader/arch/arm64/firmware_platform.h"

#include "boards/xen_arm64/board.h"
#include "magicboot/config.h"
#include "magicboot/loader/arch/arm64/sysreg.h"

namespace mb::arm64 {
namespace {

// Devices of every board we run on lie below 4 GiB (QEMU virt, Xen's guest
// layout); above it only RAM is mapped and anything else faults.
constexpr PhysRange kDeviceWindow{GuestPhys{0}, uint64_t{1} << 32};

}  // namespace

FirmwarePlatform::FirmwarePlatform(GuestPhys dtb, unsigned entry_el, uint64_t entry_counter)
    : dtb_(dtb),
      entry_el_(entry_el),
      entry_counter_(entry_counter),
      console_(hyp_),
      cpu_(footprint()),
      mmu_(page_table_pool()),
      faults_(console_) {}

Res<void> FirmwarePlatform::bring_up() {
  faults_.install();  // prints nowhere until a console is chosen, but stops cleanly
  dtb_size_ = fdt_total_size_early(dtb_);
  if (dtb_size_ == 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-magic", "no device tree at x0 = %#llx",
                  static_cast<unsigned long long>(dtb_.value));
  facts_ = MB_TRY(read_dt_facts(reinterpret_cast<const void*>(static_cast<uintptr_t>(dtb_.value))));

  for (unsigned i = 0; i < facts_.ram_count; ++i) MB_CHECK(mmu_.map(facts_.ram[i], MemType::kNormal));
  if (facts_.hypervisor) {
    // Xen's pages that the loader maps (shared_info, grant frames) are
    // ordinary memory to Xen: map them cacheable like Linux does.
    MB_CHECK(mmu_.map(boards::xen_arm64::kMagic, MemType::kNormal));
    MB_CHECK(mmu_.map(facts_.grant_region.empty() ? boards::xen_arm64::kGntTab : facts_.grant_region,
                      MemType::kNormal));
  }
  MB_CHECK(mmu_.fill_device(kDeviceWindow));
  if (facts_.has_uart) MB_CHECK(mmu_.fill_device(PhysRange{facts_.uart, kPageSize}));

#if defined(CONFIG_CONSOLE_PL011)
  if (facts_.has_uart) console_.use_pl011(facts_.uart, facts_.uart_sbsa);
#endif
#if defined(CONFIG_CONSOLE_XEN)
  if (console_.kind() == FirmwareConsole::Kind::kNone && facts_.hypervisor) console_.use_xen_console_io();
#endif
  return {};
}

}  // namespace mb::arm64
