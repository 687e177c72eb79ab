// --strategy ram-legacy: what U-Boot does today (shared_info on a RAM page,
// left mapped). The sim must catch it: the validator names the exact GFN and
// the Linux-like next stage hits the EBUSY that makes Linux BUG() on Xen 4.17.
#include <gtest/gtest.h>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

struct LegacyCase {
  model::DomainKind domain;
  bool real_kernel;
};

void PrintTo(const LegacyCase& c, std::ostream* os) {
  *os << (c.domain == model::DomainKind::kXl ? "xl" : "dom0less") << (c.real_kernel ? " real kernel" : " synthetic");
}

class RamLegacy : public ::testing::TestWithParam<LegacyCase> {};

TEST_P(RamLegacy, IsCaughtWithTheLegacyGfn) {
  SimOptions o;
  o.domain = GetParam().domain;
  o.strategy = loader::SharedInfoStrategy::kRamLegacy;
  if (GetParam().real_kernel) {
    ASSERT_TRUE(real().ok());
    o.payload = real().image();
  } else {
    o.payload = synthetic_image();
  }
  std::optional<Gfn> mapped_at_jump;
  boards::RamBanks ram{};
  SimResult r = run_sim(o, [&](model::Model& m, const SimResult&) {
    mapped_at_jump = m.shared_info_gfn();
    ram = m.ram();
  });

  ASSERT_EQ(r.outcome, SimResult::Outcome::kViolation) << describe(r);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_TRUE(r.jumped) << "the legacy strategy does hand over; the model judges the result";

  // The legacy page: a RAM GFN, still holding shared_info at the jump.
  const Gfn legacy = r.report.xen.slot().gfn;
  EXPECT_TRUE(r.report.xen.mapped());
  EXPECT_FALSE(r.report.xen.removed());
  EXPECT_TRUE(inside_ram(ram, range_of_pages(legacy, 1))) << std::hex << legacy.value;
  EXPECT_FALSE(xa::kMagic.contains(legacy.addr())) << "legacy must not use GUEST_MAGIC";
  ASSERT_TRUE(mapped_at_jump.has_value());
  EXPECT_EQ(*mapped_at_jump, legacy);

  auto xen_in_ram = model::findings_of(r.findings, "no-xen-page-in-ram");
  ASSERT_FALSE(xen_in_ram.empty()) << describe(r);
  bool exact = false;
  for (const auto& f : xen_in_ram) exact |= f.first == legacy && f.count == 1;
  EXPECT_TRUE(exact) << "no no-xen-page-in-ram finding for exactly GFN 0x" << std::hex << legacy.value << "\n"
                     << describe(r);

  EXPECT_FALSE(r.next.clean());
  EXPECT_FALSE(r.next.xen_guest_init_ok);
  EXPECT_NE(r.next.bug.find("EBUSY"), std::string::npos) << r.next.bug;

  // The handover JSON says what the loader did; it did not check itself.
  EXPECT_NE(r.handover_json.find("\"strategy\":\"ram-legacy\""), std::string::npos) << r.handover_json;
  EXPECT_NE(r.handover_json.find("\"gfn\":" + std::to_string(legacy.value) + ",\"source\""), std::string::npos)
      << r.handover_json;
  EXPECT_NE(r.handover_json.find("\"removed\":false"), std::string::npos) << r.handover_json;
}

INSTANTIATE_TEST_SUITE_P(Sim, RamLegacy,
                         ::testing::Values(LegacyCase{model::DomainKind::kDom0less, true},
                                           LegacyCase{model::DomainKind::kXl, true},
                                           LegacyCase{model::DomainKind::kDom0less, false},
                                           LegacyCase{model::DomainKind::kXl, false}),
                         [](const auto& i) {
                           return std::string(i.param.domain == model::DomainKind::kXl ? "Xl" : "Dom0less") +
                                  (i.param.real_kernel ? "_RealKernel" : "_Synthetic");
                         });

// The same strategy, through the command: exit 1 and the finding printed.
TEST(RamLegacyCli, ExitsOneAndNamesTheGfn) {
  TempDir d;
  write_file(d / "img", synthetic_image());
  Command c = run(quote(MB_SIM_CLI) + " --payload " + quote((d / "img").string()) + " --strategy ram-legacy --quiet",
                  true);
  EXPECT_EQ(c.status, 1) << c.out;
  EXPECT_NE(c.out.find("no-xen-page-in-ram       FAIL"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("EBUSY"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace mb::sim::test
