// An Arm64 Xen guest, from Xen's public arch-arm.h (GUEST_* constants).
// Guests should read RAM and the grant region from the DT; these are the
// defaults the model builds a domain from and the loader falls back to.
#pragma once

#include "magicboot/boards/region.h"

namespace mb::boards::xen_arm64 {

inline constexpr PhysRange kGntTab{GuestPhys{0x38000000}, 0x01000000};
inline constexpr PhysRange kMagic{GuestPhys{0x39000000}, 0x01000000};
inline constexpr PhysRange kRam0{GuestPhys{0x40000000}, 0xc0000000};       // 3 GiB
inline constexpr PhysRange kRam1{GuestPhys{0x0200000000}, 0xfe00000000};  // 1016 GiB
inline constexpr PhysRange kVpl011{GuestPhys{0x22000000}, 0x1000};
inline constexpr unsigned kEvtchnPpi = 31;

// Toolstack magic-page offsets (pages from kMagic.base).
inline constexpr unsigned kMagicConsole = 0;
inline constexpr unsigned kMagicXenstore = 1;
inline constexpr unsigned kMagicMemaccess = 2;
inline constexpr unsigned kMagicVuart = 3;
// The pages a toolstack populates (xg_dom_arm.c's NR_MAGIC_PAGES).
inline constexpr unsigned kToolstackMagicPages = 4;
// Downstream forks use offset 4 and up; the last page is used by nobody.
inline constexpr unsigned kMagicPages = kMagic.size / kPageSize;
inline constexpr unsigned kMagicSharedInfoDefault = kMagicPages - 1;

inline constexpr Region kRegions[] = {
    {"vpl011", kVpl011}, {"gnttab", kGntTab}, {"magic", kMagic}, {"ram0", kRam0}, {"ram1", kRam1},
};
static_assert(disjoint(kRegions));
static_assert(kMagicPages == 4096);
static_assert(kMagic.end() <= kRam0.base, "magic must lie below RAM");

// The banks Xen gives a guest of `bytes` of RAM: RAM0 first, RAM1 past 3 GiB.
constexpr RamBanks ram_banks(uint64_t bytes) {
  RamBanks b;
  uint64_t low = bytes < kRam0.size ? bytes : kRam0.size;
  b.bank[0] = PhysRange{kRam0.base, low};
  b.count = 1;
  if (bytes > low) {
    b.bank[1] = PhysRange{kRam1.base, bytes - low};
    b.count = 2;
  }
  return b;
}
static_assert(ram_banks(uint64_t{4} << 30).count == 2);
static_assert(ram_banks(uint64_t{4} << 30).bank[1].size == uint64_t{1} << 30);

}  // namespace mb::boards::xen_arm64
