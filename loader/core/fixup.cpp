// Step 7: the kernel's DT, from the incoming one (loader/dt builds it).
#include "magicboot/loader/dt_fixup.h"
#include "steps.h"

namespace mb::loader::steps {

const char* kernel_bootargs(const BootOptions& opts, const BootReport& r) {
  return opts.bootargs != nullptr ? opts.bootargs : r.dt.bootargs;
}

Res<void> fixup(GuestMemory& mem, Arena& arena, const BootOptions& opts, size_t dt_capacity,
                BootReport& r) {
  const uint8_t* in = MB_TRY(mem.view(r.incoming_dt.base, r.incoming_dt.size));
  ArenaScope scratch(arena);
  void* out = arena.allocate(dt_capacity, 8);
  if (!out)
    return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for the kernel's DT do not fit the arena (%zu of %zu used)",
                  dt_capacity, arena.used(), arena.capacity());
  FixupParams params;
  params.bootargs = opts.bootargs;
  params.initrd = r.initrd;
  const size_t size = MB_TRY(build_kernel_dt(in, out, dt_capacity, params));
  MB_CHECK(mem.write(r.dtb.base, out, size));
  r.dtb.size = size;
  r.bootargs = kernel_bootargs(opts, r);
  // Nothing refers to the incoming DT any more: its memory is free RAM.
  return r.ledger.release(r.incoming_dt, RangeType::kIncomingDt);
}

}  // namespace mb::loader::steps
