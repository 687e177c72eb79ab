// Where the firmware lies in memory, from the linker script's symbols.
// Everything here is constant after link; reached through functions so no
// code depends on the symbols' spelling.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/platform.h"

namespace mb::arm64 {

// One translation table of the identity map (4 KiB granule).
struct alignas(4096) PageTable {
  uint64_t entry[512];
};

GuestPhys image_begin();  // the arm64 Image header
GuestPhys image_end();    // end of code, data, bss and page tables (page aligned)
PhysRange stack_region(); // guard page, main stack, exception stack
PhysRange stack_guard();  // the guard page: never mapped, so that an overflow (or any access) faults
PhysRange heap_region();  // the loader's arena
PhysRange footprint();    // [image_begin, end of heap): image_size of the header

// image / stack / heap for the ledger: disjoint, together footprint().
LoaderLayout loader_layout();

// The translation tables reserved in .bss (zeroed at entry).
std::span<PageTable> page_table_pool();

}  // namespace mb::arm64
