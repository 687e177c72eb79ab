#include "magicboot/sim/sim.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "guest_dt.h"
#include "magicboot/config.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/disk/distro_boot.h"
#include "magicboot/loader/pv_disk.h"
#include "magicboot/pv/console_ring.h"
#include "sim_platform.h"

namespace mb::sim {
namespace {

namespace xa = boards::xen_arm64;
constexpr uint64_t kMiB = uint64_t{1} << 20;

// Xen loads the domU "kernel" (magicboot) at RAM base + text_offset (0); the
// firmware's image, stack and arena follow it.
constexpr LoaderLayout kLoaderLayout{
    PhysRange{GuestPhys{0x40000000}, 0x20000},
    PhysRange{GuestPhys{0x40020000}, 0x10000},
    PhysRange{GuestPhys{0x40030000}, 0x100000},
};

// Xen puts the DT, then the modules below it, at the top of the first
// 128 MiB of RAM (or of the first bank when smaller).
Res<DomainLayout> place_modules(const std::vector<PhysRange>& ram, uint64_t dt_size, uint64_t payload_size,
                                uint64_t payload_align) {
  const PhysRange& bank = ram.front();
  uint64_t top = bank.base.value + std::min<uint64_t>(bank.size, 128 * kMiB);
  uint64_t dtb = align_down(top - dt_size, kMiB * 2) ;
  if (payload_size + dt_size + kLoaderLayout.heap.end().value - bank.base.value > top - bank.base.value ||
      dtb < payload_size)
    return MB_ERR(ErrorCode::kNoMemory, "sim-module-placement",
                  "a %lu-byte payload does not fit below the DT in the first bank [%#lx, %#lx)",
                  payload_size, bank.base.value,
                  bank.end().value);
  uint64_t payload = align_down(dtb - payload_size, payload_align);
  if (payload < kLoaderLayout.heap.end().value) payload = align_up(kLoaderLayout.heap.end().value, 8);
  return DomainLayout{GuestPhys{dtb}, GuestPhys{payload}};
}

// What the kernel is really told: the DT the loader wrote, read back.
model::HandoverView view_of_handover(model::Model& m, const loader::BootReport& r) {
  model::HandoverView v;
  v.kernel = r.kernel;
  v.kernel_entry = r.kernel.base;
  v.kernel_text_offset = r.image.text_offset;
  v.dtb = r.dtb;
  std::vector<uint8_t> blob(r.dtb.size);
  auto rd = m.memory("validator").read(r.dtb.base, blob.data(), blob.size());
  if (rd.ok()) {
    auto dt = loader::discover(blob.data(), blob.size());
    if (dt.ok()) {
      for (const PhysRange& b : dt->ram())
        if (v.ram.count < 2) v.ram.bank[v.ram.count++] = b;
      for (const loader::DtReservation& res : dt->reservations()) v.reserved.push_back(res.range);
      v.initrd = dt->payload;
    }
  }
  if (v.ram.count == 0) v.ram = m.ram();  // unreadable DT: judge against Xen's RAM
  // magicboot is gone after the jump: its image, stack and arena become the
  // kernel's free RAM, and rightly so. What stays alive is only what the
  // loader left for Xen to write to: a shared_info page it did not remove
  // (the ram-legacy strategy allocates it in its heap, as U-Boot does).
  if (r.xen.mapped() && !r.xen.removed())
    v.own_ranges.emplace_back("loader heap page left to Xen (shared_info)", range_of_pages(r.xen.slot().gfn, 1));
  return v;
}

std::string extract_json(const std::string& console) {
  const std::string tag = "MAGICBOOT-HANDOVER ";
  size_t at = console.rfind(tag);
  if (at == std::string::npos) return {};
  size_t end = console.find('\n', at);
  return console.substr(at + tag.size(), end == std::string::npos ? std::string::npos : end - at - tag.size());
}

}  // namespace

SimResult run_sim(const SimOptions& o, const SimInspector& inspect) {
  auto t0 = std::chrono::steady_clock::now();
  SimResult res;
  model::DomainConfig cfg;
  cfg.kind = o.domain;
  cfg.ram_bytes = o.ram_mib * kMiB;
  cfg.shared_info_param = o.shared_info_param;
  cfg.extended_regions = o.extended_regions;
  cfg.shared_info_magic_offset = o.shared_info_magic_offset;
  cfg.shared_info_dt_property = o.shared_info_dt_property;
  cfg.disk = o.disk;
  model::Model m(cfg);
  if (o.setup_model) o.setup_model(m);

  std::vector<PhysRange> ram = o.ram_override;
  if (ram.empty()) {
    boards::RamBanks banks = m.ram();
    for (unsigned i = 0; i < banks.count; ++i) ram.push_back(banks.bank[i]);
  }
  GuestDtSpec spec;
  spec.ram = ram;
  spec.memreserve = o.memreserve;
  spec.bootargs = o.bootargs;
  spec.hypervisor = o.hypervisor_node;
  spec.ext_regions = m.extended_regions();
  spec.shared_info_gfn = m.shared_info_dt_offer();
  // The DT's size does not depend on the initrd's value: place with a dummy.
  spec.initrd = PhysRange{GuestPhys{0x40000000}, 1};
  uint64_t dt_size = build_guest_dt(spec).size();
  auto layout = place_modules(ram, dt_size, o.payload.size(), o.payload_align);
  if (!layout.ok()) {
    res.error = layout.error();
    return res;
  }
  GuestPhys payload_at = o.payload_address ? GuestPhys{o.payload_address} : layout->payload;
  spec.initrd = o.omit_initrd || o.payload.empty() ? PhysRange{} : PhysRange{payload_at, o.payload.size()};
  std::vector<uint8_t> dt = build_guest_dt(spec);
  if (o.mangle_dt) dt = o.mangle_dt(std::move(dt));
  res.dtb_in = layout->dtb;
  res.payload_at = payload_at;

  GuestMemory& builder = m.memory("xen-domain-builder");
  auto w1 = builder.write(payload_at, o.payload.data(), o.payload.size());
  auto w2 = builder.write(layout->dtb, dt.data(), dt.size());
  if (!w1.ok() || !w2.ok()) {
    res.error = !w1.ok() ? w1.error() : w2.error();
    return res;
  }

  res.domain_built = true;
  // From here every hypercall is the guest's: the firmware's bring-up (the
  // console ring) and then the loader.
  RecordingHypercalls hyp(m.hypercalls(), o.fault);
  CapturedConsole console;
  std::optional<pv::ConsoleRing> ring;
  if (auto place = pv::find_console_ring(hyp, xa::kMagic, ram); place.ok()) {
    ring.emplace(hyp, m.memory("loader"), *place);
    console.ring = &*ring;
  }
  RecordingCpu cpu;
  StderrProgress progress;
  Platform p{hyp, m.memory("loader"), console, cpu, kLoaderLayout};
  // The firmware's arena size; each run its own, so run_sim is reentrant.
  std::vector<uint8_t> arena_buf(CONFIG_LOADER_HEAP_SIZE);
  Arena arena(arena_buf.data(), arena_buf.size());
  loader::BootOptions opts;
  opts.strategy = o.strategy;
  opts.fit_config = o.fit_config.empty() ? nullptr : o.fit_config.c_str();
  opts.bootargs = o.bootargs_override.empty() ? nullptr : o.bootargs_override.c_str();
  opts.shared_info_fallback_offset = CONFIG_SHARED_INFO_MAGIC_OFFSET;
  opts.progress = o.progress ? &progress : nullptr;
  loader::PvDisk pv(o.pv_timeout_ms);
  opts.pv = &pv;
  opts.hash_disk = o.hash_disk;
  SimKeys keys(o.menu_keys);
  loader::DistroBoot disk(&keys);
  if (o.disk_boot) opts.disk = &disk;

  // As the firmware does: its bring-up discovers the DT, the loader takes it.
  auto booted = [&]() -> Res<void> {
    const loader::DiscoveredDt incoming = MB_TRY(loader::discover_at(p.mem, layout->dtb));
    return loader::boot(p, incoming, arena, opts, res.report);
  }();
  if (ring) ring->flush();
  res.console = console.text;
  res.pv_console = m.pv_console_output();
  res.ring_errors = m.ring_protocol_errors();
  res.handover_json = extract_json(console.text);
  res.hypercalls = hyp.calls;
  res.faults_before_jump = m.faults().size();
  if (!booted.ok() || !cpu.jumped) {
    res.error = booted.ok() ? Error::make(ErrorCode::kInvariant, "no-jump", "the loader returned without jumping")
                            : booted.error();
    res.outcome = SimResult::Outcome::kBadInput;
    if (inspect) inspect(m, res);
    // Bad input must leave nothing behind: judge the domain as it is.
    // Only the memory-state invariants apply: there is no layout to judge.
    model::HandoverView v = view_of_handover(m, res.report);
    for (auto* check : {model::check_no_xen_page_in_ram, model::check_no_ram_hole, model::check_exclusive_access,
                        model::check_no_foreign_access})
      for (model::Finding& f : check(m, v)) res.findings.push_back(std::move(f));
    res.touched_pages = m.touched_pages();
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return res;
  }
  res.jumped = true;
  if (inspect) inspect(m, res);
  res.view = view_of_handover(m, res.report);
  res.findings = model::validate(m, res.view);
  // A wake the PV layer armed for its sleep (Cpu::wake_at) and never
  // cancelled would fire into the next stage.
  if (cpu.wake_armed_at_jump)
    res.findings.push_back(model::Finding{"no-foreign-access", Gfn{}, 0, "magicboot (vCPU virtual timer)", "linux",
                                          "the loader's wake-up timer is still armed at the jump"});
  res.next = model::run_next_stage(m, res.view);
  res.touched_pages = m.touched_pages();
  bool clean = res.findings.empty() && res.next.clean();
  res.outcome = clean ? SimResult::Outcome::kClean : SimResult::Outcome::kViolation;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace mb::sim
