// Reading big-endian cells out of a blob, byte by byte: with the MMU off
// every access is Device memory and an unaligned word load would fault.
#pragma once

#include <libfdt.h>

#include <cstdint>

namespace mb::loader::dt_detail {

inline uint64_t read_cells(const uint8_t* p, int cells) {
  uint64_t v = 0;
  for (int i = 0; i < cells; ++i) v = (v << 32) | fdt32_ld(reinterpret_cast<const fdt32_t*>(p + 4 * i));
  return v;
}

// linux,initrd-start/-end come as one or two cells. Returns false when the
// property is absent or not 4 or 8 bytes long (*len tells which).
inline bool read_u32_or_u64(const void* fdt, int node, const char* prop, uint64_t* out, int* len) {
  const auto* p = static_cast<const uint8_t*>(fdt_getprop(fdt, node, prop, len));
  if (p == nullptr || (*len != 4 && *len != 8)) return false;
  *out = read_cells(p, *len / 4);
  return true;
}

}  // namespace mb::loader::dt_detail
