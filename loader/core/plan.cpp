// Placement per Linux's arm64 booting.rst: the kernel at a 2 MiB-aligned base
// + text_offset with image_size bytes free, below 2^48 (and in the lowest
// bank unless flag bit 3 says "anywhere"); the DTB 8-byte aligned, at most
// 2 MiB, alone in its 2 MiB block; the initrd in RAM, overlapping nothing.
//
// Every destination is taken from free RAM in the ledger, so no destination
// overlaps a source that is still needed: the load order cannot matter. The
// one overlap allowed is the identity: a kernel already where it may run is
// not moved (zero-copy), and an initrd already in RAM stays where it is.
#include "magicboot/loader/boot_protocol.h"
#include "magicboot/loader/dt_fixup.h"
#include "steps.h"

namespace mb::loader::steps {
namespace {

using boot_protocol::kAddressLimit;
using boot_protocol::kDtbBlock;
using boot_protocol::kKernelAlign;

// The highest address the kernel may end at.
GuestPhys kernel_limit(const ImageHeader& image, std::span<const PhysRange> ram) {
  if (image.anywhere) return GuestPhys{kAddressLimit};
  uint64_t end = ram[0].end().value;
  return GuestPhys{end < kAddressLimit ? end : kAddressLimit};
}

bool can_run_in_place(const Identified& id, GuestPhys limit) {
  const Payload& pl = id.payload;
  if (pl.kernel_compression != Compression::kNone) return false;
  GuestPhys entry = pl.kernel.addr;
  if (entry.value < id.image.text_offset) return false;
  if (((entry.value - id.image.text_offset) & (kKernelAlign - 1)) != 0) return false;
  PhysRange need{entry, id.image.image_size};
  if (need.end() > limit || need.end() < entry) return false;
  return !pl.ramdisk.range().overlaps(need);
}

}  // namespace

size_t kernel_dt_capacity(const DiscoveredDt& dt, const BootOptions& opts) {
  size_t args = opts.bootargs ? __builtin_strlen(opts.bootargs) + 1 : 0;
  return dt.total_size + kFixupSlack + args;
}

Res<Plan> plan(const Identified& id, std::span<const PhysRange> ram, size_t dt_capacity, MemoryLedger& l) {
  const Payload& pl = id.payload;
  Plan out;

  // The payload as a whole becomes free; what is still needed of it is
  // claimed again piece by piece, so the rest can hold the kernel or DTB.
  MB_CHECK(l.release(id.range, RangeType::kPayload));
  if (pl.ramdisk.size != 0) {
    MB_CHECK(l.claim(pl.ramdisk.range(), RangeType::kInitrd));
    out.initrd = pl.ramdisk.range();
  }

  const GuestPhys limit = kernel_limit(id.image, ram);
  const uint64_t image_size = id.image.image_size;
  PhysRange in_place{pl.kernel.addr, image_size};
  if (can_run_in_place(id, limit) && l.claim(in_place, RangeType::kKernel).ok()) {
    out.kernel = in_place;
    out.kernel_in_place = true;
  } else {
    MB_CHECK(l.claim(pl.kernel.range(), RangeType::kPayload));  // the source, until loaded
    uint64_t span = id.image.text_offset + image_size;
    GuestPhys base = MB_TRY(l.allocate(span, kKernelAlign, limit, RangeType::kKernel));
    out.kernel = PhysRange{base + id.image.text_offset, image_size};
  }

  if (dt_capacity > kMaxKernelDtSize)
    return MB_ERR(ErrorCode::kUnsupported, "dtb-size", "the kernel's DT needs %zu bytes, over the 2 MiB limit",
                  dt_capacity);
  // Alone in a 2 MiB block when one is free; otherwise page-aligned (the
  // kernel maps the DTB through a fixmap of its own, either works).
  GuestPhys ram_top = ram.back().end();
  auto block = l.allocate(kDtbBlock, kDtbBlock, ram_top, RangeType::kOutgoingDt, Placement::kHighest);
  GuestPhys dtb = block.ok() ? *block
                             : MB_TRY(l.allocate(align_up(dt_capacity, kPageSize), kPageSize, ram_top,
                                                 RangeType::kOutgoingDt, Placement::kHighest));
  out.dtb = PhysRange{dtb, dt_capacity};
  return out;
}

}  // namespace mb::loader::steps
