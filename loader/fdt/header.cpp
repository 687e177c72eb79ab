// The header and the memory reservation block.
#include <climits>

#include "magicboot/loader/fdt/reader.h"
#include "magicboot/loader/fdt/tokens.h"

namespace mb::fdt {
namespace {

// Header bytes by version: v2 added boot_cpuid_phys, v3 size_dt_strings,
// v17 size_dt_struct.
uint32_t header_size(uint32_t v) { return v < 2 ? 28 : v < 3 ? 32 : v < 17 ? 36 : 40; }

// A block [base, base + size) after the header and inside totalsize.
bool block_inside(uint32_t hdr, uint32_t total, uint32_t base, uint64_t size) {
  return base >= hdr && base <= total && uint64_t{base} + size <= total;
}

}  // namespace

int check_header(const void* fdt) {
  if (magic(fdt) != kMagic) return -kBadMagic;
  const uint32_t v = version(fdt), last = header(fdt, kHdrLastCompVersion);
  if (v < 2 || last > kVersion || v < last) return -kBadVersion;
  const uint32_t hdr = header_size(v), total = total_size(fdt);
  if (total < hdr || total > INT_MAX) return -kTruncated;
  if (!block_inside(hdr, total, header(fdt, kHdrOffMemRsv), 0)) return -kTruncated;
  if (!block_inside(hdr, total, header(fdt, kHdrOffStruct), v < 17 ? 0 : header(fdt, kHdrSizeStruct)))
    return -kTruncated;
  if (!block_inside(hdr, total, header(fdt, kHdrOffStrings), header(fdt, kHdrSizeStrings))) return -kTruncated;
  return 0;
}

int mem_rsv(const void* fdt, int i, uint64_t* address, uint64_t* size) {
  const uint64_t off = header(fdt, kHdrOffMemRsv) + uint64_t{kMemRsvEntrySize} * static_cast<uint32_t>(i);
  if (i < 0 || off + kMemRsvEntrySize > total_size(fdt)) return -kBadOffset;
  const uint8_t* e = static_cast<const uint8_t*>(fdt) + off;
  *address = be64(e);
  *size = be64(e + 8);
  return 0;
}

int mem_rsv_count(const void* fdt) {
  uint64_t address, size;
  for (int i = 0; mem_rsv(fdt, i, &address, &size) == 0; ++i)
    if (size == 0) return i;
  return -kTruncated;
}

int check_tree(const void* fdt, size_t buffer_size) {
  if (buffer_size < kHeaderSize) return -kTruncated;
  int rc = check_header(fdt);
  if (rc != 0) return rc;
  if (buffer_size < total_size(fdt)) return -kTruncated;
  rc = mem_rsv_count(fdt);
  if (rc < 0) return rc;
  return check_structure(fdt);
}

}  // namespace mb::fdt
