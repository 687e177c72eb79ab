// Step 1 of a boot: what the incoming device tree says. One pass over the
// blob with our FDT reader (loader/fdt), into fixed-capacity arrays; strings
// point into the blob, so the blob must outlive the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/platform.h"

namespace mb::loader {

struct DtReservation {
  enum class Source : uint8_t { kMemreserve, kReservedMemoryNode };
  PhysRange range;
  Source source = Source::kMemreserve;
  const char* name = nullptr;  // node name for kReservedMemoryNode, else nullptr
  bool no_map = false;         // the node has "no-map"
};

// /hypervisor, present when the guest runs on Xen.
struct DtXen {
  bool present = false;     // compatible "xen,xen" or "xen,xen-X.Y"
  unsigned major = 0;       // from "xen,xen-X.Y"; 0.0 when unversioned
  unsigned minor = 0;
  PhysRange grant_table;    // reg[0]; empty when the node has no reg
  // reg[1..]: address space Xen leaves free for the guest's own mappings
  // (the extended regions, Xen >= 4.16 for xl, 4.17 for dom0less). More
  // than kMaxExtRegions are counted but not kept.
  static constexpr size_t kMaxExtRegions = 8;
  PhysRange ext_regions[kMaxExtRegions];
  size_t ext_region_count = 0;  // kept
  size_t ext_regions_seen = 0;  // in the DT
  // xen,shared-info-gfn (our Xen patch, xen/patches/): the GFN Xen reserved
  // for shared_info, the DT's copy of HVM_PARAM_SHARED_INFO_PFN. 0: absent.
  Gfn shared_info_gfn{};
  bool has_evtchn = false;  // "interrupts" present and a GIC PPI/SPI
  uint32_t evtchn_intid = 0;  // the GIC INTID: PPI n is 16 + n, SPI n is 32 + n

  std::span<const PhysRange> extended_regions() const { return {ext_regions, ext_region_count}; }
};

// The console the DT names in /chosen stdout-path.
struct DtStdout {
  const char* path = nullptr;  // stdout-path as written (alias or path, with ":options")
  size_t path_len = 0;         // length of the path part, before ':'
  const char* options = nullptr;  // after ':', e.g. "115200n8"; nullptr when none
  bool found = false;          // the path resolved to a node
  PhysRange reg;               // that node's reg[0], untranslated (see discover())
  bool pl011 = false;          // compatible "arm,pl011"
};

struct DiscoveredDt {
  static constexpr size_t kMaxBanks = 8;
  static constexpr size_t kMaxReserved = 16;

  PhysRange banks[kMaxBanks];  // RAM, sorted by address, non-empty, disjoint
  size_t bank_count = 0;
  DtReservation reserved[kMaxReserved];  // memreserve entries first, then nodes
  size_t reserved_count = 0;
  const char* bootargs = nullptr;  // /chosen bootargs; nullptr when absent
  PhysRange payload;  // linux,initrd-start .. -end; empty when /chosen has none
  DtXen xen;
  DtStdout stdout_path;
  size_t total_size = 0;  // the blob's totalsize header field
  PhysRange blob;         // where the blob lies in guest memory: set by discover_at(), empty from discover()

  std::span<const PhysRange> ram() const { return {banks, bank_count}; }
  std::span<const DtReservation> reservations() const { return {reserved, reserved_count}; }
  uint64_t ram_total() const;
};

// Parses the device tree at `fdt`, of which `buffer_size` bytes are readable.
// Never reads outside [fdt, fdt + buffer_size): the blob is validated first
// (fdt::check_tree), so a truncated or malformed tree is an error, not a crash.
// Fails (kBadInput, check "dt-*", naming the node and addresses) when:
//   - the blob is malformed, truncated or its totalsize exceeds buffer_size;
//   - a reg property has a length that is not a whole number of entries, or
//     #address-cells / #size-cells outside 1..2;
//   - there is no RAM, or more banks / reservations than the arrays hold
//     (kUnsupported);
//   - two RAM banks overlap (kOverlap), or, on Xen, a bank overlaps the
//     GUEST_MAGIC region (boards/xen_arm64) or the grant table (kOverlap);
//   - only one of linux,initrd-start/-end is present, a cell is not 4 or 8
//     bytes, or end < start;
//   - /hypervisor says "xen,xen-" with a version that is not "X.Y", or has a
//     xen,shared-info-gfn that is not one 64-bit value (two cells).
// A missing /chosen, bootargs, payload or stdout-path is not an error: the
// core decides what it needs. reg of the stdout node is read as written, not
// translated through the parents' "ranges" (on both boards the UART is a
// child of the root).
Res<DiscoveredDt> discover(const void* fdt, size_t buffer_size);

// Step 1: the device tree Xen put at `dtb`, read once by the caller (the
// firmware's bring-up needs it before the loader runs). Checks the address's
// alignment, the magic and the size (<= 2 MiB) before discover(); errors name
// the guest address. The result's `blob` is [dtb, dtb + totalsize).
Res<DiscoveredDt> discover_at(GuestMemory& mem, GuestPhys dtb);

}  // namespace mb::loader
