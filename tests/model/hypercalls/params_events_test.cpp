// HVM params, vcpu_info, event channels, grant table, console, version,
// shutdown: each as Xen 4.17 on Arm answers.
#include <cstring>

#include "fixtures.h"

namespace mb::model::testing {
namespace {

using xen::Errno;

constexpr domid_t kSelf = 1;  // the model domU's own domid (Model::Impl::kDomid)
constexpr uint32_t kReadable[] = {HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN,
                                  HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN};

TEST(Params, Dom0lessAnswersZeroForTheFiveReadable) {
  Model m(dom0less());
  for (uint32_t p : kReadable) {
    auto r = xen::get_param(m.hypercalls(), p);
    ASSERT_TRUE(r.ok()) << p;
    EXPECT_EQ(*r, 0u) << p;
  }
  EXPECT_FALSE(m.lookup(Model::magic_gfn(board::kMagicConsole)));
  EXPECT_FALSE(m.lookup(Model::magic_gfn(board::kMagicXenstore)));
}

TEST(Params, XlPointsAtPopulatedMagicPagesAndBoundPorts) {
  Model m(xl());
  auto& h = m.hypercalls();
  EXPECT_EQ(*xen::get_param(h, HVM_PARAM_CONSOLE_PFN), Model::magic_gfn(0).value);
  EXPECT_EQ(*xen::get_param(h, HVM_PARAM_STORE_PFN), Model::magic_gfn(1).value);
  EXPECT_EQ(*xen::get_param(h, HVM_PARAM_CONSOLE_EVTCHN), kXlConsolePort);
  EXPECT_EQ(*xen::get_param(h, HVM_PARAM_STORE_EVTCHN), kXlStorePort);
  // Measured under Debian's Xen 4.17 toolstack: xenstore on port 1, the
  // console on port 2, magic pages 0-3 populated, the rest of GUEST_MAGIC not.
  EXPECT_EQ(kXlStorePort, 1u);
  EXPECT_EQ(kXlConsolePort, 2u);
  for (unsigned off : {0u, 1u, 2u, 3u}) {
    auto e = m.lookup(Model::magic_gfn(off));
    ASSERT_TRUE(e) << off;
    EXPECT_EQ(e->type, PageType::kMagic);
    EXPECT_EQ(e->owner, Owner::kGuest);
  }
  EXPECT_FALSE(m.lookup(Model::magic_gfn(4)));
  EXPECT_EQ(m.bound_ports(), (std::vector<uint32_t>{kXlStorePort, kXlConsolePort}));
  auto st = xen::evtchn_status(h, kXlStorePort);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, EVTCHNSTAT_interdomain);
  EXPECT_EQ(st->u.interdomain.dom, 0);
}

TEST(Params, OthersAreEinvalAndNoneIsWritableByTheGuest) {
  Model m(xl());
  auto& h = m.hypercalls();
  for (uint32_t p = 0; p < HVM_NR_PARAMS + 5; ++p) {
    bool readable = std::find(std::begin(kReadable), std::end(kReadable), p) != std::end(kReadable);
    if (readable) continue;
    // The monitor ring is the toolstack's: -EPERM, as real Xen 4.17 says.
    EXPECT_EQ(error_of(xen::get_param(h, p)), p == HVM_PARAM_MONITOR_RING_PFN ? Errno::kEPERM : Errno::kEINVAL) << p;
  }
  EXPECT_EQ(error_of(xen::get_param(h, 0xffffffffu)), Errno::kEINVAL);
  EXPECT_EQ(error_of(xen::set_param(h, HVM_PARAM_STORE_PFN, 5)), Errno::kEPERM);
  EXPECT_EQ(error_of(xen::set_param(h, HVM_PARAM_TIMER_MODE, 1)), Errno::kEINVAL);
  EXPECT_EQ(*xen::get_param(h, HVM_PARAM_STORE_PFN), Model::magic_gfn(1).value);
}

TEST(Params, SharedInfoParamOffIsEinvalLikeXen417) {
  Model m(dom0less());
  EXPECT_EQ(error_of(xen::get_param(m.hypercalls(), HVM_PARAM_SHARED_INFO_PFN)), Errno::kEINVAL);
}

TEST(Params, SharedInfoParamOnNamesTheReservedMagicSlot) {
  DomainConfig c = dom0less();
  c.shared_info_param = SharedInfoParam::kOffered;
  c.shared_info_magic_offset = 8;
  Model m(c);
  auto r = xen::get_param(m.hypercalls(), HVM_PARAM_SHARED_INFO_PFN);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, board::kMagic.base.gfn().value + 8);
  EXPECT_FALSE(m.lookup(Gfn{*r}));  // reserved, not mapped until the guest asks
}

