// Step 7: the kernel's DT, from the incoming one (loader/dt builds it).
#include "magicboot/loader/dt_fixup.h"
#include "steps.h"

namespace mb::loader::steps {

const char* kernel_bootargs(const BootOptions& opts, const DiscoveredDt& dt) {
  return opts.bootargs != nullptr ? opts.bootargs : dt.bootargs;
}

Res<size_t> fixup(GuestMemory& mem, Arena& arena, const DiscoveredDt& dt, const char* bootargs_override,
                  const Plan& plan, MemoryLedger& ledger) {
  const uint8_t* in = MB_TRY(mem.view(dt.blob.base, dt.blob.size));
  ArenaScope scratch(arena);
  const size_t capacity = plan.dtb.size;
  void* out = arena.allocate(capacity, 8);
  if (!out)
    return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for the kernel's DT do not fit the arena (%zu of %zu used)",
                  capacity, arena.used(), arena.capacity());
  FixupParams params;
  params.bootargs = bootargs_override;
  params.initrd = plan.initrd;
  const size_t size = MB_TRY(build_kernel_dt(in, out, capacity, params));
  MB_CHECK(mem.write(plan.dtb.base, out, size));
  // Nothing refers to the incoming DT any more: its memory is free RAM.
  MB_CHECK(ledger.release(dt.blob, RangeType::kIncomingDt));
  return size;
}

}  // namespace mb::loader::steps
