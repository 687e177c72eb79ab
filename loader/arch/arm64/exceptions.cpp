#include "magicboot/loader/arch/arm64/exceptions.h"

#include <cstdarg>

#include "magicboot/format.h"
#include "magicboot/loader/arch/arm64/sysreg.h"

namespace mb::arm64 {
namespace {

const char* kind_name(unsigned kind) {
  static constexpr const char* kType[] = {"synchronous", "IRQ", "FIQ", "SError"};
  return kType[kind & 3];
}

const char* vector_name(unsigned kind) {
  static constexpr const char* kGroup[] = {"EL1/SP0", "EL1/SPx", "lower EL AArch64", "lower EL AArch32"};
  return kGroup[(kind >> 2) & 3];
}

// SPSR.M: where the CPU was. (Xen injects aborts through the SPx vectors
// even when the guest ran on SP0, so the vector alone is not the answer.)
const char* mode_name(uint64_t spsr) {
  switch (spsr & 0x1f) {
    case 0x0: return "EL0t";
    case 0x4: return "EL1t";
    case 0x5: return "EL1h";
    default: return "AArch32/other";
  }
}

bool far_valid(uint64_t esr) {
  const uint64_t ec = esr >> 26;
  // Aborts, PC/SP alignment, watchpoints report an address; FnV (bit 10)
  // marks an abort whose FAR is not valid.
  const bool has_far = ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25 || ec == 0x22 ||
                       ec == 0x34 || ec == 0x35;
  return has_far && ((ec != 0x20 && ec != 0x21 && ec != 0x24 && ec != 0x25) || (esr & (1 << 10)) == 0);
}

// Data/instruction fault status code (ESR.ISS.DFSC) in words.
const char* fault_status_name(uint64_t esr) {
  const uint64_t fsc = esr & 0x3f;
  switch (fsc >> 2) {
    case 0: return "address size fault";
    case 1: return "translation fault";
    case 2: return "access flag fault";
    case 3: return "permission fault";
    default: break;
  }
  if (fsc == 0x10) return "synchronous external abort";
  if (fsc == 0x21) return "alignment fault";
  if (fsc == 0x30) return "TLB conflict abort";
  return "other fault";
}

}  // namespace

const char* exception_class_name(uint64_t esr) {
  switch (esr >> 26) {
    case 0x00: return "unknown instruction";
    case 0x01: return "WFI/WFE trap";
    case 0x07: return "FP/SIMD access trap";
    case 0x0e: return "illegal execution state";
    case 0x15: return "SVC";
    case 0x16: return "HVC";
    case 0x18: return "system register trap";
    case 0x20: return "instruction abort (lower EL)";
    case 0x21: return "instruction abort";
    case 0x22: return "PC alignment fault";
    case 0x24: return "data abort (lower EL)";
    case 0x25: return "data abort";
    case 0x26: return "SP alignment fault";
    case 0x2f: return "SError";
    case 0x3c: return "BRK";
    default: return "other exception";
  }
}

void FaultReporter::install() { MB_WRITE_SYSREG(tpidr_el1, reinterpret_cast<uintptr_t>(this)); }

void FaultReporter::uninstall() { MB_WRITE_SYSREG(tpidr_el1, 0); }

FaultReporter* FaultReporter::current() {
  return reinterpret_cast<FaultReporter*>(static_cast<uintptr_t>(MB_READ_SYSREG(tpidr_el1)));
}

void FaultReporter::line(const char* fmt, ...) {
  char buf[160];
  va_list ap;
  va_start(ap, fmt);
  int n = vformat_to(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = static_cast<size_t>(n) < sizeof buf - 2 ? static_cast<size_t>(n) : sizeof buf - 2;
  buf[len++] = '\n';
  console_->write(buf, len);
}

void FaultReporter::report(unsigned kind, const ExceptionFrame& f) {
  if (reporting_) halt();  // faulted while reporting: the console itself is broken
  reporting_ = true;
  line("MAGICBOOT-FAULT %s exception in %s (vector %s): %s", kind_name(kind), mode_name(f.spsr),
       vector_name(kind), exception_class_name(f.esr));
  line("  ESR %#lx  ELR %#lx  SPSR %#lx", f.esr, f.elr, f.spsr);
  if (far_valid(f.esr)) {
    const uint64_t ec = f.esr >> 26;
    const bool abort = ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25;
    line("  FAR %#lx%s%s%s", f.far, abort ? ": " : "", abort ? fault_status_name(f.esr) : "",
         abort && ec >= 0x24 && (f.esr & (1 << 6)) ? " on write" : (abort && ec >= 0x24 ? " on read" : ""));
    char what[120];
    if (classify_ != nullptr && classify_(classify_ctx_, GuestPhys{f.far}, what, sizeof what))
      line("  FAR %#lx lies in %s", f.far, what);
    else
      line("  FAR %#lx lies in no known range", f.far);
  }
  line("  x0 %#lx x1 %#lx x2 %#lx x3 %#lx", f.x[0], f.x[1], f.x[2], f.x[3]);
  line("  x29 %#lx x30 %#lx", f.x[29], f.x[30]);
  line("MAGICBOOT-HALT stopped without jumping");
  halt();
}

void FaultReporter::fatal(const char* why) {
  if (!reporting_) {
    reporting_ = true;
    line("MAGICBOOT-FAULT %s", why);
    line("MAGICBOOT-HALT stopped without jumping");
  }
  halt();
}

void fatal(const char* why) {
  if (FaultReporter* r = FaultReporter::current()) r->fatal(why);
  halt();
}

}  // namespace mb::arm64

// Called by vectors.S on the exception stack.
extern "C" [[noreturn]] void mb_arm64_exception(unsigned kind, const mb::arm64::ExceptionFrame* frame) {
  if (mb::arm64::FaultReporter* r = mb::arm64::FaultReporter::current()) r->report(kind, *frame);
  mb::arm64::halt();
}
