// Step 7 of a boot: the device tree the kernel receives. A copy of the
// incoming tree with /chosen rewritten for the new initrd and command line;
// /memory and /hypervisor pass through untouched.
#pragma once

#include <cstddef>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/loader/boot_protocol.h"

namespace mb::loader {

struct FixupParams {
  // The kernel command line. Precedence: a command line the caller chose
  // (from the payload, e.g. a FIT configuration, or given to the loader)
  // wins over the one in /chosen; nullptr keeps /chosen's bootargs as they
  // are (or absent).
  const char* bootargs = nullptr;
  // Where the initrd now lies; empty removes linux,initrd-start/-end.
  PhysRange initrd;
  // Ranges to keep from the kernel: added as memreserve entries. Empty by
  // default: the loader leaves nothing behind that the kernel must avoid.
  std::span<const PhysRange> reserve;
};

// Extra room given to the copy for the edits (new properties, reservations).
inline constexpr size_t kFixupSlack = 4096;
// The arm64 boot protocol's limit on the DTB.
inline constexpr size_t kMaxKernelDtSize = boot_protocol::kDtbMaxSize;

// Writes the kernel's DT into out[0, out_cap) and returns its packed size.
// `in_fdt` must be a valid tree (it has been through discover()); `out` may
// not overlap it. linux,initrd-start/-end are written as 64-bit cells.
// The old payload (the incoming linux,initrd-start/-end) leaves no trace:
// its properties are replaced or removed, and every memreserve entry and
// /reserved-memory child that overlaps it is dropped, since once unpacked
// its memory is free RAM. The caller's `reserve` ranges are added after that.
// Fails with kNoMemory ("dt-fixup-space") when out_cap is too small (the
// detail says how many bytes the tree needs), kBadInput ("dt-fixup-input",
// "dt-fixup-overlap") when the input is not a valid tree or `out` overlaps
// it, kUnsupported ("dt-fixup-size") when the result exceeds kMaxKernelDtSize.
// A property /chosen repeats is removed in every copy; empty `reserve`
// ranges are left out (a zero-sized entry would end the memreserve list).
Res<size_t> build_kernel_dt(const void* in_fdt, void* out, size_t out_cap, const FixupParams& params);

}  // namespace mb::loader
