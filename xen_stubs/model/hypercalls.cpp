// The hypercalls a domU makes, answered as Xen 4.17 on Arm answers them.
// Each handler reads its argument struct with copy_from_host (a bad pointer
// is -EFAULT), checks what Xen checks, in Xen's order, and only then changes
// state. Ops and sub-ops the model does not implement answer -ENOSYS.
#include <algorithm>
#include <cstring>

#include "host_copy.h"
#include "magicboot/hypercall/xen_errno.h"
#include "model_impl.h"

namespace mb::model {
namespace {

using Impl = Model::Impl;

constexpr long kOk = 0;
constexpr long err(xen::Errno e) { return xen::rc_from_errno(e); }
constexpr long EFAULT_ = err(xen::Errno::kEFAULT);
constexpr long EINVAL_ = err(xen::Errno::kEINVAL);
constexpr long ENOSYS_ = err(xen::Errno::kENOSYS);
constexpr long ESRCH_ = err(xen::Errno::kESRCH);

// memory_op cmd: the sub-op in the low bits, a continuation's start extent
// above (Xen's MEMOP_EXTENT_SHIFT / MEMOP_CMD_MASK, not in the public headers).
constexpr unsigned kMemopExtentShift = 6;
constexpr uint64_t kMemopCmdMask = (uint64_t{1} << kMemopExtentShift) - 1;
// CONFIG_DOMU_MAX_ORDER on Arm: larger extents are refused (0 done).
constexpr unsigned kDomuMaxOrder = 9;
// The model keeps at most this much of one console write (Xen would print
// it all; more than this is a guest bug, and reading it costs host time).
constexpr size_t kConsoleChunk = 128;
constexpr size_t kConsoleMaxPerCall = size_t{1} << 20;
constexpr size_t kConsoleKept = size_t{4} << 20;

template <class T>
bool get(T& out, uint64_t ptr) {
  return copy_from_host(&out, ptr, sizeof out);
}
template <class T>
bool put(uint64_t ptr, const T& v) {
  return copy_to_host(ptr, &v, sizeof v);
}

bool is_guest_page(const P2mSlot& s) {
  return !s.hole && s.owner == Owner::kGuest && (s.type == PageType::kRamRw || s.type == PageType::kMagic);
}

// --- memory_op --------------------------------------------------------------

long add_to_physmap(Impl& m, uint64_t arg) {
  xen_add_to_physmap_t x;
  if (!get(x, arg)) return EFAULT_;
  if (!m.is_self(x.domid)) return ESRCH_;
  uint64_t mfn;
  std::optional<uint64_t>* xenheap_gfn;
  switch (x.space) {
    case XENMAPSPACE_shared_info:
      if (x.idx != 0) return EINVAL_;
      mfn = m.shared_info_mfn;
      xenheap_gfn = &m.shared_info_gfn;
      break;
    case XENMAPSPACE_grant_table:
      // A v1 table has no status frames; frames past the maximum do not exist.
      if ((x.idx & XENMAPIDX_grant_table_status) || x.idx >= kMaxGrantFrames) return EINVAL_;
      m.grant_nr_frames = std::max<uint32_t>(m.grant_nr_frames, static_cast<uint32_t>(x.idx) + 1);
      mfn = m.grant_mfn + x.idx;
      xenheap_gfn = &m.grant_gfn[x.idx];
      break;
    default:
      // Arm implements no gmfn/gmfn_range; gmfn_foreign and dev_mmio are
      // for dom0 and add_to_physmap_batch.
      return ENOSYS_;
  }
  if (x.gpfn >= Impl::kMaxGfn) return EINVAL_;
  // Xen >= 4.17: a Xen page already mapped (anywhere, even here) must be
  // unmapped first, so no loader can silently leave it behind.
  if (*xenheap_gfn) return err(xen::Errno::kEBUSY);
  m.map(x.gpfn, mfn, PageType::kXenShared, Owner::kXen);
  *xenheap_gfn = x.gpfn;
  return kOk;
}

long remove_from_physmap(Impl& m, uint64_t arg) {
  xen_remove_from_physmap_t x;
  if (!get(x, arg)) return EFAULT_;
  if (!m.is_self(x.domid)) return ESRCH_;
  auto s = m.p2m.slot(x.gpfn);
  // Nothing there, or an emulated device with no page behind it.
  if (!s || s->hole || s->type == PageType::kMmio) return err(xen::Errno::kENOENT);
  m.remove(x.gpfn);
  return kOk;
}

long populate_physmap(Impl& m, uint64_t cmd, uint64_t arg) {
  xen_memory_reservation_t r;
  if (!get(r, arg)) return EFAULT_;
  uint64_t start = cmd >> kMemopExtentShift;
  if (start >= r.nr_extents) return static_cast<long>(start);
  if (!m.is_self(r.domid)) return ESRCH_;
  if (r.extent_order > kDomuMaxOrder) return static_cast<long>(start);
  uint64_t pages = uint64_t{1} << r.extent_order;
  uint64_t list = r.extent_start.q;
  uint64_t i = start;
  // Like Xen, stop at the first extent that cannot be done and answer how
  // many were: no headroom under max_pages is 0 done, not an error code.
  for (; i < r.nr_extents; ++i) {
    xen_pfn_t gpfn;
    if (i > (UINT64_MAX - list) / sizeof gpfn || !get(gpfn, list + i * sizeof gpfn)) break;
    if (gpfn >= Impl::kMaxGfn || Impl::kMaxGfn - gpfn < pages) break;
    if (m.max_pages - std::min(m.max_pages, m.tot_pages) < pages) break;
    uint64_t mfn = m.frames.allocate(pages, PageType::kRamRw, Owner::kGuest);
    for (uint64_t p = 0; p < pages; ++p) m.map(gpfn + p, mfn + p, PageType::kRamRw, Owner::kGuest);
    m.tot_pages += pages;
  }
  return static_cast<long>(i);
}

long memory_op(Impl& m, uint64_t cmd, uint64_t arg) {
  switch (cmd & kMemopCmdMask) {
    case XENMEM_add_to_physmap: return add_to_physmap(m, arg);
    case XENMEM_remove_from_physmap: return remove_from_physmap(m, arg);
    case XENMEM_populate_physmap: return populate_physmap(m, cmd, arg);
    default: return ENOSYS_;
  }
}

// --- hvm_op -----------------------------------------------------------------

bool guest_may_read(const Impl& m, uint32_t index) {
  switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_STORE_PFN:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_PFN:
    case HVM_PARAM_CONSOLE_EVTCHN:
      return true;
    case HVM_PARAM_SHARED_INFO_PFN:
      return m.config.shared_info_param != SharedInfoParam::kAbsent;  // our patch; Xen 4.17: -EINVAL
    default:
      return false;
  }
}

long hvm_op(Impl& m, uint64_t op, uint64_t arg) {
  if (op != HVMOP_set_param && op != HVMOP_get_param) return ENOSYS_;
  xen_hvm_param_t p;
  if (!get(p, arg)) return EFAULT_;
  if (!m.is_self(p.domid)) return ESRCH_;
  if (op == HVMOP_get_param) {
    // The monitor ring is the toolstack's alone (real Xen 4.17 on Arm says
    // -EPERM to a domU; the conformance test found it).
    if (p.index == HVM_PARAM_MONITOR_RING_PFN) return err(xen::Errno::kEPERM);
    if (!guest_may_read(m, p.index)) return EINVAL_;
    p.value = m.params[p.index];
    return put(arg, p) ? kOk : EFAULT_;
  }
  // set: the readable params are the toolstack's, not the guest's.
  if (guest_may_read(m, p.index)) return err(xen::Errno::kEPERM);
  if (p.index == HVM_PARAM_IOREQ_SERVER_PFN || p.index == HVM_PARAM_NR_IOREQ_SERVER_PAGES) {
    m.params[p.index] = p.value;
    return kOk;
  }
  return EINVAL_;
}

// --- console_io, sched_op, xen_version --------------------------------------

long console_io(Impl& m, uint64_t cmd, uint64_t count64, uint64_t buf) {
  switch (cmd) {
    case CONSOLEIO_write: {
      // Real Xen 4.17 lets a dom0less domU write (0) and refuses an xl
      // guest (-EPERM; seen by the xl boots and check_conformance).
      if (m.config.kind == DomainKind::kXl) return err(xen::Errno::kEPERM);
      size_t count = std::min<size_t>(static_cast<uint32_t>(count64), kConsoleMaxPerCall);
      char chunk[kConsoleChunk];
      for (size_t done = 0; done < count;) {
        size_t n = std::min(count - done, sizeof chunk);
        if (!copy_from_host(chunk, buf + done, n)) return EFAULT_;
        if (m.console.size() < kConsoleKept) m.console.append(chunk, n);
        done += n;
      }
      return kOk;
    }
    case CONSOLEIO_read:
      return err(xen::Errno::kEPERM);  // only the hardware domain reads
    default:
      return ENOSYS_;
  }
}

long sched_op(Impl& m, uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case SCHEDOP_yield:
    case SCHEDOP_block:
      m.dom0_turn();  // dom0 gets the CPU
      return kOk;
    case SCHEDOP_poll: {
      // Xen's do_poll: every port must be ours and in use (-EINVAL); one
      // already pending answers at once (counted: polls().at_once).
      // Otherwise the vCPU would sleep until one is raised. Either way dom0
      // takes its turn -- on real Xen it runs on its own CPU meanwhile --
      // and the call returns, as a wake by the guest's virtual timer would.
      sched_poll_t p;
      if (!get(p, arg)) return EFAULT_;
      if (p.nr_ports > 128) return EINVAL_;
      ++m.polls.calls;
      bool pending = false;
      for (unsigned i = 0; i < p.nr_ports; ++i) {
        evtchn_port_t port;
        if (!get(port, reinterpret_cast<uintptr_t>(p.ports.p) + i * sizeof port)) return EFAULT_;
        if (port == 0 || port >= m.ports.size() || m.ports[port].state == PortState::kFree ||
            m.ports[port].state == PortState::kReserved)
          return EINVAL_;
        pending = pending || m.is_pending(port);
      }
      if (pending) ++m.polls.at_once;
      m.dom0_turn();
      return kOk;
    }
    case SCHEDOP_shutdown: {
      sched_shutdown_t s;
      if (!get(s, arg)) return EFAULT_;
      m.shutdown = s.reason;
      return kOk;
    }
    default:
      return ENOSYS_;
  }
}

