// Where the toolstack put a ring it shares with a backend in dom0: a page
// named by one HVM param and an event channel named by another (the PV
// console, xenstore). Both are magic pages, never RAM.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/platform.h"

namespace mb::pv {

struct RingPlace {
  Gfn gfn;        // the ring page (a magic page, never RAM)
  uint32_t port;  // the event channel to the backend
};

struct RingParams {
  uint32_t pfn_param;        // HVM_PARAM_*_PFN
  uint32_t evtchn_param;     // HVM_PARAM_*_EVTCHN
  const char* name;          // "console ring", "xenstore ring"
  const char* none_check;    // a param is 0 or refused (dom0less: no toolstack)
  const char* placement_check;  // the page lies outside `magic` or inside `ram`
};

// The ring from its two params. Fails, and the ring is then not to be used
// (writing a page in RAM would scribble on it; never done):
//   params.none_check       a param is 0 or refused
//   params.placement_check  the PFN lies outside `magic` or inside `ram`, or
//                           the port is not a port
Res<RingPlace> find_ring(Hypercalls& h, const RingParams& params, PhysRange magic, std::span<const PhysRange> ram);

// A ring page's field at `offset`.
inline GuestPhys ring_field(RingPlace p, size_t offset) { return p.gfn.addr() + offset; }

}  // namespace mb::pv
