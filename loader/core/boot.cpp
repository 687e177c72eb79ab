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
    if (s != Stage::kQuiesce) r_.step = static_cast<Stage>(static_cast<unsigned>(s) + 1);
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

// Copies a string the report keeps, cut to fit `out`.
void keep(char* out, size_t cap, const char* s) {
  size_t n = 0;
  for (; s != nullptr && s[n] != '\0' && n + 1 < cap; ++n) out[n] = s[n];
  out[n] = '\0';
}

void record_inputs(const DiscoveredDt& dt, const BootOptions& opts, BootReport& r) {
  r.strategy = opts.strategy;
  r.incoming_dt = dt.blob;
  r.payload = dt.payload;
  r.hypervisor = dt.xen;
  r.bank_count = dt.bank_count;
  for (size_t i = 0; i < dt.bank_count; ++i) r.ram_banks[i] = dt.banks[i];
}

void record_results(const steps::Identified& id, const steps::Plan& plan, uint64_t loaded, size_t dtb_size,
                    const char* bootargs, BootReport& r) {
  r.payload_kind = id.payload.kind;
  r.kernel_compression = id.payload.kernel_compression;
  keep(r.fit_config, sizeof r.fit_config, id.payload.fit_config);
  r.image = id.image;
  r.kernel_file_size = loaded;
  r.kernel = plan.kernel;
  r.kernel_zero_copy = plan.kernel_in_place;
  r.initrd = plan.initrd;
  r.initrd_zero_copy = !plan.initrd.empty();  // the ramdisk is never moved
  r.dtb = PhysRange{plan.dtb.base, dtb_size};
  r.has_bootargs = bootargs != nullptr;
  keep(r.bootargs, sizeof r.bootargs, bootargs);
}

Res<void> run_steps(Platform& p, const DiscoveredDt& dt, Arena& arena, const BootOptions& opts, BootReport& r) {
  NoConsole quiet;
  StageClock clock(p, r);
  record_inputs(dt, opts, r);

  // The step lines belong to the whole report.
  Console& c = opts.full_report ? p.console : quiet;
  print(c, "magicboot: discover: DT %#lx (%s), %zu RAM bank(s) %s, payload [%#lx, %#lx), %s\n",
        dt.blob.base.value, human_size(dt.blob.size).text, dt.bank_count,
        human_size(r.ram_total()).text, dt.payload.base.value,
        dt.payload.end().value, dt.xen.present ? "Xen guest" : "no hypervisor");
  clock.end(Stage::kDiscover);

  const bool from_disk = steps::boots_from_disk(opts, dt);
  MB_CHECK(steps::build_ledger(p.layout, dt, r.ledger, from_disk));
  clock.end(Stage::kLedger);

  MB_CHECK(steps::open_xen(p, opts, dt, r.ledger, r.xen));
  clock.end(Stage::kXen);
  const XenSession& x = r.xen;
  if (x.present) {
    if (x.mapped())
      print(c, "magicboot: xen %u.%u: shared_info mapped at GFN %#lx (%s)\n", x.version >> 16, x.version & 0xffff,
            x.slot().gfn.value, magic::to_string(x.slot().source));
    else
      print(p.console, "magicboot: xen: shared_info not mapped: %s: %s (booting on without it)\n",
            x.map_error.check, x.map_error.detail);
  }

  MB_CHECK(steps::open_pv(p, opts, dt, r.ledger, r.xen));

  // From here on the options as this boot has them: a disk entry's
  // command line, when the payload comes from the disk.
  BootOptions o = opts;
  steps::PayloadSource src = steps::module_payload(dt);
  if (from_disk) {
    r.disk_boot = opts.disk;
    src = MB_TRY(steps::stage_disk(p, arena, dt, r.ledger, o));
    r.payload = src.whole;
  }
  const steps::Identified id = MB_TRY(steps::identify(p.mem, arena, o, dt, src));
  clock.end(Stage::kPayload);
  print(c, "magicboot: payload: %s, kernel %s %s, text_offset %#lx, image_size %#lx%s\n",
        to_string(id.payload.kind), to_string(id.payload.kernel_compression), human_size(id.kernel_size).text,
        id.image.text_offset, id.image.image_size,
        id.payload.ramdisk.size ? ", with ramdisk" : "");

  const steps::Plan plan = MB_TRY(steps::plan(id, dt.ram(), steps::kernel_dt_capacity(dt, o), r.ledger));
  clock.end(Stage::kPlan);
  // Where things go; their sizes are in the report.
  print(c, "magicboot: plan: kernel %#lx%s, DTB %#lx, initrd %#lx\n", plan.kernel.base.value,
        plan.kernel_in_place ? " (in place, zero-copy)" : "", plan.dtb.base.value,
        plan.initrd.base.value);

  const uint64_t loaded = MB_TRY(steps::load(p.mem, arena, id, plan, opts.progress, r.ledger));
  clock.end(Stage::kLoad);

  const size_t dtb_size = MB_TRY(steps::fixup(p.mem, arena, dt, o.bootargs, plan, r.ledger));
  clock.end(Stage::kFixup);
  // The incoming DT is released but not yet overwritten: its strings are
  // still there to copy.
  record_results(id, plan, loaded, dtb_size, steps::kernel_bootargs(o, dt), r);

  MB_CHECK(steps::close_pv(opts, r.ledger));
  if (opts.strategy == SharedInfoStrategy::kMagic) MB_CHECK(steps::close_xen(p.hyp, r.xen));
  steps::check_handover(r);
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

uint64_t BootReport::ram_total() const {
  uint64_t total = 0;
  for (const PhysRange& bank : ram()) total += bank.size;
  return total;
}

Res<void> prepare(Platform& p, const DiscoveredDt& dt, Arena& arena, const BootOptions& opts, BootReport& r) {
  r.pv_devices = opts.pv;
  auto result = run_steps(p, dt, arena, opts, r);
  // Nothing a backend could still write into survives a failed boot either.
  if (!result.ok()) (void)steps::close_pv(opts, r.ledger);
  // A failed boot leaves nothing of Xen's open behind it (kRamLegacy keeps
  // U-Boot's behaviour in this too). A second failure to remove is not
  // reported over the first error; the session still says "mapped".
  if (!result.ok() && opts.strategy == SharedInfoStrategy::kMagic) (void)steps::close_xen(p.hyp, r.xen);
  return result;
}

Res<void> boot(Platform& p, const DiscoveredDt& dt, Arena& arena, const BootOptions& opts, BootReport& r) {
  MB_CHECK(prepare(p, dt, arena, opts, r));
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
  print(p.console, "Starting kernel at %#lx, DTB %#lx ...\n", r.kernel.base.value,
        r.dtb.base.value);
  p.cpu.jump(Handover{r.kernel.base, r.dtb.base});
  return {};
}

}  // namespace mb::loader
