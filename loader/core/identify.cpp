#include "magicboot/loader/payload/gzip.h"
#include "steps.h"

namespace mb::loader::steps {

Res<PayloadView> identify(GuestMemory& mem, Arena& arena, const BootOptions& opts, BootReport& r) {
  const uint8_t* data = MB_TRY(mem.view(r.payload.base, r.payload.size));
  PayloadView pv{MB_TRY(identify_payload(data, r.payload.size, r.payload.base, opts.fit_config))};
  const Payload& pl = pv.payload;
  r.payload_kind = pl.kind;
  r.kernel_compression = pl.kernel_compression;
  r.fit_config = pl.fit_config;

  if (pl.kernel_compression == Compression::kGzip) {
    uint8_t head[kImageHeaderSize];
    auto mark = arena.mark();
    size_t got = MB_TRY(gunzip_prefix(pl.kernel.data, pl.kernel.size, head, sizeof head, arena));
    arena.rewind(mark);
    r.image = MB_TRY(parse_image_header(head, got));
    // ISIZE is only what the last four bytes claim: garbage when the stream
    // is truncated or corrupt. It is not judged here; the inflate checks the
    // real size against image_size (gzip-capacity) and the stream's end
    // (gzip-truncated, gzip-crc), naming the actual fault.
    r.kernel_file_size = MB_TRY(gzip_isize(pl.kernel.data, pl.kernel.size));
  } else {
    r.image = MB_TRY(parse_image_header(pl.kernel.data, pl.kernel.size));
    r.kernel_file_size = pl.kernel.size;
  }
  if (r.image.image_size == 0)
    return MB_ERR(ErrorCode::kUnsupported, "image-legacy",
                  "kernel at %#llx has image_size 0 (pre-3.17 kernel): its bss size is unknown",
                  (unsigned long long)pl.kernel.addr.value);
  if (pl.kernel_compression == Compression::kNone) MB_CHECK(check_image_size(r.image, r.kernel_file_size));
  return pv;
}

}  // namespace mb::loader::steps
