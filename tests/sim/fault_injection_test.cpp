// Hypercall fault injection over whole boots: every hypercall a boot makes
// (the firmware's bring-up and the loader) fails in turn, with each errno
// Xen can answer it with. Every case either boots clean (the loader does
// without what failed, and the validator and the next stage agree) or
// refuses with a named error and no jump -- and either way leaves nothing of
// Xen's mapped and no event channel bound beyond the toolstack's own.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <set>

#include "magicboot/hypercall/xen_abi.h"
#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

// What Xen 4.17 can answer each call with (xen/common/memory.c,
// xen/arch/arm/mm.c, xen/arch/arm/hvm.c, xen/common/event_channel.c,
// xen/common/grant_table.c, xen/drivers/char/console.c), plus -ENOSYS for a
// Xen built without the op. A call not listed gets the errnos every
// handler can give: a bad guest pointer and a bad argument.
std::vector<long> errnos_for(unsigned op, uint64_t cmd) {
  switch (op) {
    case __HYPERVISOR_memory_op:
      if (cmd == XENMEM_add_to_physmap) return {-EFAULT, -ESRCH, -EINVAL, -ENOMEM, -EBUSY, -EPERM, -ENOSYS};
      if (cmd == XENMEM_remove_from_physmap) return {-EFAULT, -ESRCH, -ENOENT, -EINVAL, -ENOSYS};
      if (cmd == XENMEM_populate_physmap) return {-EFAULT, -EINVAL, -ENOMEM, -ENOSYS};
      break;
    case __HYPERVISOR_hvm_op: return {-EFAULT, -ESRCH, -EINVAL, -EPERM, -ENOSYS};
    case __HYPERVISOR_console_io: return {-EFAULT, -EPERM, -ENOSYS};
    case __HYPERVISOR_xen_version: return {-EPERM, -ENOSYS};
    case __HYPERVISOR_event_channel_op:
      if (cmd == EVTCHNOP_alloc_unbound) return {-EFAULT, -ESRCH, -ENOSPC, -EINVAL, -ENOSYS};
      if (cmd == EVTCHNOP_status) return {-EFAULT, -ESRCH, -EINVAL, -ENOSYS};
      return {-EFAULT, -EINVAL, -ENOSYS};
    case __HYPERVISOR_grant_table_op: return {-EFAULT, -EINVAL, -ENOSYS};
  }
  return {-EFAULT, -EINVAL, -ENOSYS};
}

struct Domain {
  const char* name;
  model::DomainKind kind;
  model::SharedInfoParam param;
  bool regions;
};

const Domain kDomains[] = {
    {"dom0less-stock", model::DomainKind::kDom0less, model::SharedInfoParam::kAbsent, true},
    {"dom0less-no-regions", model::DomainKind::kDom0less, model::SharedInfoParam::kAbsent, false},
    {"dom0less-patched", model::DomainKind::kDom0less, model::SharedInfoParam::kOffered, true},
    {"xl-stock", model::DomainKind::kXl, model::SharedInfoParam::kAbsent, true},
    {"xl-patched", model::DomainKind::kXl, model::SharedInfoParam::kOffered, true},
};

SimOptions options(const Domain& d) {
  SimOptions o;
  o.payload = synthetic_image(64 * 1024, 1 * kMiB);
  o.ram_mib = 256;
  o.domain = d.kind;
  o.shared_info_param = d.param;
  o.extended_regions = d.regions;
  return o;
}

// What the domain looks like once the loader is done, whatever it did.
struct After {
  std::optional<Gfn> shared_info;
  std::vector<uint32_t> ports;
};

SimResult boot(const SimOptions& o, After& after) {
  return run_sim(o, [&](model::Model& m, const SimResult&) {
    after.shared_info = m.shared_info_gfn();
    after.ports = m.bound_ports();
  });
}

