// The device-tree facts bring-up needs that the loader core's discover()
// does not give: the DTB's size before anything is mapped, and which UART to
// print on when /chosen has no stdout-path (Xen's domU tree has none; its
// vpl011 is compatible "arm,sbsa-uart"). Everything else -- RAM, /hypervisor,
// the payload, bootargs -- comes from mb::loader::discover(), read once.
#pragma once

#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/loader/dt.h"

namespace mb::arm64 {

struct PlatformUart {
  bool found = false;
  GuestPhys base;
  bool sbsa = false;              // "arm,sbsa-uart": FIFOs always on
  bool from_stdout_path = false;  // named by /chosen stdout-path
};

// Bytes of the DTB at `dtb` from its header, read with one aligned 32-bit
// load (safe with the MMU off); 0 if there is no FDT magic there.
uint32_t fdt_total_size_early(GuestPhys dtb);

// The UART: stdout-path's node when discover() found it to be a PL011, else
// the first node compatible "arm,sbsa-uart", else the first "arm,pl011".
// `dt` is nullptr
// when discover() failed: the search by compatible still runs (on a blob
// whose header is sound) so that the failure can be printed. Reads cells
// byte by byte (fdt/format.h): safe with the MMU off too.
PlatformUart find_uart(const void* fdt, const loader::DiscoveredDt* dt);

}  // namespace mb::arm64
