#include "magicboot/loader/payload/gzip.h"
#include "steps.h"

namespace mb::loader::steps {

Res<void> load(GuestMemory& mem, Arena& arena, const PayloadView& pv, Progress* progress,
               BootReport& r) {
  const Payload& pl = pv.payload;
  if (r.kernel_zero_copy) return {};
  if (pl.kernel_compression == Compression::kGzip) {
    // Verified by the inflate, unlike ISIZE.
    r.kernel_file_size = MB_TRY(gunzip_to_guest(mem, pl.kernel.data, pl.kernel.size, r.kernel.base,
                                                r.image.image_size, arena, progress));
  } else {
    MB_CHECK(mem.copy(r.kernel.base, pl.kernel.addr, pl.kernel.size));
  }
  // The source has been consumed: its memory is free RAM for the kernel.
  return r.ledger.release(pl.kernel.range(), RangeType::kPayload);
}

}  // namespace mb::loader::steps