std::vector<uint32_t> toolstack_ports(const Domain& d) {
  model::DomainConfig c;
  c.kind = d.kind;
  c.ram_bytes = 256 * kMiB;
  return model::Model(c).bound_ports();
}

// One failure, judged. Returns "" when the case holds, else why not.
std::string judge(const Domain& d, const SimResult& r, const After& after) {
  std::string why;
  if (r.jumped) {
    if (r.outcome != SimResult::Outcome::kClean) why += "jumped into a boot the validator or next stage rejected; ";
  } else {
    if (r.error.check == nullptr || r.error.check[0] == '\0' || r.error.detail[0] == '\0')
      why += "refused without a named error; ";
    // Xen is opened in step xen and closed in step quiesce: a refusal
    // caused by a hypercall is one of theirs.
    if (r.report.step != loader::Stage::kXen && r.report.step != loader::Stage::kQuiesce)
      why += std::string("refused in step ") + loader::to_string(r.report.step) + "; ";
    if (!r.findings.empty()) why += std::string("left the domain broken: ") + r.findings[0].invariant + "; ";
  }
  if (after.shared_info) why += "shared_info still mapped at " + std::to_string(after.shared_info->value) + "; ";
  if (after.ports != toolstack_ports(d)) why += "event channels left bound; ";
  return why;
}

TEST(FaultInjection, EveryHypercallOfABootFailsInTurnWithEachErrno) {
  size_t cases = 0, refused = 0, tolerated = 0;
  std::set<std::string> calls_seen;
  for (const Domain& d : kDomains) {
    After clean_after;
    const SimResult clean = boot(options(d), clean_after);
    ASSERT_EQ(clean.outcome, SimResult::Outcome::kClean) << d.name << ": " << describe(clean);
    ASSERT_FALSE(clean.hypercalls.empty()) << d.name;
    for (const HypercallRecord& c : clean.hypercalls) ASSERT_FALSE(c.injected);
    for (size_t i = 0; i < clean.hypercalls.size(); ++i) {
      const HypercallRecord& call = clean.hypercalls[i];
      const std::string name = hypercall_name(call.op, call.cmd);
      calls_seen.insert(name);
      for (long err : errnos_for(call.op, call.cmd)) {
        SimOptions o = options(d);
        o.fault = InjectedFault{i, err, false};
        After after;
        const SimResult r = boot(o, after);
        ++cases;
        // The fault reached the call it was aimed at (the boot is
        // deterministic up to it).
        ASSERT_GT(r.hypercalls.size(), i) << d.name << " call " << i;
        ASSERT_TRUE(r.hypercalls[i].injected) << d.name << " call " << i;
        ASSERT_EQ(r.hypercalls[i].op, call.op);
        ASSERT_EQ(r.hypercalls[i].cmd, call.cmd);
        const std::string why = judge(d, r, after);
        EXPECT_EQ(why, "") << d.name << ": call " << i << " " << name << " -> " << err << ": " << describe(r);
        (r.jumped ? tolerated : refused) += 1;
      }
    }
  }
  // The boots above must have exercised the calls that matter.
  for (const char* must : {"hvm_op/get_param", "memory_op/add_to_physmap", "memory_op/remove_from_physmap",
                           "xen_version/version", "event_channel_op/send"})
    EXPECT_TRUE(calls_seen.count(must)) << must << " never issued";
  EXPECT_GT(refused, 0u);
  EXPECT_GT(tolerated, 0u);
  std::printf("fault injection: %zu cases over %zu kinds of call: %zu refused, %zu booted clean without the call\n",
              cases, calls_seen.size(), refused, tolerated);
}

