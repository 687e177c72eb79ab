#include "magicboot/loader/arch/arm64/xen_probe.h"

#include <cstring>

#include "boards/xen_arm64/board.h"
#include "magicboot/cmdline.h"
#include "magicboot/config.h"
#include "magicboot/format.h"
#include "magicboot/hypercall/conformance.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/loader/boot_protocol.h"
#include "magicboot/loader/arch/arm64/sysreg.h"

namespace mb::arm64 {
namespace {

struct ProbeRanges {
  PhysRange shared_info;  // empty until mapped
  bool removed = false;
  LoaderLayout loader;
};

bool classify(void* ctx, GuestPhys far, char* out, size_t len) {
  auto* r = static_cast<ProbeRanges*>(ctx);
  if (r->shared_info.contains(far)) {
    format_to(out, len, "magic page shared_info%s", r->removed ? " (removed before handover)" : "");
    return true;
  }
  if (stack_guard().contains(far)) return format_to(out, len, "the stack guard page (stack overflow)") > 0;
  if (r->loader.stack.contains(far)) return format_to(out, len, "the loader stack") > 0;
  if (r->loader.heap.contains(far)) return format_to(out, len, "the loader heap") > 0;
  if (r->loader.image.contains(far)) return format_to(out, len, "the loader image") > 0;
  if (boards::xen_arm64::kMagic.contains(far)) return format_to(out, len, "GUEST_MAGIC (unmapped page)") > 0;
  return false;
}

long rc_of(const xen::XenResult<xen::Unit>& r) { return r.ok() ? 0 : xen::rc_from_errno(r.error()); }

// "probe-jump": proves Cpu::jump (clean to PoC, MMU and caches off, x0 =
// DTB) by entering an arm64 Image that was given as the initrd, in place.
// Only where the boot protocol allows it: 2 MiB-aligned base + text_offset.
void jump_to_initrd(FirmwarePlatform& fw) {
  Console& con = fw.console();
  const PhysRange img = fw.dt().payload;
  auto* h = reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(img.base.value));
  uint64_t text_offset = 0;
  if (img.size < 64 || memcmp(h + 0x38, "ARM\x64", 4) != 0) {
    print(con, "probe-jump: initrd [%#lx, +%#lx) is not an arm64 Image\n",
          img.base.value, img.size);
    return;
  }
  memcpy(&text_offset, h + 8, sizeof text_offset);
  if (!img.base.is_aligned(loader::boot_protocol::kKernelAlign) || text_offset != 0) {
    print(con, "probe-jump: Image at %#lx with text_offset %#lx cannot run in place\n",
          img.base.value, text_offset);
    return;
  }
  print(con, "probe-jump: entering the Image at %#lx, x0 = DTB %#lx\n",
        img.base.value, fw.dtb().value);
  fw.cpu().clean_to_poc(img);
  fw.cpu().clean_to_poc(PhysRange{fw.dtb(), fw.dtb_size()});
  fw.cpu().jump(Handover{img.base, fw.dtb()});
}

// Under xl the guest runs before xenconsoled reads its ring, and a ring
// that stays full drops lines: wait (up to 10 s) until the backend has read
// what came before, then write.
void wait_for_console(FirmwarePlatform& fw) {
  const uint64_t start = fw.cpu().counter();
  while (!fw.console().drained() && fw.cpu().counter() - start < 10 * fw.cpu().counter_hz())
    (void)xen::sched_yield(fw.hypercalls());
}

void print_entry(void* ctx, const xen::ConformanceEntry& e) {
  auto& fw = *static_cast<FirmwarePlatform*>(ctx);
  wait_for_console(fw);
  print(fw.console(), MB_CONFORMANCE_LINE, e.index, e.name, e.arg, e.rc, e.value);
}

// "magicboot.conformance": the fixed hypercall sequence, its answers printed
// for tests/qemu/check_conformance.py to hold the model to. The pages it
// spends: the GUEST_MAGIC pages below the last (no toolstack populates
// them) and the last two pages of the first RAM bank, which must hold
// nothing of ours or Xen's.
bool run_conformance_probe(FirmwarePlatform& fw) {
  Console& con = fw.console();
  const loader::DiscoveredDt& dt = fw.dt();
  const Gfn magic_end = boards::xen_arm64::kMagic.end().gfn();
  const PhysRange bank = dt.ram()[0];
  xen::ConformanceInputs in;
  for (unsigned i = 0; i < 3; ++i) in.magic[i] = Gfn{magic_end.value - 2 - i};
  in.ram[0] = Gfn{bank.end().gfn().value - 1};
  in.ram[1] = Gfn{bank.end().gfn().value - 2};
  in.bad_pointer = 0x100000000;  // no stage-1 mapping (the bare fault test reads it)
  const PhysRange spent = range_of_pages(in.ram[1], 2);
  const LoaderLayout loader = loader_layout();
  for (PhysRange taken : {dt.blob, dt.payload, loader.image, loader.stack, loader.heap})
    if (taken.overlaps(spent)) {
      print(con, "MAGICBOOT-CONFORMANCE-ERROR RAM pages [%#lx, %#lx) are in use [%#lx, %#lx)\n", spent.base.value,
            spent.end().value, taken.base.value, taken.end().value);
      return false;
    }
  wait_for_console(fw);
  print(con, "MAGICBOOT-CONFORMANCE-INPUTS magic %#lx %#lx %#lx ram %#lx %#lx ram_mib %lu\n", in.magic[0].value,
        in.magic[1].value, in.magic[2].value, in.ram[0].value, in.ram[1].value, dt.ram_total() >> 20);
  const unsigned n = xen::run_conformance(fw.hypercalls(), in, print_entry, &fw);
  wait_for_console(fw);
  print(con, MB_CONFORMANCE_END, n);
  wait_for_console(fw);
  return true;
}

// "probe-sleep": what pv::Deadline stands on -- a SCHEDOP_poll on a port
// nobody raises ends when the vCPU's virtual timer fires, its interrupt
// masked. Three sleeps of 20 ms on an unbound port of our own; each must
// last at least that and well under a second (else only something else
// woke it, or nothing would have).
bool run_sleep_probe(FirmwarePlatform& fw) {
  Console& con = fw.console();
  Cpu& cpu = fw.cpu();
  auto port = xen::evtchn_alloc_unbound(fw.hypercalls(), DOMID_SELF);
  if (!port.ok()) {
    print(con, "probe-sleep: evtchn_alloc_unbound: %s\n", xen::to_string(port.error()));
    return false;
  }
  bool ok = true;
  const uint64_t hz = cpu.counter_hz();
  for (unsigned i = 0; i < 3; ++i) {
    const uint64_t t0 = cpu.counter();
    const uint64_t asked = hz / 50;
    cpu.wake_at(t0 + asked);
    const long rc = rc_of(xen::sched_poll(fw.hypercalls(), *port));
    cpu.cancel_wake();
    const uint64_t slept = cpu.counter() - t0;
    const bool good = rc == 0 && slept >= asked && slept < hz;
    print(con, "MAGICBOOT-SLEEP {\"port\":%u,\"rc\":%ld,\"asked_us\":%lu,\"slept_us\":%lu,\"ok\":%s}\n", *port, rc,
          asked * 1000000 / hz, slept * 1000000 / hz, good ? "true" : "false");
    ok = ok && good;
  }
  ok = xen::evtchn_close(fw.hypercalls(), *port).ok() && ok;
  return ok;
}

}  // namespace

