// Linux's arm64 boot protocol (Documentation/arch/arm64/booting.rst): the
// rules the loader places by, checks its handover by and parses Images by,
// in one place (plan, quiesce, the Image parser, the probe). The model's
// validator states them again on purpose (xen_stubs/validator/
// check_layout.cpp): a rule got wrong here is then caught there, not
// agreed with.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/addr.h"

namespace mb::loader::boot_protocol {

// The kernel runs at a base aligned to this, plus the Image's text_offset
// (a 4 KiB-aligned offset below it), with image_size bytes free from there.
inline constexpr uint64_t kKernelAlign = uint64_t{2} << 20;
// The kernel lies below what a 48-bit idmap reaches, and in the first RAM
// bank unless the Image's flag bit 3 says "anywhere".
inline constexpr uint64_t kAddressLimit = uint64_t{1} << 48;
// The DTB: 8-byte aligned, at most 2 MiB, alone in the 2 MiB block Linux
// maps for it.
inline constexpr uint64_t kDtbAlign = 8;
inline constexpr uint64_t kDtbMaxSize = uint64_t{2} << 20;
inline constexpr uint64_t kDtbBlock = uint64_t{2} << 20;

// Kernel, DTB and initrd each lie within one RAM bank.
inline bool in_one_bank(std::span<const PhysRange> banks, PhysRange range) {
  for (const PhysRange& bank : banks)
    if (bank.contains(range)) return true;
  return false;
}

}  // namespace mb::loader::boot_protocol