// Failing shared_info's removal is the one failure that must stop the boot:
// Linux's own add_to_physmap would fail (-EBUSY, Xen >= 4.17). A single
// failure is retried on the way out and the page is gone; a Xen that keeps
// refusing leaves it mapped, and the loader says so instead of jumping.
TEST(FaultInjection, AFailedRemovalNeverJumps) {
  const Domain& d = kDomains[0];
  After clean_after;
  const SimResult clean = boot(options(d), clean_after);
  ASSERT_EQ(clean.outcome, SimResult::Outcome::kClean) << describe(clean);
  size_t remove_at = SIZE_MAX;
  for (size_t i = 0; i < clean.hypercalls.size(); ++i)
    if (clean.hypercalls[i].op == __HYPERVISOR_memory_op && clean.hypercalls[i].cmd == XENMEM_remove_from_physmap)
      remove_at = i;
  ASSERT_NE(remove_at, SIZE_MAX);

  for (bool persistent : {false, true}) {
    SimOptions o = options(d);
    o.fault = InjectedFault{remove_at, -EBUSY, persistent};
    After after;
    const SimResult r = boot(o, after);
    EXPECT_FALSE(r.jumped);
    EXPECT_STREQ(r.error.check, "shared-info-remove");
    EXPECT_EQ(r.report.step, loader::Stage::kQuiesce);
    EXPECT_NE(std::string(r.error.detail).find("XENMEM_remove_from_physmap"), std::string::npos) << r.error.detail;
    EXPECT_NE(std::string(r.error.detail).find("not jumping"), std::string::npos) << r.error.detail;
    if (persistent) EXPECT_TRUE(after.shared_info.has_value()) << "a Xen that refuses twice keeps its page";
    else EXPECT_FALSE(after.shared_info.has_value()) << "the retry on the way out removes it";
  }
}

// The PV disk (issue 13): an xl domain with a vbd, the loader asked to hash
// it. Every hypercall the PV layer adds, and every xenstore reply, fails in
// turn: the boot either carries on clean or refuses with a named error --
// and never jumps with, nor leaves behind, a valid grant, a connected
// backend or a bound port of its own.
SimOptions disk_options() {
  SimOptions o = options(kDomains[3]);  // xl-stock
  model::DiskConfig d;
  d.image.resize(64 * 1024);
  for (size_t i = 0; i < d.image.size(); ++i) d.image[i] = static_cast<uint8_t>(i * 7 + 3);
  o.disk = d;
  o.hash_disk = true;
  o.pv_timeout_ms = 100;
  return o;
}

struct PvAfter {
  size_t grants = 0;
  bool backend_connected = false;
  std::vector<uint32_t> loader_ports;
  std::optional<Gfn> shared_info;
};

SimResult boot_disk(const SimOptions& o, PvAfter& after) {
  return run_sim(o, [&](model::Model& m, const SimResult&) {
    after.grants = m.active_grants().size();
    after.backend_connected = m.backend_connected();
    after.loader_ports = m.loader_bound_ports();
    after.shared_info = m.shared_info_gfn();
  });
}

std::string judge_pv(const SimResult& r, const PvAfter& after) {
  std::string why;
  if (r.jumped && r.outcome != SimResult::Outcome::kClean) why += "jumped into a rejected boot; ";
  if (!r.jumped && (r.error.check == nullptr || r.error.check[0] == '\0')) why += "refused without a named error; ";
  if (after.grants) why += std::to_string(after.grants) + " grant(s) left valid; ";
  if (after.backend_connected) why += "backend left connected; ";
  if (!after.loader_ports.empty()) why += "a loader event channel left bound; ";
  if (after.shared_info) why += "shared_info left mapped; ";
  for (const auto& f : r.findings) why += "finding " + f.invariant + "; ";
  return why;
}

