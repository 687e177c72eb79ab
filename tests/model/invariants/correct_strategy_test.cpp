// The correct strategy passes every detector, on every kind of domain and
// RAM size: a validator that fires on the correct loader is as useless as
// one that never fires.
#include "strategy_env.h"

namespace mb::model::testing {
namespace {

struct Case {
  DomainKind kind;
  bool param;
  uint64_t ram;
};

std::string name(const ::testing::TestParamInfo<Case>& i) {
  return std::string(i.param.kind == DomainKind::kXl ? "xl" : "dom0less") + (i.param.param ? "_param" : "_noparam") +
         "_" + std::to_string(i.param.ram / kMiB) + "MiB";
}

class CorrectStrategy : public ::testing::TestWithParam<Case> {};

TEST_P(CorrectStrategy, EveryDetectorFindsNothing) {
  const Case c = GetParam();
  Ran r = run(strategies::correct, domain(c.kind, c.ram, c.param));
  for (const Detector& d : kDetectors) {
    auto f = d.check(*r.model, r.view);
    EXPECT_TRUE(f.empty()) << d.invariant << ":\n" << dump(f);
  }
  EXPECT_FALSE(r.model->shared_info_gfn().has_value());
}

TEST_P(CorrectStrategy, NextStageRunsClean) {
  const Case c = GetParam();
  Ran r = run(strategies::correct, domain(c.kind, c.ram, c.param));
  NextStageResult n = run_next_stage(*r.model, r.view);
  EXPECT_TRUE(n.xen_guest_init_ok) << n.bug;
  EXPECT_EQ(n.bug, "");
  EXPECT_TRUE(n.corruption.empty()) << dump(n.corruption);
  EXPECT_TRUE(n.faults.empty()) << dump(n.faults);
  EXPECT_TRUE(n.clean());
  // Every page Linux believes free but its own shared_info and vcpu_info pages.
  const uint64_t reserved_pages = (0x80000 + 0x10000 + 0xf0000) / 4096;
  const uint64_t payload_pages = (8 * kMiB + 4 * kMiB + 64 * 1024) / 4096;
  EXPECT_EQ(n.pages_written, c.ram / 4096 - reserved_pages - payload_pages - 2);
  EXPECT_EQ(n.pages_verified, n.pages_written);
}

INSTANTIATE_TEST_SUITE_P(Domains, CorrectStrategy,
                         ::testing::Values(Case{DomainKind::kDom0less, false, 64 * kMiB},
                                           Case{DomainKind::kDom0less, true, 64 * kMiB},
                                           Case{DomainKind::kXl, false, 64 * kMiB},
                                           Case{DomainKind::kXl, true, 64 * kMiB},
                                           Case{DomainKind::kDom0less, false, kGiB},
                                           Case{DomainKind::kXl, true, kGiB},
                                           Case{DomainKind::kDom0less, true, 6 * kGiB},
                                           Case{DomainKind::kXl, false, 6 * kGiB}),
                         name);

}  // namespace
}  // namespace mb::model::testing