TEST(VcpuInfo, RegistrationPinsThePageAndCannotBeRepeated) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  const Gfn g = ram_gfn(20);
  const Mfn pinned = m.lookup(g)->mfn;
  ASSERT_TRUE(xen::register_vcpu_info(h, 0, g, 64).ok());
  EXPECT_EQ(m.vcpu_info_gfn(0), g);
  EXPECT_EQ(m.xen_written_gfns(), std::vector<Gfn>{g});
  // map_vcpu_info refuses a second registration (-EINVAL): it cannot be undone.
  EXPECT_EQ(error_of(xen::register_vcpu_info(h, 0, ram_gfn(21), 0)), Errno::kEINVAL);
  EXPECT_EQ(m.vcpu_info_gfn(0), g);

  // Xen keeps writing to the pinned page on every tick.
  vcpu_info_t before, after;
  ASSERT_TRUE(m.memory().read(g.addr() + 64, &before, sizeof before).ok());
  EXPECT_EQ(before.evtchn_upcall_pending, 1);  // everything marked pending on the move
  m.tick();
  ASSERT_TRUE(m.memory().read(g.addr() + 64, &after, sizeof after).ok());
  EXPECT_EQ(after.time.version, before.time.version + 2);
  EXPECT_NE(after.time.system_time, before.time.system_time);

  // Even after the GFN is removed, the machine page is still Xen's to write.
  ASSERT_TRUE(xen::remove_from_physmap(h, g).ok());
  m.tick();
  vcpu_info_t late;
  m.read_mfn(pinned, 64, &late, sizeof late);
  EXPECT_EQ(late.time.version, after.time.version + 2);
}

TEST(VcpuInfo, BadArgumentsAreRefused) {
  DomainConfig c = dom0less();
  c.vcpus = 2;
  Model m(c);
  auto& h = m.hypercalls();
  EXPECT_EQ(error_of(xen::register_vcpu_info(h, 2, ram_gfn(1), 0)), Errno::kENOENT);
  EXPECT_EQ(error_of(xen::register_vcpu_info(h, 0, ram_gfn(1), kPageSize - 8)), Errno::kEINVAL);
  EXPECT_EQ(error_of(xen::register_vcpu_info(h, 0, slot_gfn(), 0)), Errno::kEINVAL);  // not a guest page
  EXPECT_EQ(error_of(xen::register_vcpu_info(h, 0, board::kVpl011.base.gfn(), 0)), Errno::kEINVAL);
  EXPECT_FALSE(m.vcpu_info_gfn(0));
  EXPECT_TRUE(xen::register_vcpu_info(h, 1, ram_gfn(1), 0).ok());
  EXPECT_EQ(m.vcpu_info_gfn(1), ram_gfn(1));
  // Other vcpu ops are refused on Arm.
  EXPECT_EQ(h.call(__HYPERVISOR_vcpu_op, VCPUOP_up, 0, 0, 0, 0), xen::rc_from_errno(Errno::kEINVAL));
}

// The remote end must exist: a dom0less domain under a Xen without dom0
// gets -ESRCH for remote 0, as real Xen 4.17 answers (check_conformance);
// an xl domain's dom0 takes it.
TEST(EventChannels, TheRemoteDomainMustExist) {
  Model alone(dom0less());
  EXPECT_EQ(error_of(xen::evtchn_alloc_unbound(alone.hypercalls(), 0)), Errno::kESRCH);
  EXPECT_EQ(error_of(xen::evtchn_alloc_unbound(alone.hypercalls(), 7)), Errno::kESRCH);
  EXPECT_EQ(alone.bound_evtchns(), 0u);
  Model with_dom0(xl());
  auto p = xen::evtchn_alloc_unbound(with_dom0.hypercalls(), 0);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(xen::evtchn_status(with_dom0.hypercalls(), *p)->u.unbound.dom, 0);
}

