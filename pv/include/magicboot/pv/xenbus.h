// Xenbus: the state handshake a frontend and its backend hold through
// xenstore (xen/io/xenbus.h), each writing its own <dir>/state and polling
// the other's. No watches: the loader polls, bounded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/error.h"
#include "magicboot/hypercall/xen_abi.h"
#include "magicboot/platform.h"
#include "magicboot/pv/xenstore.h"

namespace mb::pv {

const char* xenbus_state_name(unsigned state);
constexpr uint32_t state_bit(unsigned state) { return 1u << state; }

// "<dir>/<key>" into out. "xenstore-request": it does not fit.
Res<void> xs_path(char* out, size_t cap, const char* dir, const char* key);

Res<unsigned> read_state(XenStore& xs, const char* dir);
Res<void> switch_state(XenStore& xs, const char* dir, unsigned state);

// Polls <dir>/state until it is one of `accept` (state_bit()s); returns it.
// Fails with `check` naming the state last seen when `ms` pass first, or at
// once when it reaches one of `give_up` (e.g. Closing while connecting).
Res<unsigned> wait_state(XenStore& xs, Hypercalls& h, Cpu& cpu, const char* dir, uint32_t accept, uint32_t give_up,
                         uint32_t ms, const char* check);

}  // namespace mb::pv
