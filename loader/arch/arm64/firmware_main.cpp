// The firmware's C++ entry, called by start.S with the MMU on for the image
// and the DTB. Brings up the platform, then boots (the loader core), or, when
// the command line asks for it in a test image (CONFIG_FIRMWARE_PROBE),
// runs the platform probe.
#include <cstdint>

#include "magicboot/cmdline.h"
#include "magicboot/config.h"
#include "magicboot/format.h"
#include "magicboot/loader/boot.h"
#include "magicboot/loader/arch/arm64/boot_flow.h"
#include "magicboot/loader/arch/arm64/firmware_platform.h"
#if defined(CONFIG_FIRMWARE_PROBE)
#include "magicboot/loader/arch/arm64/xen_probe.h"
#endif

namespace mb::arm64 {
namespace {

#if defined(CONFIG_BOARD_QEMU_VIRT)
constexpr const char* kBoard = "qemu_virt";
#else
constexpr const char* kBoard = "xen_arm64";
#endif

bool full_report(FirmwarePlatform& fw) { return cmdline_has(fw.dt().bootargs, loader::kFullReportWord); }

// One line unless the whole report is asked for (or bring-up failed): under
// Xen each character printed on the vpl011 costs Xen a trap.
void brief_banner(FirmwarePlatform& fw) {
  char what[112];
  print(fw.console(), "magicboot %s (%s): console %s\n", MB_VERSION, kBoard, fw.console().describe(what, sizeof what));
  if (const Error* e = fw.ring_refused())
    print(fw.console(), "console: PV ring not used: %s: %s\n", e->check, e->detail);
}

void banner(FirmwarePlatform& fw) {
  Console& con = fw.console();
  print(con, "magicboot %s (board %s, shared_info magic+%d, stack %dK, heap %dK)\n", MB_VERSION, kBoard,
        CONFIG_SHARED_INFO_MAGIC_OFFSET, CONFIG_LOADER_STACK_SIZE >> 10, CONFIG_LOADER_HEAP_SIZE >> 10);
  const LoaderLayout l = loader_layout();
  print(con, "entered at EL%u; image %#lx-%#lx stack %#lx-%#lx heap %#lx-%#lx\n", fw.entry_el(),
        l.image.base.value, l.image.end().value, l.stack.base.value, l.stack.end().value,
        l.heap.base.value, l.heap.end().value);
}

void describe(FirmwarePlatform& fw) {
  Console& con = fw.console();
  const loader::DiscoveredDt& dt = fw.dt();
  char what[112];
  print(con, "dt %#lx (%u bytes); console %s%s; mmu %zu/%zu tables, %u-bit PA\n", fw.dtb().value,
        fw.dtb_size(), fw.console().describe(what, sizeof what), fw.uart().from_stdout_path ? " (stdout-path)" : "",
        fw.mmu().tables_used(), fw.mmu().tables_capacity(), fw.mmu().pa_bits());
  if (const Error* e = fw.ring_refused()) print(con, "console: PV ring not used: %s: %s\n", e->check, e->detail);
  for (const PhysRange& bank : dt.ram())
    print(con, "ram %#lx-%#lx (%s)\n", bank.base.value, bank.end().value, human_size(bank.size).text);
  if (!dt.payload.empty())
    print(con, "initrd %#lx-%#lx\n", dt.payload.base.value, dt.payload.end().value);
}

// "magicboot.probe", "probe-fault", "probe-guard", "probe-jump" and
// "magicboot.conformance" select the platform probe, in a test image.
bool wants_probe([[maybe_unused]] const loader::DiscoveredDt& dt) {
#if defined(CONFIG_FIRMWARE_PROBE)
  for (const char* word : {"magicboot.probe", "probe-fault", "probe-guard", "probe-jump", "magicboot.conformance"})
    if (cmdline_has(dt.bootargs, word)) return true;
#endif
  return false;
}

}  // namespace
}  // namespace mb::arm64

extern "C" [[noreturn]] void firmware_main(uint64_t dtb, uint64_t entry_el, uint64_t entry_counter) {
  using namespace mb::arm64;
  FirmwarePlatform fw(mb::GuestPhys{dtb}, static_cast<unsigned>(entry_el), entry_counter);
  auto up = fw.bring_up();
  if (!up.ok()) {
    banner(fw);
    print(fw.console(), "MAGICBOOT-ERROR %s: %s\n", up.error().check, up.error().detail);
    fw.faults().fatal("platform bring-up failed");
  }
  const bool full = full_report(fw) || wants_probe(fw.dt());
  if (full) {
    banner(fw);
    describe(fw);
  } else {
    brief_banner(fw);
  }
#if defined(CONFIG_FIRMWARE_PROBE)
  if (wants_probe(fw.dt())) run_xen_probe(fw);
#endif
  run_boot_flow(fw, full);
}
