#include "magicboot/hypercall/conformance.h"

#include "magicboot/hypercall/xen.h"

namespace mb::xen {
namespace {

class Recorder {
 public:
  Recorder(ConformanceSink sink, void* ctx) : sink_(sink), ctx_(ctx) {}
  template <class T>
  long rc(const XenResult<T>& r) {
    return r.ok() ? 0 : rc_from_errno(r.error());
  }
  void add(const char* name, uint64_t arg, long rc, uint64_t value = 0) {
    sink_(ctx_, ConformanceEntry{count_++, name, arg, rc, value});
  }
  template <class T>
  void unit(const char* name, uint64_t arg, const XenResult<T>& r) {
    add(name, arg, rc(r));
  }
  unsigned count() const { return count_; }

 private:
  ConformanceSink sink_;
  void* ctx_;
  unsigned count_ = 0;
};

// No hypercall has this number on Arm (the table ends at 41, arch_* aside).
constexpr unsigned kUnusedOp = 48;

}  // namespace

unsigned run_conformance(Hypercalls& h, const ConformanceInputs& in, ConformanceSink sink, void* ctx) {
  Recorder r(sink, ctx);

  auto version = xen_version(h);
  r.add("xen_version", 0, r.rc(version), version.ok() ? *version : 0);
  for (unsigned i = 0; i < kConformanceParams; ++i) {
    auto p = get_param(h, i);
    r.add("get_param", i, r.rc(p), p.ok() ? *p : 0);
  }

  // shared_info: on a magic page, again there, elsewhere while mapped, and
  // removed: twice, from where the move left it, from a page never mapped.
  r.unit("add_shared_info_magic", in.magic[0].value, add_to_physmap(h, XENMAPSPACE_shared_info, 0, in.magic[0]));
  r.unit("add_shared_info_same_gfn", in.magic[0].value, add_to_physmap(h, XENMAPSPACE_shared_info, 0, in.magic[0]));
  r.unit("add_shared_info_second_gfn", in.magic[1].value,
         add_to_physmap(h, XENMAPSPACE_shared_info, 0, in.magic[1]));
  r.unit("remove_magic", in.magic[0].value, remove_from_physmap(h, in.magic[0]));
  r.unit("remove_magic_again", in.magic[0].value, remove_from_physmap(h, in.magic[0]));
  r.unit("remove_second_gfn", in.magic[1].value, remove_from_physmap(h, in.magic[1]));
  r.unit("remove_never_mapped", in.magic[2].value, remove_from_physmap(h, in.magic[2]));
  r.unit("add_shared_info_bad_idx", in.magic[0].value, add_to_physmap(h, XENMAPSPACE_shared_info, 1, in.magic[0]));

  // Over RAM: the page it replaces goes back to Xen; removing leaves a
  // hole that populate fills from that headroom; a second populate needs
  // headroom the domain may not have (dom0less: none; xl: libxl's slack).
  r.unit("add_shared_info_ram", in.ram[0].value, add_to_physmap(h, XENMAPSPACE_shared_info, 0, in.ram[0]));
  r.unit("remove_ram", in.ram[0].value, remove_from_physmap(h, in.ram[0]));
  xen_pfn_t frame = in.ram[0].value;
  auto filled = populate_physmap(h, &frame, 1, 0);
  r.add("populate_hole", in.ram[0].value, r.rc(filled), filled.ok() ? *filled : 0);
  frame = in.magic[2].value;
  auto extra = populate_physmap(h, &frame, 1, 0);
  r.add("populate_beyond", in.magic[2].value, r.rc(extra), extra.ok() ? *extra : 0);
  frame = in.magic[2].value;
  auto huge = populate_physmap(h, &frame, 1, 18);  // a 1 GiB extent: past the domU's max order
  r.add("populate_order_18", in.magic[2].value, r.rc(huge), huge.ok() ? *huge : 0);

  // Params a guest may not set, and that the refusal left them alone.
  r.unit("set_param_store_pfn", HVM_PARAM_STORE_PFN, set_param(h, HVM_PARAM_STORE_PFN, in.magic[2].value));
  auto store = get_param(h, HVM_PARAM_STORE_PFN);
  r.add("get_param_after_set", HVM_PARAM_STORE_PFN, r.rc(store), store.ok() ? *store : 0);
  r.unit("set_param_callback_irq_bad_type", HVM_PARAM_CALLBACK_IRQ,
         set_param(h, HVM_PARAM_CALLBACK_IRQ, uint64_t{7} << 56));

  // Event channels: one for dom0 (there may be none), then a port's life
  // on one to ourselves, then a port that was never ours.
  auto to_dom0 = evtchn_alloc_unbound(h, 0);
  r.add("evtchn_alloc_unbound", 0, r.rc(to_dom0), to_dom0.ok() ? *to_dom0 : 0);
  if (to_dom0.ok()) r.unit("evtchn_close_dom0_port", 0, evtchn_close(h, *to_dom0));
  auto port = evtchn_alloc_unbound(h, DOMID_SELF);
  r.add("evtchn_alloc_unbound_self", DOMID_SELF, r.rc(port), port.ok() ? *port : 0);
  if (port.ok()) {
    auto st = evtchn_status(h, *port);
    r.add("evtchn_status_unbound", 0, r.rc(st), st.ok() ? st->status : 0);
    r.unit("evtchn_close", 0, evtchn_close(h, *port));
    auto closed = evtchn_status(h, *port);
    r.add("evtchn_status_closed", 0, r.rc(closed), closed.ok() ? closed->status : 0);
    r.unit("evtchn_close_again", 0, evtchn_close(h, *port));
    // A poll on a port that is not in use is refused, not slept on (only
    // refusals are asked here: a poll Xen took would sleep for good).
    r.unit("sched_poll_closed_port", 0, sched_poll(h, *port));
  }
  auto far = evtchn_status(h, 4095);
  r.add("evtchn_status_port_4095", 4095, r.rc(far), far.ok() ? far->status : 0);
  r.unit("evtchn_send_port_4095", 4095, evtchn_send(h, 4095));
  r.unit("sched_poll_port_4095", 4095, sched_poll(h, 4095));

  // Grant table: its size, and a setup of one frame (the frame number is
  // machine-specific: only whether one came back is compared).
  auto size = gnttab_query_size(h);
  r.add("gnttab_query_size", 0, r.rc(size), size.ok() ? size->nr_frames : 0);
  r.add("gnttab_query_size_max", 0, r.rc(size), size.ok() ? size->max_nr_frames : 0);
  xen_pfn_t gframe = 0;
  auto setup = gnttab_setup_table(h, 1, &gframe);
  r.add("gnttab_setup_table", 1, r.rc(setup), gframe != 0);

  // vcpu_info: once, then again (it cannot move), then a bad offset.
  r.unit("register_vcpu_info", in.ram[1].value, register_vcpu_info(h, 0, in.ram[1], 0));
  r.unit("register_vcpu_info_again", in.ram[1].value, register_vcpu_info(h, 0, in.ram[1], 64));
  r.unit("register_vcpu_info_vcpu_1", in.ram[1].value, register_vcpu_info(h, 1, in.ram[1], 128));

  // Xen's console, an op that does not exist, and a pointer nothing maps.
  static constexpr char kEmpty[] = "";
  auto wrote = console_write(h, kEmpty, 0);
  r.add("console_io_write_empty", 0, r.rc(wrote), wrote.ok() ? *wrote : 0);
  r.add("unknown_op", kUnusedOp, h.call(kUnusedOp, 0, 0, 0, 0, 0));
  r.add("get_param_bad_pointer", 0, h.call(__HYPERVISOR_hvm_op, HVMOP_get_param, in.bad_pointer, 0, 0, 0));
  r.add("add_to_physmap_bad_pointer", 0,
        h.call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, in.bad_pointer, 0, 0, 0));
  return r.count();
}

}  // namespace mb::xen
