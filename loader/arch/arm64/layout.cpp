#include "magicboot/loader/arch/arm64/layout.h"

#include "magicboot/config.h"
#include "magicboot/loader/arch/arm64/link_layout.h"

// Defined by magicboot.ld.S. Only their addresses mean anything.
extern "C" {
extern char __image_start[], __image_end[];
extern char __stack_region_start[], __stack_region_end[];
extern char __heap_start[];
extern mb::arm64::PageTable __page_tables_start[], __page_tables_end[];
}

namespace mb::arm64 {
namespace {

GuestPhys at(const void* p) { return GuestPhys{reinterpret_cast<uintptr_t>(p)}; }
PhysRange between(const void* b, const void* e) { return PhysRange{at(b), at(e) - at(b)}; }

}  // namespace

GuestPhys image_begin() { return at(__image_start); }
GuestPhys image_end() { return at(__image_end); }
PhysRange stack_region() { return between(__stack_region_start, __stack_region_end); }
PhysRange stack_guard() { return PhysRange{stack_region().base, MB_STACK_GUARD_SIZE}; }
// The heap's end is its start plus its size, not a symbol: the heap ends
// more than 1 MiB past the code, out of reach of the tiny code model's ADR
// (magicboot.ld.S asserts that __heap_end and __footprint_end agree).
PhysRange heap_region() { return PhysRange{at(__heap_start), CONFIG_LOADER_HEAP_SIZE}; }
PhysRange footprint() { return PhysRange{image_begin(), heap_region().end() - image_begin()}; }

LoaderLayout loader_layout() {
  return LoaderLayout{between(__image_start, __image_end), stack_region(), heap_region()};
}

std::span<PageTable> page_table_pool() {
  return {__page_tables_start, static_cast<size_t>(__page_tables_end - __page_tables_start)};
}

}  // namespace mb::arm64