// Ports to itself (a loopback): the domain alone can allocate them.
TEST(EventChannels, AllocStatusCloseLifecycle) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  EXPECT_EQ(m.bound_evtchns(), 0u);
  auto p = xen::evtchn_alloc_unbound(h, DOMID_SELF);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, 1u);  // port 0 is reserved
  auto q = xen::evtchn_alloc_unbound(h, DOMID_SELF);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 2u);
  EXPECT_EQ(m.bound_evtchns(), 2u);
  auto s = xen::evtchn_status(h, *p);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, EVTCHNSTAT_unbound);
  EXPECT_EQ(s->u.unbound.dom, kSelf);

  // Bound ports show up pending in shared_info on a tick.
  m.tick();
  shared_info_t si;
  m.read_mfn(m.shared_info_mfn(), 0, &si, sizeof si);
  EXPECT_EQ(si.evtchn_pending[0] & 0x6, 0x6u);
  EXPECT_EQ(si.vcpu_info[0].evtchn_upcall_pending, 1);

  ASSERT_TRUE(xen::evtchn_close(h, *p).ok());
  EXPECT_EQ(xen::evtchn_status(h, *p)->status, EVTCHNSTAT_closed);
  EXPECT_EQ(error_of(xen::evtchn_close(h, *p)), Errno::kEINVAL);  // already closed
  EXPECT_EQ(error_of(xen::evtchn_close(h, 0)), Errno::kEINVAL);   // reserved
  EXPECT_EQ(error_of(xen::evtchn_close(h, 100000)), Errno::kEINVAL);
  EXPECT_EQ(error_of(xen::evtchn_status(h, 100000)), Errno::kEINVAL);
  EXPECT_EQ(m.bound_ports(), std::vector<uint32_t>{2});
  // A freed port is handed out again.
  EXPECT_EQ(*xen::evtchn_alloc_unbound(h, DOMID_SELF), 1u);
}

TEST(EventChannels, PortsRunOutWithEnospc) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  unsigned got = 0;
  for (;;) {
    auto p = xen::evtchn_alloc_unbound(h, DOMID_SELF);
    if (!p.ok()) {
      EXPECT_EQ(p.error(), Errno::kENOSPC);
      break;
    }
    ++got;
    ASSERT_LT(got, 5000u);
  }
  EXPECT_EQ(got, EVTCHN_2L_NR_CHANNELS - 1);
}

TEST(GrantTable, QuerySizeAndSetupTable) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  auto q = xen::gnttab_query_size(h);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->nr_frames, 1u);
  EXPECT_EQ(q->max_nr_frames, kMaxGrantFrames);

  const Gfn g = board::kGntTab.base.gfn();
  ASSERT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_grant_table, 0, g).ok());
  xen_pfn_t frames[2] = {};
  ASSERT_TRUE(xen::gnttab_setup_table(h, 2, frames).ok());
  EXPECT_EQ(frames[0], g.value);              // on Arm: where the frame is mapped
  EXPECT_EQ(frames[1], ~xen_pfn_t{0});        // not mapped anywhere
  EXPECT_EQ(xen::gnttab_query_size(h)->nr_frames, 2u);
  EXPECT_EQ(error_of(xen::gnttab_setup_table(h, kMaxGrantFrames + 1, frames)), Errno::kEINVAL);  // general_error
  EXPECT_EQ(error_of(xen::gnttab_setup_table(h, 1, nullptr)), Errno::kEFAULT);  // bad_virt_addr

}