long xen_version(const Impl& m, uint64_t cmd) {
  if (cmd == XENVER_version) return m.config.xen_version;
  return ENOSYS_;
}

// --- event_channel_op -------------------------------------------------------

long evtchn_op(Impl& m, uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
      evtchn_alloc_unbound_t a;
      if (!get(a, arg)) return EFAULT_;
      if (!m.is_self(a.dom)) return ESRCH_;
      // A remote domain that does not exist (no dom0 under dom0less):
      // -ESRCH, as real Xen answers (the conformance test).
      if (!m.domain_exists(a.remote_dom)) return ESRCH_;
      size_t port = 1;
      while (port < m.ports.size() && m.ports[port].state != PortState::kFree) ++port;
      if (port == m.ports.size()) {
        if (m.ports.size() >= EVTCHN_2L_NR_CHANNELS) return err(xen::Errno::kENOSPC);
        m.ports.resize(m.ports.size() + 64);  // one more bucket, as Xen grows
      }
      m.ports[port] = Port{PortState::kUnbound, a.remote_dom == DOMID_SELF ? Impl::kDomid : a.remote_dom};
      a.port = static_cast<evtchn_port_t>(port);
      // Xen keeps the port even when it cannot tell the guest which it is.
      return put(arg, a) ? kOk : EFAULT_;
    }
    case EVTCHNOP_send: {
      // Xen's evtchn_send: an interdomain port wakes the other end, an
      // unbound one swallows the event, anything else is -EINVAL.
      evtchn_send_t s;
      if (!get(s, arg)) return EFAULT_;
      if (s.port >= m.ports.size()) return EINVAL_;
      PortState st = m.ports[s.port].state;
      if (st != PortState::kInterdomain && st != PortState::kUnbound) return EINVAL_;
      ++m.notifies[s.port];
      if (st == PortState::kInterdomain && m.params[HVM_PARAM_CONSOLE_EVTCHN] == s.port) m.drain_console();
      else if (st == PortState::kInterdomain) m.dom0_turn();
      return kOk;
    }
    case EVTCHNOP_close: {
      evtchn_close_t c;
      if (!get(c, arg)) return EFAULT_;
      if (c.port >= m.ports.size() ||
          (m.ports[c.port].state != PortState::kUnbound && m.ports[c.port].state != PortState::kInterdomain))
        return EINVAL_;
      m.ports[c.port] = Port{};
      return kOk;
    }
    case EVTCHNOP_status: {
      evtchn_status_t s;
      if (!get(s, arg)) return EFAULT_;
      if (!m.is_self(s.dom)) return ESRCH_;
      if (s.port >= m.ports.size()) return EINVAL_;
      const Port& p = m.ports[s.port];
      s.vcpu = 0;
      std::memset(&s.u, 0, sizeof s.u);
      if (p.state == PortState::kUnbound) {
        s.status = EVTCHNSTAT_unbound;
        s.u.unbound.dom = p.remote;
      } else if (p.state == PortState::kInterdomain) {
        s.status = EVTCHNSTAT_interdomain;
        s.u.interdomain.dom = p.remote;
      } else {
        s.status = EVTCHNSTAT_closed;
      }
      return put(arg, s) ? kOk : EFAULT_;
    }
    default:
      return ENOSYS_;
  }
}

