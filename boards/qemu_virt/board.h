// QEMU's `virt` machine with no hypervisor (hw/arm/virt.c memory map).
#pragma once

#include "magicboot/boards/region.h"

namespace mb::boards::qemu_virt {

inline constexpr PhysRange kFlash{GuestPhys{0x00000000}, 0x08000000};
inline constexpr PhysRange kGic{GuestPhys{0x08000000}, 0x01000000};
inline constexpr PhysRange kPl011{GuestPhys{0x09000000}, 0x1000};
inline constexpr PhysRange kRam{GuestPhys{0x40000000}, uint64_t{255} << 30};

inline constexpr Region kRegions[] = {
    {"flash", kFlash}, {"gic", kGic}, {"pl011", kPl011}, {"ram", kRam},
};
static_assert(disjoint(kRegions));

}  // namespace mb::boards::qemu_virt