// Every hypercall of the clean boot `clean` (made from `base`) fails in
// turn with each errno its kind can return: the boot carries on clean or
// refuses by name, and leaves nothing of the PV layer behind.
struct HypercallSweep {
  size_t cases = 0, refused = 0, frames = 0;
  std::set<std::string> kinds;
};
HypercallSweep fail_each_hypercall(const SimOptions& base, const SimResult& clean) {
  HypercallSweep out;
  for (size_t i = 0; i < clean.hypercalls.size(); ++i) {
    const HypercallRecord& call = clean.hypercalls[i];
    const std::string name = hypercall_name(call.op, call.cmd);
    out.kinds.insert(name);
    out.frames += name == "memory_op/add_to_physmap";
    for (long err : errnos_for(call.op, call.cmd)) {
      SimOptions o = base;
      o.fault = InjectedFault{i, err, false};
      PvAfter after;
      const SimResult r = boot_disk(o, after);
      ++out.cases;
      out.refused += !r.jumped;
      EXPECT_EQ(judge_pv(r, after), "") << "call " << i << " " << name << " -> " << err << ": " << describe(r);
    }
  }
  return out;
}

// The xenstore replies of a clean boot from `base` (asserted clean, and
// checked by `check_clean` too).
size_t count_xenstore_replies(const SimOptions& base, void (*check_clean)(const SimResult&) = nullptr) {
  size_t replies = 0;
  SimOptions o = base;
  o.setup_model = [&](model::Model& m) { m.set_xenstore_message_filter([&](model::XenstoreMessage&) { ++replies; }); };
  PvAfter after;
  const SimResult clean = boot_disk(o, after);
  EXPECT_EQ(clean.outcome, SimResult::Outcome::kClean) << describe(clean);
  if (check_clean) check_clean(clean);
  return replies;
}

// Each reply in turn wrong each way a reply can be: xenstored's error, a
// value that is not what was asked, another request's id, a header that
// claims more than the protocol allows. `seen` gets each boot; the sweep
// judges what it left behind.
template <class Seen>
size_t fail_each_xenstore_reply(const SimOptions& base, size_t replies, Seen seen) {
  using Mutate = void (*)(model::XenstoreMessage&);
  const std::pair<const char*, Mutate> kWays[] = {
      {"EIO", [](model::XenstoreMessage& x) { x.type = XS_ERROR; x.payload = std::string("EIO") + '\0'; }},
      {"garbage", [](model::XenstoreMessage& x) { x.payload = "not-what-you-asked"; }},
      {"other id", [](model::XenstoreMessage& x) { x.req_id += 1000; }},
      {"over-long", [](model::XenstoreMessage& x) { x.len = XENSTORE_PAYLOAD_MAX + 1; }},
  };
  size_t cases = 0;
  for (size_t k = 0; k < replies; ++k)
    for (const auto& [way, mutate] : kWays) {
      SimOptions o = base;
      o.setup_model = [k, mutate = mutate](model::Model& m) {
        auto n = std::make_shared<size_t>(0);
        m.set_xenstore_message_filter([k, mutate, n](model::XenstoreMessage& x) {
          if ((*n)++ == k) mutate(x);
        });
      };
      PvAfter after;
      const SimResult r = boot_disk(o, after);
      ++cases;
      seen(r);
      EXPECT_EQ(judge_pv(r, after), "") << "reply " << k << " " << way << ": " << describe(r);
    }
  return cases;
}

TEST(FaultInjection, PvDiskHypercallsFailInTurn) {
  PvAfter clean_after;
  const SimResult clean = boot_disk(disk_options(), clean_after);
  ASSERT_EQ(clean.outcome, SimResult::Outcome::kClean) << describe(clean);
  ASSERT_NE(clean.console.find("MAGICBOOT-FW-DISK"), std::string::npos) << clean.console;
  // Every call of the boot, the ring's notifies included.
  const HypercallSweep sweep = fail_each_hypercall(disk_options(), clean);
  for (const char* must : {"event_channel_op/alloc_unbound", "event_channel_op/close", "event_channel_op/send",
                           "memory_op/add_to_physmap", "memory_op/remove_from_physmap"})
    EXPECT_TRUE(sweep.kinds.count(must)) << must << " never issued";
  EXPECT_GT(sweep.refused, 0u);
  std::printf("PV fault injection: %zu cases over %zu kinds of call, %zu refused\n", sweep.cases, sweep.kinds.size(),
              sweep.refused);
}

