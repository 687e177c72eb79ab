// Hypercall fault injection over whole boots: every hypercall a boot makes
// (the firmware's bring-up and the loader) fails in turn, with each errno
// Xen can answer it with. Every case either boots clean (the loader does
// without what failed, and the validator and the next stage agree) or
// refuses with a named error and no jump -- and either way leaves nothing of
// Xen's mapped and no event channel bound beyond the toolstack's own.
#include <gtest/gtest.h>

#include <cerrno>
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

}  // namespace
}  // namespace mb::sim::test
