#include "magicboot/loader/payload/gzip.h"
#include "steps.h"

namespace mb::loader::steps {

Res<uint64_t> load(GuestMemory& mem, Arena& arena, const Identified& id, const Plan& plan, Progress* progress,
                   MemoryLedger& ledger) {
  const Payload& pl = id.payload;
  if (plan.kernel_in_place) return id.kernel_size;
  uint64_t loaded = pl.kernel.size;
  if (pl.kernel_compression == Compression::kGzip) {
    // Verified by the inflate, unlike ISIZE.
    loaded = MB_TRY(gunzip_to_guest(mem, pl.kernel.data, pl.kernel.size, plan.kernel.base, id.image.image_size,
                                    arena, progress));
  } else {
    MB_CHECK(mem.copy(plan.kernel.base, pl.kernel.addr, pl.kernel.size));
  }
  // The source has been consumed: its memory is free RAM for the kernel.
  MB_CHECK(ledger.release(pl.kernel.range(), RangeType::kPayload));
  return loaded;
}

}  // namespace mb::loader::steps