TEST(GrantTable, ATickWritesTheEntriesInUseAndNoOther) {
  // xl: xenconsoled and xenstored hold the toolstack's entries 0 and 1
  // mapped for good; nothing holds the last one.
  DomainConfig c = dom0less();
  c.kind = DomainKind::kXl;
  Model m(c);
  const Gfn g = board::kGntTab.base.gfn();
  ASSERT_TRUE(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_grant_table, 0, g).ok());
  const grant_entry_v1_t zero{};
  constexpr uint64_t kLast = kPageSize - sizeof zero;
  ASSERT_TRUE(m.memory().write(g.addr(), &zero, sizeof zero).ok());  // what a page's new owner might write
  ASSERT_TRUE(m.memory().write(g.addr() + kLast, &zero, sizeof zero).ok());
  m.tick();
  grant_entry_v1_t first{}, last{};
  ASSERT_TRUE(m.memory().read(g.addr(), &first, sizeof first).ok());
  ASSERT_TRUE(m.memory().read(g.addr() + kLast, &last, sizeof last).ok());
  EXPECT_EQ(first.flags, GTF_reading | GTF_writing) << "Xen's write to the console entry lands";
  EXPECT_EQ(last.flags, 0) << "an entry nobody uses is not Xen's to write";
}

TEST(Console, WritesAreCaptured) {
  Model m(dom0less());
  auto r = xen::console_write(m.hypercalls(), "hello, xen\n", 11);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);  // real Xen answered 0
  std::string big(1000, 'x');
  ASSERT_TRUE(xen::console_write(m.hypercalls(), big.data(), big.size()).ok());
  EXPECT_EQ(m.console_output(), "hello, xen\n" + big);
  EXPECT_EQ(error_of(xen::console_write(m.hypercalls(), nullptr, 4)), Errno::kEFAULT);
  EXPECT_EQ(m.hypercalls().call(__HYPERVISOR_console_io, CONSOLEIO_read, 4, 0, 0, 0),
            xen::rc_from_errno(Errno::kEPERM));
}

TEST(Misc, VersionAndShutdown) {
  DomainConfig c = dom0less();
  Model m(c);
  EXPECT_EQ(*xen::xen_version(m.hypercalls()), 0x40011u);
  c.xen_version = 0x40013;
  Model n(c);
  EXPECT_EQ(*xen::xen_version(n.hypercalls()), 0x40013u);
  EXPECT_FALSE(m.shutdown_reason());
  ASSERT_TRUE(xen::shutdown(m.hypercalls(), SHUTDOWN_poweroff).ok());
  EXPECT_EQ(m.shutdown_reason(), SHUTDOWN_poweroff);
}

TEST(Misc, UnknownOpsAndCommandsAreEnosys) {
  Model m(dom0less());
  auto& h = m.hypercalls();
  const long enosys = xen::rc_from_errno(Errno::kENOSYS);
  EXPECT_EQ(h.call(9999, 0, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_multicall, 0, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_memory_op, 63, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_hvm_op, 99, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_event_channel_op, 99, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_grant_table_op, 99, 0, 1, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_console_io, 99, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_sched_op, 99, 0, 0, 0, 0), enosys);
  EXPECT_EQ(h.call(__HYPERVISOR_xen_version, 99, 0, 0, 0, 0), enosys);
}

TEST(XenErrno, NamesAndMapping) {
  EXPECT_STREQ(xen::to_string(Errno::kEBUSY), "EBUSY");
  EXPECT_STREQ(xen::to_string(Errno::kEINVAL), "EINVAL");
  EXPECT_STREQ(xen::to_string(Errno::kENOENT), "ENOENT");
  EXPECT_STREQ(xen::to_string(Errno::kEILSEQ), "EILSEQ");
  EXPECT_STREQ(xen::to_string(Errno::kE2BIG), "E2BIG");
  EXPECT_STREQ(xen::to_string(Errno::kENOMEM), "ENOMEM");
  EXPECT_STREQ(xen::to_string(Errno::kEFAULT), "EFAULT");
  EXPECT_STREQ(xen::to_string(Errno::kEPERM), "EPERM");
  EXPECT_STREQ(xen::to_string(Errno::kENOSYS), "ENOSYS");
  EXPECT_STREQ(xen::to_string(static_cast<Errno>(4242)), "E?");
  EXPECT_EQ(xen::errno_from_rc(-16), Errno::kEBUSY);
  EXPECT_EQ(xen::rc_from_errno(Errno::kEILSEQ), -84);
  // The wrappers turn a raw negative return into the named error.
  Model m(dom0less());
  auto r = xen::remove_from_physmap(m.hypercalls(), slot_gfn());
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(xen::to_string(r.error()), "ENOENT");
}

}  // namespace
}  // namespace mb::model::testing
