// Typed Xen hypercalls over the one raw seam (mb::Hypercalls). Each function
// builds the libxen-dev struct, makes one call, and turns Xen's negative
// errno into a named xen::Errno. All act on DOMID_SELF.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/hypercall/xen_abi.h"
#include "magicboot/hypercall/xen_errno.h"
#include "magicboot/platform.h"

namespace mb::xen {

struct Unit {};  // the value of a call that returns nothing

// XENMEM_add_to_physmap: map `idx` of `space` (XENMAPSPACE_*) at `gfn`.
// Fails EBUSY if shared_info is already mapped elsewhere (Xen >= 4.17).
XenResult<Unit> add_to_physmap(Hypercalls& h, unsigned space, uint64_t idx, Gfn gfn);
// XENMEM_remove_from_physmap: leaves `gfn` unmapped. ENOENT if it was empty.
XenResult<Unit> remove_from_physmap(Hypercalls& h, Gfn gfn);
// XENMEM_populate_physmap: back each of `gfns` with a fresh page of 2^order
// pages. Returns how many extents were populated (may be fewer than asked).
XenResult<uint64_t> populate_physmap(Hypercalls& h, const xen_pfn_t* gfns, uint64_t count,
                                     unsigned order);

// HVMOP_get_param / HVMOP_set_param. On Arm a guest may read only
// CALLBACK_IRQ, STORE_PFN, STORE_EVTCHN, CONSOLE_PFN, CONSOLE_EVTCHN.
XenResult<uint64_t> get_param(Hypercalls& h, uint32_t index);
XenResult<Unit> set_param(Hypercalls& h, uint32_t index, uint64_t value);

// CONSOLEIO_write: returns the number of bytes Xen took.
XenResult<uint64_t> console_write(Hypercalls& h, const char* s, size_t len);
// SCHEDOP_shutdown with SHUTDOWN_* reason. Returns only if Xen refuses.
XenResult<Unit> shutdown(Hypercalls& h, unsigned reason);
// SCHEDOP_yield: lets another vCPU (a backend in dom0) run.
XenResult<Unit> sched_yield(Hypercalls& h);
// SCHEDOP_poll on one port, no timeout of Xen's (its clock is not the
// guest's on Arm): the vCPU sleeps until `port` is pending -- at once if it
// already is -- or something else wakes it (its virtual timer). EINVAL for
// a port that is not ours.
XenResult<Unit> sched_poll(Hypercalls& h, evtchn_port_t port);

// EVTCHNOP_alloc_unbound: a new port that `remote` may bind to.
XenResult<evtchn_port_t> evtchn_alloc_unbound(Hypercalls& h, domid_t remote);
XenResult<Unit> evtchn_close(Hypercalls& h, evtchn_port_t port);
// EVTCHNOP_send: notify the other end of `port`. EINVAL for a port that is
// free or not ours; a port with no other end yet takes it silently.
XenResult<Unit> evtchn_send(Hypercalls& h, evtchn_port_t port);
XenResult<evtchn_status_t> evtchn_status(Hypercalls& h, evtchn_port_t port);

struct GrantTableSize {
  uint32_t nr_frames;
  uint32_t max_nr_frames;
};
XenResult<GrantTableSize> gnttab_query_size(Hypercalls& h);
// GNTTABOP_setup_table: Xen fills `frames[0..nr_frames)`. The status field of
// the struct (a GNTST_* code) is mapped to an Errno.
XenResult<Unit> gnttab_setup_table(Hypercalls& h, uint32_t nr_frames, xen_pfn_t* frames);

// VCPUOP_register_vcpu_info: cannot be undone. A loader must never call it;
// it exists here so the model's broken strategies can.
XenResult<Unit> register_vcpu_info(Hypercalls& h, uint32_t vcpu, Gfn gfn, uint32_t offset);

// XENVER_version: (major << 16) | minor.
XenResult<uint32_t> xen_version(Hypercalls& h);

}  // namespace mb::xen
