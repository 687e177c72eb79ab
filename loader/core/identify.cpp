#include "magicboot/cmdline.h"
#include "magicboot/format.h"
#include "magicboot/loader/payload/gzip.h"
#include "steps.h"

namespace mb::loader::steps {

Res<Identified> identify(GuestMemory& mem, Arena& arena, const BootOptions& opts, const DiscoveredDt& dt,
                         const PayloadSource& src) {
  const uint8_t* data = MB_TRY(mem.view(src.file.base, src.file.size));
  Identified id{src.whole, MB_TRY(identify_payload(data, src.file.size, src.file.base, opts.fit_config)), {}, 0};
  // The entry's initrd wins over one inside a FIT, as the entry names it.
  if (!src.initrd.empty())
    id.payload.ramdisk = Blob{src.initrd.base, src.initrd.size, MB_TRY(mem.view(src.initrd.base, src.initrd.size))};
  const Payload& pl = id.payload;
  // What the boot was asked and cannot do, refused before anything is placed
  // or loaded: a command line Linux would cut, a FIT configuration for a
  // payload that has none. One error site for both: each site costs firmware
  // code (the Error is copied into the result), and the image is near its
  // budget.
  const char* line = kernel_bootargs(opts, dt);
  const size_t len = line != nullptr ? __builtin_strlen(line) : 0;
  const bool too_long = len >= kLinuxCommandLineSize;
  if (too_long || (opts.fit_config != nullptr && pl.kind != PayloadKind::kFit)) {
    char why[112];
    if (too_long)
      format_to(why, sizeof why, "%zu-byte kernel command line: arm64 Linux keeps %zu (COMMAND_LINE_SIZE)", len,
                kLinuxCommandLineSize - 1);
    else
      format_to(why, sizeof why, "configuration \"%s\" asked of a non-FIT payload (%s)", opts.fit_config, to_string(pl.kind));
    return MB_ERR(ErrorCode::kBadInput, too_long ? "bootargs-length" : "fit-config-not-fit", "%s", why);
  }
  if (pl.kernel_compression == Compression::kGzip) {
    uint8_t head[kImageHeaderSize];
    size_t got = MB_TRY(gunzip_prefix(pl.kernel.data, pl.kernel.size, head, sizeof head, arena));
    id.image = MB_TRY(parse_image_header(head, got));
    // ISIZE is only what the last four bytes claim: garbage when the stream
    // is truncated or corrupt. It is not judged here; the inflate checks the
    // real size against image_size (gzip-capacity) and the stream's end
    // (gzip-truncated, gzip-crc), naming the actual fault.
    id.kernel_size = MB_TRY(gzip_isize(pl.kernel.data, pl.kernel.size));
  } else {
    id.image = MB_TRY(parse_image_header(pl.kernel.data, pl.kernel.size));
    id.kernel_size = pl.kernel.size;
  }
  if (id.image.image_size == 0)
    return MB_ERR(ErrorCode::kUnsupported, "image-legacy",
                  "kernel at %#lx has image_size 0 (pre-3.17 kernel): its bss size is unknown",
                  pl.kernel.addr.value);
  if (pl.kernel_compression == Compression::kNone) MB_CHECK(check_image_size(id.image, id.kernel_size));
  return id;
}

}  // namespace mb::loader::steps
