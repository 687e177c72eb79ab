// The toolstack's magic pages and event channels, as HVM params tell them.
#pragma once

#include <cstdint>

#include "magicboot/platform.h"

namespace mb::magic {

// A dom0less domain answers 0 for every one of them (REFERENCE.md).
struct MagicPfns {
  uint64_t console_pfn = 0;
  uint64_t console_evtchn = 0;
  uint64_t store_pfn = 0;
  uint64_t store_evtchn = 0;
  uint64_t callback_irq = 0;
  unsigned unreadable = 0;  // params Xen refused (counted, not fatal)
};

// The five params an Arm guest may read. Never fails: a refused param stays 0.
MagicPfns query_magic_pfns(Hypercalls& h);

}  // namespace mb::magic
