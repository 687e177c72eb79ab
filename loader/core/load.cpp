#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/dt_fixup.h"
#include "steps.h"

namespace mb::loader::steps {

const char* kernel_bootargs(const BootOptions& opts, const BootReport& r) {
  return opts.bootargs != nullptr ? opts.bootargs : r.dt.bootargs;
}

Res<void> load(GuestMemory& mem, Arena& arena, const PayloadView& pv, Progress* progress,
               BootReport& r) {
  const Payload& pl = pv.payload;
  if (r.kernel_zero_copy) return {};
  if (pl.kernel_compression == Compression::kGzip) {
    auto mark = arena.mark();
    auto out = gunzip_to_guest(mem, pl.kernel.data, pl.kernel.size, r.kernel.base, r.image.image_size,
                               arena, progress);
    arena.rewind(mark);
    r.kernel_file_size = MB_TRY(out);  // verified by the inflate, unlike ISIZE
  } else {
    MB_CHECK(mem.copy(r.kernel.base, pl.kernel.addr, pl.kernel.size));
  }
  // The source has been consumed: its memory is free RAM for the kernel.
  return r.ledger.release(pl.kernel.range(), RangeType::kPayload);
}

Res<void> fixup(GuestMemory& mem, Arena& arena, const BootOptions& opts, size_t dt_capacity,
                BootReport& r) {
  const uint8_t* in = MB_TRY(mem.view(r.incoming_dt.base, r.incoming_dt.size));
  auto mark = arena.mark();
  void* out = arena.allocate(dt_capacity, 8);
  if (!out)
    return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for the kernel's DT do not fit the arena (%zu of %zu used)",
                  dt_capacity, arena.used(), arena.capacity());
  FixupParams params;
  params.bootargs = opts.bootargs;
  params.initrd = r.initrd;
  auto size = build_kernel_dt(in, out, dt_capacity, params);
  if (size.ok()) {
    auto written = mem.write(r.dtb.base, out, *size);
    if (written.ok()) r.dtb.size = *size;
    arena.rewind(mark);
    MB_CHECK(written);
  } else {
    arena.rewind(mark);
    return pass_on(size.error());
  }
  r.bootargs = kernel_bootargs(opts, r);
  // Nothing refers to the incoming DT any more: its memory is free RAM.
  return r.ledger.release(r.incoming_dt, RangeType::kIncomingDt);
}

}  // namespace mb::loader::steps