// --- grant_table_op ---------------------------------------------------------

long grant_table_op(Impl& m, uint64_t cmd, uint64_t uop, uint64_t count) {
  if (cmd != GNTTABOP_query_size && cmd != GNTTABOP_setup_table) return ENOSYS_;
  if (static_cast<int>(count) < 0 || count != 1) return EINVAL_;
  if (cmd == GNTTABOP_query_size) {
    gnttab_query_size_t q;
    if (!get(q, uop)) return EFAULT_;
    if (!m.is_self(q.dom)) {
      q.status = GNTST_bad_domain;
    } else {
      q.nr_frames = m.grant_nr_frames;
      q.max_nr_frames = kMaxGrantFrames;
      q.status = GNTST_okay;
    }
    return put(uop, q) ? kOk : EFAULT_;
  }
  gnttab_setup_table_t s;
  if (!get(s, uop)) return EFAULT_;
  if (!m.is_self(s.dom)) {
    s.status = GNTST_bad_domain;
  } else if (s.nr_frames > kMaxGrantFrames) {
    s.status = GNTST_general_error;
  } else {
    m.grant_nr_frames = std::max(m.grant_nr_frames, s.nr_frames);
    s.status = GNTST_okay;
    // On Arm the list names the GFN each frame is mapped at (or none).
    for (uint32_t i = 0; i < s.nr_frames; ++i) {
      xen_pfn_t gfn = m.grant_gfn[i] ? *m.grant_gfn[i] : ~xen_pfn_t{0};
      uint64_t at = s.frame_list.q + uint64_t{i} * sizeof gfn;
      if (at < s.frame_list.q || !put(at, gfn)) {
        s.status = GNTST_bad_virt_addr;
        break;
      }
    }
  }
  return put(uop, s) ? kOk : EFAULT_;
}

