// System register access for the arm64 firmware.
#pragma once

#include <cstdint>

#define MB_READ_SYSREG(reg)                          \
  ({                                                 \
    uint64_t mb_sysreg_value_;                       \
    asm volatile("mrs %0, " #reg : "=r"(mb_sysreg_value_)); \
    mb_sysreg_value_;                                \
  })

#define MB_WRITE_SYSREG(reg, value) \
  asm volatile("msr " #reg ", %0" : : "r"(static_cast<uint64_t>(value)) : "memory")

namespace mb::arm64 {

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { asm volatile("dsb ish" ::: "memory"); }
inline void dsb_ishst() { asm volatile("dsb ishst" ::: "memory"); }

// Smallest D-cache line (CTR_EL0.DminLine): the stride for maintenance by VA.
inline uint64_t dcache_line_size() {
  return uint64_t{4} << ((MB_READ_SYSREG(ctr_el0) >> 16) & 0xf);
}

inline unsigned current_el() { return static_cast<unsigned>((MB_READ_SYSREG(CurrentEL) >> 2) & 3); }

// Stops this CPU for good; used after a report when nothing can continue.
[[noreturn]] inline void halt() {
  for (;;) asm volatile("wfi");
}

}  // namespace mb::arm64