// Each xenstore reply of the boot in turn is wrong, each way a reply can be.
TEST(FaultInjection, PvDiskXenstoreRepliesFailInTurn) {
  const size_t replies = count_xenstore_replies(disk_options());
  ASSERT_GT(replies, 20u);
  size_t refused = 0;
  const size_t cases = fail_each_xenstore_reply(disk_options(), replies, [&](const SimResult& r) { refused += !r.jumped; });
  EXPECT_GT(refused, 0u);
  std::printf("xenstore reply faults: %zu cases over %zu replies, %zu refused\n", cases, replies, refused);
}

// The same over blkfront's multi-page ring and indirect requests: blkback
// offers what Linux's does (ring order 4, 256 segments), the command line
// asks for a 4-page ring and 32-page indirect requests, so the handshake
// publishes ring-page-order and ring-ref0..3, two grant frames are mapped,
// and the disk is read by BLKIF_OP_INDIRECT. Every hypercall and every
// xenstore reply of that boot fails in turn, as above.
SimOptions ring_indirect_options() {
  SimOptions o = disk_options();
  o.disk->max_ring_page_order = 4;
  o.disk->max_indirect_segments = 256;
  o.bootargs = "magicboot.disk-ring-order=2 magicboot.disk-indirect=32 magicboot.disk-in-flight=64 "
               "magicboot.disk-window=704";
  return o;
}

constexpr const char* kRingIndirectJson = "\"ring_pages\":4,\"indirect_segments\":32,";

TEST(FaultInjection, PvDiskRingAndIndirectHypercallsFailInTurn) {
  PvAfter clean_after;
  const SimResult clean = boot_disk(ring_indirect_options(), clean_after);
  ASSERT_EQ(clean.outcome, SimResult::Outcome::kClean) << describe(clean);
  ASSERT_NE(clean.console.find(kRingIndirectJson), std::string::npos) << clean.console;
  const HypercallSweep sweep = fail_each_hypercall(ring_indirect_options(), clean);
  EXPECT_GE(sweep.frames, 2u) << "two grant frames for the ring, data and indirect pages";
  for (const char* must : {"event_channel_op/alloc_unbound", "event_channel_op/close", "event_channel_op/send",
                           "memory_op/remove_from_physmap"})
    EXPECT_TRUE(sweep.kinds.count(must)) << must << " never issued";
  EXPECT_GT(sweep.refused, 0u);
  std::printf("PV fault injection (4-page ring, indirect): %zu cases over %zu kinds of call, %zu refused\n",
              sweep.cases, sweep.kinds.size(), sweep.refused);
}

TEST(FaultInjection, PvDiskRingAndIndirectXenstoreRepliesFailInTurn) {
  const size_t replies = count_xenstore_replies(ring_indirect_options(), [](const SimResult& clean) {
    ASSERT_NE(clean.console.find(kRingIndirectJson), std::string::npos) << clean.console;
  });
  ASSERT_GT(replies, 20u);
  size_t refused = 0, fell_back = 0;
  const size_t cases = fail_each_xenstore_reply(ring_indirect_options(), replies, [&](const SimResult& r) {
    refused += !r.jumped;
    // A feature offer that reads wrong is no offer: a clean boot that
    // read the disk another way.
    fell_back += r.jumped && r.console.find(kRingIndirectJson) == std::string::npos;
  });
  EXPECT_GT(refused, 0u);
  EXPECT_GT(fell_back, 0u) << "some reply is an offer's, and a bad one falls back";
  std::printf("xenstore reply faults (4-page ring, indirect): %zu cases over %zu replies, %zu refused, %zu fell back\n",
              cases, replies, refused, fell_back);
}

}  // namespace
}  // namespace mb::sim::test
