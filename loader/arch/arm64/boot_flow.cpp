// The firmware's boot: the loader core over the arm64 platform, with faults
// classified against the ledger the core is building.
#include <cstring>

#include "boards/xen_arm64/board.h"
#include "magicboot/config.h"
#include "magicboot/format.h"
#include "magicboot/loader/arch/arm64/boot_flow.h"
#include "magicboot/loader/boot.h"
#include "magicboot/print.h"
#if defined(CONFIG_PV_BLOCK)
#include "magicboot/cmdline.h"
#include "magicboot/loader/pv_disk.h"
#endif
#if defined(CONFIG_DISK_BOOT)
#include "magicboot/loader/disk/distro_boot.h"
#endif

namespace mb::arm64 {
namespace {

bool classify(void* ctx, GuestPhys far, char* out, size_t len) {
  const auto* r = static_cast<const loader::BootReport*>(ctx);
  const loader::XenSession& x = r->xen;
  if (x.slot_found() && range_of_pages(x.slot().gfn, 1).contains(far)) {
    format_to(out, len, "magic page shared_info (%s)",
             x.removed() ? "removed before handover" : x.mapped() ? "mapped" : "never mapped");
    return true;
  }
  if (stack_guard().contains(far)) return format_to(out, len, "the stack guard page (stack overflow)") > 0;
  if (const loader::LedgerRange* lr = r->ledger.find(far)) {
    format_to(out, len, "%s [%#lx, %#lx)", loader::to_string(lr->type), lr->range.base.value,
             lr->range.end().value);
    return true;
  }
  if (boards::xen_arm64::kMagic.contains(far)) return format_to(out, len, "GUEST_MAGIC (unmapped page)") > 0;
  format_to(out, len, "no known range");
  return true;
}

class ConsoleProgress final : public loader::Progress {
 public:
  explicit ConsoleProgress(Console& c) : c_(c) {}
  void update(uint64_t done, uint64_t total) override {
    print(c_, "magicboot: inflating %s of %s\n", human_size(done).text, human_size(total).text);
  }

 private:
  Console& c_;
};

#if defined(CONFIG_DISK_BOOT)
// The boot menu's keys: the PV console's input ring (xl console), else
// the vpl011's receive FIFO.
class ConsoleKeys final : public loader::KeyInput {
 public:
  explicit ConsoleKeys(FirmwareConsole& c) : c_(c) {}
  int poll_key() override { return c_.read_key(); }

 private:
  FirmwareConsole& c_;
};
#endif

}  // namespace

void run_boot_flow(FirmwarePlatform& fw, bool full_report) {
  // The report holds the ledger the fault classifier reads. This frame
  // never returns (the jump or a halt ends it), so the classifier's
  // pointer stays valid.
  loader::BootReport report;
  fw.faults().set_classifier(classify, &report);
  const PhysRange heap = heap_region();
  Arena arena(reinterpret_cast<void*>(static_cast<uintptr_t>(heap.base.value)), heap.size);
  fw.cpu().set_heap(heap, &arena);
  ConsoleProgress progress(fw.console());
  loader::BootOptions opts;
#if defined(CONFIG_SHARED_INFO_RAM_LEGACY)
  opts.strategy = loader::SharedInfoStrategy::kRamLegacy;
#endif
  opts.shared_info_fallback_offset = CONFIG_SHARED_INFO_MAGIC_OFFSET;
  opts.progress = &progress;
  opts.full_report = full_report;
#if defined(CONFIG_PV_BLOCK)
  // Lives as long as this frame, which the jump or a halt ends.
  loader::PvDisk pv;
  opts.pv = &pv;
  opts.hash_disk = cmdline_has(fw.dt().bootargs, loader::kDiskHashWord);
#endif
#if defined(CONFIG_DISK_BOOT)
  // Without a payload module the boot comes from the disk.
  ConsoleKeys keys(fw.console());
  loader::DistroBoot disk(&keys);
  opts.disk = &disk;
#endif
  Platform p = fw.platform();
  auto booted = loader::boot(p, fw.dt(), arena, opts, report);
  // boot() returns only when it did not jump.
  if (!booted.ok())
    print(fw.console(), "MAGICBOOT-ERROR %s: step %s: %s: %s\n", to_string(booted.error().code),
          to_string(report.step), booted.error().check, booted.error().detail);
  fw.faults().fatal("boot failed: not jumping");
}

}  // namespace mb::arm64
