// The few device-tree facts the platform needs before the loader core runs:
// RAM to map, whether Xen is there, and which UART to print on. The loader
// core parses the full tree itself; this is deliberately minimal.
#pragma once

#include <cstdint>

#include "magicboot/error.h"
#include "magicboot/platform.h"

namespace mb::arm64 {

struct DtFacts {
  static constexpr unsigned kMaxRam = 8;
  PhysRange ram[kMaxRam];
  unsigned ram_count = 0;

  bool hypervisor = false;  // a /hypervisor node compatible "xen,xen"
  PhysRange grant_region;   // its first reg entry (empty if none)

  bool has_uart = false;
  GuestPhys uart;           // PL011/SBSA UART base
  bool uart_sbsa = false;   // compatible "arm,sbsa-uart" (FIFOs always on)
  bool uart_from_stdout_path = false;

  PhysRange initrd;         // /chosen linux,initrd-start/-end (empty if none)
  const char* bootargs = nullptr;  // /chosen bootargs, inside the DTB
};

// Bytes of the DTB at `dtb` from its header, read with one aligned 32-bit
// load (safe with the MMU off); 0 if there is no FDT magic there.
uint32_t fdt_total_size_early(GuestPhys dtb);

// Needs the DTB mapped Normal (libfdt makes unaligned accesses).
Res<DtFacts> read_dt_facts(const void* fdt);

}  // namespace mb::arm64
