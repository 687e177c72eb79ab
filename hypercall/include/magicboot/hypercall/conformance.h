// The conformance sequence: a fixed list of hypercalls whose answers nobody
// writes down in advance. The firmware's probe runs it under real Xen
// ("magicboot.conformance"), magicboot-conformance runs it against the model,
// and tests/qemu/check_conformance.py compares the two tables entry by
// entry. Where they differ, the model is wrong.
//
// It changes the domain for good (a page of RAM replaced and repopulated,
// vcpu_info registered): run it only where nothing boots afterwards.
#pragma once

#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/platform.h"

namespace mb::xen {

struct ConformanceInputs {
  // GUEST_MAGIC pages no toolstack populated: [0] and [1] take shared_info,
  // [2] is never mapped (removing it finds nothing; populating it needs
  // headroom).
  Gfn magic[3];
  // RAM pages the caller gives up: shared_info replaces [0] (then removed
  // and repopulated), vcpu_info is registered on [1].
  Gfn ram[2];
  // A guest address no mapping covers: Xen's copy_from_guest must fail.
  uint64_t bad_pointer = 0;
};

// One answer. `name` is stable across runs; `arg` tells calls of the same
// name apart (the param index, a port); `value` is what the call returned
// besides rc (0 when nothing).
struct ConformanceEntry {
  unsigned index;
  const char* name;
  uint64_t arg;
  long rc;
  uint64_t value;
};

using ConformanceSink = void (*)(void* ctx, const ConformanceEntry& entry);

// How both sides print an entry (index, name, arg, rc, value), for
// tests/qemu/check_conformance.py to read.
#define MB_CONFORMANCE_LINE "MAGICBOOT-CONFORMANCE %u %s %#lx %ld %#lx\n"
#define MB_CONFORMANCE_END "MAGICBOOT-CONFORMANCE-END %u entries\n"

// Params read: 0 .. this - 1, i.e. stock 4.17's HVM_NR_PARAMS (39) + 2, so
// the patched index 39 and one past it are asked too.
inline constexpr unsigned kConformanceParams = 41;

// Runs the sequence, handing each answer to `sink` as it comes. Returns the
// number of entries.
unsigned run_conformance(Hypercalls& h, const ConformanceInputs& in, ConformanceSink sink, void* ctx);

}  // namespace mb::xen
