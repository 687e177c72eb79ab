#include "magicboot/hypercall/xen.h"

namespace mb::xen {
namespace {

uint64_t ptr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

template <class T>
XenResult<T> checked(long rc, T value) {
  if (rc < 0) return fail(errno_from_rc(rc));
  return value;
}

XenResult<Unit> checked(long rc) { return checked(rc, Unit{}); }

}  // namespace

XenResult<Unit> add_to_physmap(Hypercalls& h, unsigned space, uint64_t idx, Gfn gfn) {
  xen_add_to_physmap_t xatp{};
  xatp.domid = DOMID_SELF;
  xatp.space = space;
  xatp.idx = idx;
  xatp.gpfn = gfn.value;
  return checked(h.call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ptr(&xatp), 0, 0, 0));
}

XenResult<Unit> remove_from_physmap(Hypercalls& h, Gfn gfn) {
  xen_remove_from_physmap_t xrfp{};
  xrfp.domid = DOMID_SELF;
  xrfp.gpfn = gfn.value;
  return checked(h.call(__HYPERVISOR_memory_op, XENMEM_remove_from_physmap, ptr(&xrfp), 0, 0, 0));
}

XenResult<uint64_t> populate_physmap(Hypercalls& h, const xen_pfn_t* gfns, uint64_t count,
                                     unsigned order) {
  xen_memory_reservation_t r{};
  set_xen_guest_handle(r.extent_start, const_cast<xen_pfn_t*>(gfns));
  r.nr_extents = count;
  r.extent_order = order;
  r.mem_flags = 0;
  r.domid = DOMID_SELF;
  long rc = h.call(__HYPERVISOR_memory_op, XENMEM_populate_physmap, ptr(&r), 0, 0, 0);
  return checked(rc, static_cast<uint64_t>(rc));
}

XenResult<uint64_t> get_param(Hypercalls& h, uint32_t index) {
  xen_hvm_param_t p{};
  p.domid = DOMID_SELF;
  p.index = index;
  long rc = h.call(__HYPERVISOR_hvm_op, HVMOP_get_param, ptr(&p), 0, 0, 0);
  if (rc < 0) return fail(errno_from_rc(rc));
  return uint64_t{p.value};
}

XenResult<Unit> set_param(Hypercalls& h, uint32_t index, uint64_t value) {
  xen_hvm_param_t p{};
  p.domid = DOMID_SELF;
  p.index = index;
  p.value = value;
  return checked(h.call(__HYPERVISOR_hvm_op, HVMOP_set_param, ptr(&p), 0, 0, 0));
}

XenResult<uint64_t> console_write(Hypercalls& h, const char* s, size_t len) {
  long rc = h.call(__HYPERVISOR_console_io, CONSOLEIO_write, len, ptr(s), 0, 0);
  return checked(rc, static_cast<uint64_t>(rc));
}

XenResult<Unit> shutdown(Hypercalls& h, unsigned reason) {
  sched_shutdown_t s{};
  s.reason = reason;
  return checked(h.call(__HYPERVISOR_sched_op, SCHEDOP_shutdown, ptr(&s), 0, 0, 0));
}

XenResult<Unit> sched_yield(Hypercalls& h) {
  return checked(h.call(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0));
}

XenResult<Unit> sched_poll(Hypercalls& h, evtchn_port_t port) {
  sched_poll_t p{};
  set_xen_guest_handle(p.ports, &port);
  p.nr_ports = 1;
  p.timeout = 0;
  return checked(h.call(__HYPERVISOR_sched_op, SCHEDOP_poll, ptr(&p), 0, 0, 0));
}

XenResult<evtchn_port_t> evtchn_alloc_unbound(Hypercalls& h, domid_t remote) {
  evtchn_alloc_unbound_t a{};
  a.dom = DOMID_SELF;
  a.remote_dom = remote;
  long rc = h.call(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, ptr(&a), 0, 0, 0);
  return checked(rc, a.port);
}

XenResult<Unit> evtchn_close(Hypercalls& h, evtchn_port_t port) {
  evtchn_close_t c{};
  c.port = port;
  return checked(h.call(__HYPERVISOR_event_channel_op, EVTCHNOP_close, ptr(&c), 0, 0, 0));
}

XenResult<Unit> evtchn_send(Hypercalls& h, evtchn_port_t port) {
  evtchn_send_t e{};
  e.port = port;
  return checked(h.call(__HYPERVISOR_event_channel_op, EVTCHNOP_send, ptr(&e), 0, 0, 0));
}

XenResult<evtchn_status_t> evtchn_status(Hypercalls& h, evtchn_port_t port) {
  evtchn_status_t s{};
  s.dom = DOMID_SELF;
  s.port = port;
  long rc = h.call(__HYPERVISOR_event_channel_op, EVTCHNOP_status, ptr(&s), 0, 0, 0);
  return checked(rc, s);
}

XenResult<GrantTableSize> gnttab_query_size(Hypercalls& h) {
  gnttab_query_size_t q{};
  q.dom = DOMID_SELF;
  long rc = h.call(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, ptr(&q), 1, 0, 0);
  if (rc < 0) return fail(errno_from_rc(rc));
  if (q.status != GNTST_okay) return fail(Errno::kEINVAL);
  return GrantTableSize{q.nr_frames, q.max_nr_frames};
}

XenResult<Unit> gnttab_setup_table(Hypercalls& h, uint32_t nr_frames, xen_pfn_t* frames) {
  gnttab_setup_table_t s{};
  s.dom = DOMID_SELF;
  s.nr_frames = nr_frames;
  set_xen_guest_handle(s.frame_list, frames);
  long rc = h.call(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ptr(&s), 1, 0, 0);
  if (rc < 0) return fail(errno_from_rc(rc));
  switch (s.status) {
    case GNTST_okay: return Unit{};
    case GNTST_bad_virt_addr: return fail(Errno::kEFAULT);
    case GNTST_no_device_space: return fail(Errno::kENOMEM);
    case GNTST_permission_denied: return fail(Errno::kEPERM);
    default: return fail(Errno::kEINVAL);
  }
}

XenResult<Unit> register_vcpu_info(Hypercalls& h, uint32_t vcpu, Gfn gfn, uint32_t offset) {
  vcpu_register_vcpu_info_t info{};
  info.mfn = gfn.value;
  info.offset = offset;
  return checked(h.call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, vcpu, ptr(&info), 0, 0));
}

XenResult<uint32_t> xen_version(Hypercalls& h) {
  long rc = h.call(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
  return checked(rc, static_cast<uint32_t>(rc));
}

const char* to_string(Errno e) {
  switch (e) {
    case Errno::kEPERM: return "EPERM";
    case Errno::kENOENT: return "ENOENT";
    case Errno::kESRCH: return "ESRCH";
    case Errno::kE2BIG: return "E2BIG";
    case Errno::kEAGAIN: return "EAGAIN";
    case Errno::kENOMEM: return "ENOMEM";
    case Errno::kEFAULT: return "EFAULT";
    case Errno::kEBUSY: return "EBUSY";
    case Errno::kEEXIST: return "EEXIST";
    case Errno::kEINVAL: return "EINVAL";
    case Errno::kENOSPC: return "ENOSPC";
    case Errno::kENOSYS: return "ENOSYS";
    case Errno::kEILSEQ: return "EILSEQ";
    case Errno::kEOPNOTSUPP: return "EOPNOTSUPP";
  }
  return "E?";
}

}  // namespace mb::xen
