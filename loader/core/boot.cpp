#include "magicboot/loader/boot.h"

#include "magicboot/format.h"
#include "magicboot/loader/report.h"
#include "magicboot/print.h"
#include "steps.h"

namespace mb::loader {
namespace {

// Times each stage and prints one line per stage as it ends.
class StageClock {
 public:
  StageClock(Platform& p, BootReport& r) : p_(p), r_(r), last_(p.cpu.counter()) {}
  void end(Stage s) {
    uint64_t now = p_.cpu.counter();
    r_.stage_ticks[static_cast<unsigned>(s)] = now - last_;
    last_ = now;
  }

 private:
  Platform& p_;
  BootReport& r_;
  uint64_t last_;
};

class NoConsole final : public Console {
 public:
  void write(const char*, size_t) override {}
};

Res<void> run_steps(Platform& p, GuestPhys dtb, Arena& arena, const BootOptions& opts,
                    magic::SharedInfo& si, BootReport& r) {
  NoConsole quiet;
  StageClock clock(p, r);

  // The step lines belong to the whole report.
  Console& c = opts.full_report ? p.console : quiet;
  MB_CHECK(steps::discover_dt(p.mem, dtb, opts.discovered, r));
  clock.end(Stage::kDiscover);
  print(c, "magicboot: discover: DT %#llx (%s), %zu RAM bank(s) %s, payload [%#llx, %#llx), %s\n",
        (unsigned long long)dtb.value, human_size(r.incoming_dt.size).text, r.dt.bank_count,
        human_size(r.dt.ram_total()).text, (unsigned long long)r.dt.payload.base.value,
        (unsigned long long)r.dt.payload.end().value, r.dt.xen.present ? "Xen guest" : "no hypervisor");

  MB_CHECK(steps::build_ledger(p.layout, r));
  clock.end(Stage::kLedger);

  MB_CHECK(steps::open_xen(p, opts, si, r));
  clock.end(Stage::kXen);
  if (r.xen.present) {
    if (r.xen.mapped)
      print(c, "magicboot: xen %u.%u: shared_info mapped at GFN %#llx (%s)\n", r.xen.version >> 16,
            r.xen.version & 0xffff, (unsigned long long)r.xen.slot.gfn.value, magic::to_string(r.xen.slot.source));
    else
      print(p.console, "magicboot: xen: shared_info not mapped: %s: %s (booting on without it)\n",
            r.xen.map_error.check, r.xen.map_error.detail);
  }

  steps::PayloadView pv = MB_TRY(steps::identify(p.mem, arena, opts, r));
  clock.end(Stage::kPayload);
  print(c, "magicboot: payload: %s, kernel %s %s, text_offset %#llx, image_size %#llx%s\n",
        to_string(r.payload_kind), to_string(r.kernel_compression), human_size(r.kernel_file_size).text,
        (unsigned long long)r.image.text_offset, (unsigned long long)r.image.image_size,
        pv.payload.ramdisk.size ? ", with ramdisk" : "");

  size_t dt_capacity = steps::kernel_dt_capacity(r, opts);
  MB_CHECK(steps::plan(pv, dt_capacity, r));
  clock.end(Stage::kPlan);
  // Where things go; their sizes are in the report.
  print(c, "magicboot: plan: kernel %#llx%s, DTB %#llx, initrd %#llx\n", (unsigned long long)r.kernel.base.value,
        r.kernel_zero_copy ? " (in place, zero-copy)" : "", (unsigned long long)r.dtb.base.value,
        (unsigned long long)r.initrd.base.value);

  MB_CHECK(steps::load(p.mem, arena, pv, opts.progress, r));
  clock.end(Stage::kLoad);

  MB_CHECK(steps::fixup(p.mem, arena, opts, dt_capacity, r));
  clock.end(Stage::kFixup);

  MB_CHECK(steps::quiesce(p.hyp, si, r));
  clock.end(Stage::kQuiesce);
  return {};
}

}  // namespace

const char* to_string(SharedInfoStrategy s) {
  return s == SharedInfoStrategy::kMagic ? "magic" : "ram-legacy";
}

const char* to_string(Stage s) {
  static constexpr const char* kNames[] = {"discover", "ledger", "xen",   "payload",
                                           "plan",     "load",   "fixup", "quiesce"};
  unsigned i = static_cast<unsigned>(s);
  return i < kStageCount ? kNames[i] : "?";
}

const char* BootReport::verdict() const {
  if (self_check_skipped) return "unchecked";
  return finding_count == 0 ? "clean" : "unsafe";
}

Res<void> prepare(Platform& p, GuestPhys dtb, Arena& arena, const BootOptions& opts, BootReport& r) {
  r.strategy = opts.strategy;
  magic::SharedInfo si;
  auto result = run_steps(p, dtb, arena, opts, si, r);
  if (!result.ok() && si.mapped() && !si.removed() && opts.strategy == SharedInfoStrategy::kMagic) {
    // A failed boot leaves nothing of Xen's mapped behind it.
    if (si.remove(p.hyp).ok()) r.xen.removed = true;
  }
  return result;
}

Res<void> boot(Platform& p, GuestPhys dtb, Arena& arena, const BootOptions& opts, BootReport& r) {
  MB_CHECK(prepare(p, dtb, arena, opts, r));
  if (opts.full_report || !r.clean()) {
    print_report(p.console, r);
    print_handover_json(p.console, r);
  } else {
    print_brief(p.console, r);
  }
  if (r.finding_count != 0)
    return MB_ERR(ErrorCode::kInvariant, r.findings[0].check, "%s (not jumping)", r.findings[0].detail);
  // booting.rst wants the kernel image (and what it reads with the MMU off)
  // clean to the PoC. Only what the loader wrote can be dirty in a cache:
  // a kernel or initrd left in place (zero-copy) was put in memory by the
  // previous stage, which owes us exactly that guarantee for its payload
  // (Xen flushes the modules it copies in, QEMU writes memory directly,
  // U-Boot cleans before booti), and the loader only read it, which leaves
  // clean lines that match memory. Cleaning 27 MB line by line again would
  // cost ~1 M instructions for nothing. The image's bss tail beyond the
  // file was never written by the loader either (the ledger gave it no
  // other owner). The DTB is always the loader's own write.
  if (!r.kernel_zero_copy) p.cpu.clean_to_poc(PhysRange{r.kernel.base, r.kernel_file_size});
  p.cpu.clean_to_poc(r.dtb);
  if (!r.initrd.empty() && !r.initrd_zero_copy) p.cpu.clean_to_poc(r.initrd);
  print(p.console, "Starting kernel at %#llx, DTB %#llx ...\n", (unsigned long long)r.kernel.base.value,
        (unsigned long long)r.dtb.base.value);
  p.cpu.jump(Handover{r.kernel.base, r.dtb.base});
  return {};
}

}  // namespace mb::loader
