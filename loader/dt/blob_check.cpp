#include "blob_check.h"

#include "magicboot/loader/fdt/reader.h"

namespace mb::loader::dt_detail {

Res<void> check_blob(const void* fdt, size_t buffer_size) {
  if (fdt == nullptr || buffer_size < fdt::kHeaderSize)
    return MB_ERR(ErrorCode::kBadInput, "dt-header", "DT buffer holds %zu bytes, less than a header (%zu)",
                  buffer_size, fdt::kHeaderSize);
  int rc = fdt::check_header(fdt);
  if (rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-header", "DT: bad header: %s (magic %#x, version %u, totalsize %u)",
                  fdt::reason(rc), fdt::magic(fdt), fdt::version(fdt), fdt::total_size(fdt));
  // dtc, Xen and QEMU write v17; older headers lack sizes the checks use.
  if (fdt::version(fdt) < 17)
    return MB_ERR(ErrorCode::kBadInput, "dt-version", "DT: version %u, need 17 or later", fdt::version(fdt));
  if (fdt::total_size(fdt) > buffer_size)
    return MB_ERR(ErrorCode::kBadInput, "dt-truncated", "DT: totalsize %u exceeds the %zu bytes available",
                  fdt::total_size(fdt), buffer_size);
  rc = fdt::mem_rsv_count(fdt);
  if (rc < 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-structure", "DT (%u bytes): memreserve block at %#x: %s",
                  fdt::total_size(fdt), fdt::header(fdt, fdt::kHdrOffMemRsv), fdt::reason(rc));
  rc = fdt::check_structure(fdt);
  if (rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-structure", "DT (%u bytes): structure block at %#x (%u bytes): %s",
                  fdt::total_size(fdt), fdt::header(fdt, fdt::kHdrOffStruct), fdt::header(fdt, fdt::kHdrSizeStruct),
                  fdt::reason(rc));
  return {};
}

}  // namespace mb::loader::dt_detail
