#include "magicboot/hypercall/arm64_hvc.h"

namespace mb::xen {

// Xen on Arm: `hvc #0xEA1`, op in x16, arguments in x0..x4, result in x0.
// Xen may clobber x0..x4 and x16 (docs: "arguments are not preserved").
long HvcHypercalls::call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                         uint64_t a4) {
  register uint64_t x0 asm("x0") = a0;
  register uint64_t x1 asm("x1") = a1;
  register uint64_t x2 asm("x2") = a2;
  register uint64_t x3 asm("x3") = a3;
  register uint64_t x4 asm("x4") = a4;
  register uint64_t x16 asm("x16") = op;
  asm volatile("hvc #0xEA1"
               : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x16)
               :
               : "memory");
  return static_cast<long>(x0);
}

}  // namespace mb::xen
