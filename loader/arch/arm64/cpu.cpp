#include "magicboot/loader/arch/arm64/cpu.h"

#include "magicboot/loader/arch/arm64/exceptions.h"
#include "magicboot/loader/arch/arm64/layout.h"
#include "magicboot/loader/arch/arm64/sysreg.h"

// jump.S: MMU, caches off, branch. Touches no memory after the MMU is off.
extern "C" [[noreturn]] void mb_arm64_jump(uint64_t entry, uint64_t x0, uint64_t x1, uint64_t x2,
                                           uint64_t x3);

namespace mb::arm64 {

uint64_t Arm64Cpu::counter() {
  isb();  // no earlier read of the counter than program order says
  return MB_READ_SYSREG(cntvct_el0);
}

uint64_t Arm64Cpu::counter_hz() const { return MB_READ_SYSREG(cntfrq_el0); }

#if defined(CONFIG_PV_BLOCK) || defined(CONFIG_FIRMWARE_PROBE)
// The timer's interrupt is never taken (PSTATE.I stays set): Xen sees it
// fire -- on the hardware timer while we run, or on its own timer for the
// saved compare value while we sleep -- and unblocks the vCPU.
bool Arm64Cpu::wake_at(uint64_t at) {
  MB_WRITE_SYSREG(cntv_cval_el0, at);
  isb();
  MB_WRITE_SYSREG(cntv_ctl_el0, uint64_t{1});  // ENABLE, IMASK clear
  isb();
  return true;
}

void Arm64Cpu::cancel_wake() {
  MB_WRITE_SYSREG(cntv_ctl_el0, uint64_t{0});
  isb();
}
#endif

void Arm64Cpu::clean_to_poc(PhysRange range) {
  if (range.empty()) return;
  const uint64_t line = dcache_line_size();
  dsb_sy();  // earlier stores before their maintenance
  uint64_t a = align_down(range.base.value, line);
  const uint64_t end = range.end().value;
  // Four lines per iteration (~2.5 instructions a line): a copied 27 MB kernel is 430k lines, and the
  // loop overhead would otherwise cost more than the maintenance itself.
  while (a < end && end - a > 3 * line)
    asm volatile(
        "dc civac, %0\n add %0, %0, %1\n dc civac, %0\n add %0, %0, %1\n"
        "dc civac, %0\n add %0, %0, %1\n dc civac, %0\n add %0, %0, %1"
        : "+r"(a)
        : "r"(line)
        : "memory");
  for (; a < end; a += line) asm volatile("dc civac, %0" : : "r"(a) : "memory");
  dsb_sy();
}

void Arm64Cpu::jump(const Handover& h) {
  // The next stage runs with the MMU off at first: everything it reads must
  // be in memory, and no dirty line of ours may be evicted later over memory
  // it owns by then. The loader core cleaned kernel, DTB and initrd.
  FaultReporter::uninstall();
  // The heap (1 MiB, most of the footprint) is written only through the
  // arena, with caches on: past its peak no line of ours can be dirty.
  PhysRange dirty = own_;
  if (arena_ != nullptr && heap_.end() == own_.end() && own_.contains(heap_.base))
    dirty.size = heap_.base.value - own_.base.value + align_up(arena_->peak(), dcache_line_size());
  // Around the stack's guard page: it is unmapped, and a DC CIVAC by VA there
  // would fault on hardware (QEMU's TCG does not translate cache maintenance).
  clean_to_poc(dirty.before(stack_guard()));
  clean_to_poc(dirty.after(stack_guard()));
  mb_arm64_jump(h.entry.value, h.dtb.value, h.x1, h.x2, h.x3);
}

}  // namespace mb::arm64