void run_xen_probe(FirmwarePlatform& fw) {
  Console& con = fw.console();
  const loader::DiscoveredDt& dt = fw.dt();
  ProbeRanges ranges{PhysRange{}, false, loader_layout()};
  fw.faults().set_classifier(classify, &ranges);
  const bool want_fault = dt.bootargs != nullptr && strstr(dt.bootargs, "probe-fault") != nullptr;
  bool ok = true;

  // The guard page below the stack must still fault once RAM is mapped.
  if (dt.bootargs != nullptr && strstr(dt.bootargs, "probe-guard") != nullptr) {
    const uintptr_t guard = static_cast<uintptr_t>(stack_guard().base.value);
    print(con, "probe: reading the stack guard page at %#lx to test that it stays unmapped\n",
          guard);
    (void)*reinterpret_cast<volatile uint64_t*>(guard);
  }

  if (!dt.xen.present) {
    print(con, "xen: no hypervisor (no /hypervisor node): Xen steps skipped\n");
    if (want_fault) {
      print(con, "probe: reading unmapped 0x100000000 to test the fault report\n");
      (void)*reinterpret_cast<volatile uint32_t*>(uintptr_t{0x100000000});
    }
  } else if (cmdline_has(dt.bootargs, "magicboot.conformance")) {
    ok = run_conformance_probe(fw);
  } else if (cmdline_has(dt.bootargs, "probe-sleep")) {
    ok = run_sleep_probe(fw);
  } else {
    xen::HvcHypercalls& hyp = fw.hypercalls();
    auto ver = xen::xen_version(hyp);
    if (ver.ok())
      print(con, "xen: version %u.%u; grant region %#lx+%#lx\n", *ver >> 16, *ver & 0xffff,
            dt.xen.grant_table.base.value,
            dt.xen.grant_table.size);
    else
      print(con, "xen: xen_version failed: %s\n", xen::to_string(ver.error()));
    ok = ok && ver.ok();

    const Gfn gfn = boards::xen_arm64::kMagic.base.gfn() + CONFIG_SHARED_INFO_MAGIC_OFFSET;
    auto add = xen::add_to_physmap(hyp, XENMAPSPACE_shared_info, 0, gfn);
    print(con, "shared_info: add_to_physmap gfn %#lx rc=%ld\n", gfn.value,
          rc_of(add));
    ok = ok && add.ok();
    if (add.ok()) {
      ranges.shared_info = PhysRange{gfn.addr(), kPageSize};
      auto* si = reinterpret_cast<volatile shared_info*>(static_cast<uintptr_t>(gfn.addr().value));
      // wc_* is set when Xen learns the wall clock; vcpu 0's time info is
      // what Xen keeps updating in any shared_info page, so it proves the
      // mapping is live.
      print(con, "shared_info: wc_version %u; vcpu0 time version %u system_time %lu ns\n", si->wc_version,
            si->vcpu_info[0].time.version, si->vcpu_info[0].time.system_time);
      auto rm = xen::remove_from_physmap(hyp, gfn);
      print(con, "shared_info: remove_from_physmap gfn %#lx rc=%ld\n",
            gfn.value, rc_of(rm));
      ok = ok && rm.ok();
      ranges.removed = rm.ok();
      if (want_fault) {
        print(con, "probe: reading the removed page to test the fault report\n");
        (void)si->wc_version;
      }
    }
  }
  if (ok && dt.bootargs != nullptr && strstr(dt.bootargs, "probe-jump") != nullptr) jump_to_initrd(fw);
  const uint64_t ticks = fw.cpu().counter() - fw.entry_counter();
  print(con, "probe: %lu us since entry\n",
        (ticks * 1000000 / fw.cpu().counter_hz()));
  print(con, ok ? "MAGICBOOT-PROBE ok\n" : "MAGICBOOT-PROBE failed\n");
  halt();
}

}  // namespace mb::arm64
