// A disk image whose every sector differs: what the PV tests read back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mb::pv::test {

inline std::vector<uint8_t> pattern_disk(size_t bytes) {
  std::vector<uint8_t> d(bytes);
  uint32_t x = 0x12345678;
  for (auto& b : d) {
    x = x * 1103515245 + 12345;
    b = static_cast<uint8_t>(x >> 24);
  }
  return d;
}

}  // namespace mb::pv::test
