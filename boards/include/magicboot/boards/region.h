// Boards are constexpr data: named regions of the guest-physical map, with
// compile-time checks that no two overlap.
#pragma once

#include <cstddef>

#include "magicboot/addr.h"

namespace mb::boards {

struct Region {
  const char* name;
  PhysRange range;
};

template <size_t N>
constexpr bool disjoint(const Region (&regions)[N]) {
  for (size_t i = 0; i < N; ++i)
    for (size_t j = i + 1; j < N; ++j)
      if (regions[i].range.overlaps(regions[j].range)) return false;
  return true;
}

// Up to two RAM banks, as Xen builds them for an Arm guest.
struct RamBanks {
  PhysRange bank[2];
  unsigned count = 0;
  constexpr uint64_t total() const {
    uint64_t t = 0;
    for (unsigned i = 0; i < count; ++i) t += bank[i].size;
    return t;
  }
};

}  // namespace mb::boards
