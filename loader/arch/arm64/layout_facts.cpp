// The board's fixed regions, stored in a non-loaded ELF section
// (.mb_layout_facts) for check_layout.py: the post-link check reads the
// very numbers the code was compiled with, from the ELF it checks.
#include <cstdint>

#include "boards/xen_arm64/board.h"

namespace {

namespace board = mb::boards::xen_arm64;

// Xen places the guest DTB and initrd from RAM base + 128 MiB (Xen's
// arch/arm/kernel.c place_modules), so the footprint must stay below that.
constexpr uint64_t kXenModulesOffset = uint64_t{128} << 20;

struct LayoutFacts {
  uint64_t magic;  // "MBFACTS1"
  uint64_t ram_base, ram_limit;  // where the footprint must lie
  uint64_t gnttab_base, gnttab_size;
  uint64_t guest_magic_base, guest_magic_size;
};

}  // namespace

extern "C" [[gnu::section(".mb_layout_facts"), gnu::used]] const LayoutFacts mb_layout_facts = {
    0x315354434146424d,  // the bytes "MBFACTS1"
    board::kRam0.base.value, board::kRam0.base.value + kXenModulesOffset,
    board::kGntTab.base.value, board::kGntTab.size,
    board::kMagic.base.value, board::kMagic.size,
};