// --- vcpu_op ----------------------------------------------------------------

long vcpu_op(Impl& m, uint64_t cmd, uint64_t vcpuid, uint64_t arg) {
  if (cmd == VCPUOP_register_runstate_memory_area) return ENOSYS_;  // not modelled
  if (cmd != VCPUOP_register_vcpu_info) return EINVAL_;  // Arm lets a guest use only these two
  if (vcpuid >= m.vcpus.size()) return err(xen::Errno::kENOENT);
  vcpu_register_vcpu_info_t info;
  if (!get(info, arg)) return EFAULT_;
  VcpuState& v = m.vcpus[vcpuid];
  // map_vcpu_info's checks, in order: the offset, a registration already
  // made (it can never be undone), then a writable page of the guest's.
  if (info.offset > kPageSize - sizeof(vcpu_info_t)) return EINVAL_;
  if (v.info_gfn) return EINVAL_;
  auto s = m.p2m.slot(info.mfn);
  if (!s || !is_guest_page(*s)) return EINVAL_;

  vcpu_info_t vi{};
  if (vcpuid == 0) {
    m.store.read(m.shared_info_mfn, offsetof(shared_info_t, vcpu_info), &vi, sizeof vi);
  }
  // Everything marked pending so no event is lost in the move.
  vi.evtchn_upcall_pending = 1;
  vi.evtchn_pending_sel = ~xen_ulong_t{0};
  m.store.write(s->mfn, info.offset, &vi, sizeof vi);
  v.info_gfn = info.mfn;
  v.info_mfn = s->mfn;
  v.info_offset = info.offset;
  return kOk;
}

}  // namespace

long ModelHypercalls::call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t, uint64_t) {
  switch (op) {
    case __HYPERVISOR_memory_op: return memory_op(m_, a0, a1);
    case __HYPERVISOR_hvm_op: return hvm_op(m_, a0, a1);
    case __HYPERVISOR_console_io: return console_io(m_, a0, a1, a2);
    case __HYPERVISOR_sched_op: return sched_op(m_, a0, a1);
    case __HYPERVISOR_xen_version: return xen_version(m_, a0);
    case __HYPERVISOR_event_channel_op: return evtchn_op(m_, a0, a1);
    case __HYPERVISOR_grant_table_op: return grant_table_op(m_, a0, a1, a2);
    case __HYPERVISOR_vcpu_op: return vcpu_op(m_, a0, a1, a2);
    default: return ENOSYS_;
  }
}

}  // namespace mb::model
