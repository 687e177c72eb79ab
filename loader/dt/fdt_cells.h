// Reading big-endian cells out of a blob, byte by byte: with the MMU off
// every access is Device memory and an unaligned word load would fault
// (fdt::be32 and fdt::read_cells load bytes).
#pragma once

#include <cstdint>

#include "magicboot/loader/fdt/reader.h"

namespace mb::loader::dt_detail {

using fdt::read_cells;

// linux,initrd-start/-end come as one or two cells. Returns false when the
// property is absent or not 4 or 8 bytes long (*len tells which).
inline bool read_u32_or_u64(const void* fdt, int node, const char* prop, uint64_t* out, int* len) {
  const auto* p = static_cast<const uint8_t*>(fdt::getprop(fdt, node, prop, len));
  if (p == nullptr || (*len != 4 && *len != 8)) return false;
  *out = read_cells(p, *len / 4);
  return true;
}

}  // namespace mb::loader::dt_detail
