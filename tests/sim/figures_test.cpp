// Figures: the sim's wall time for the real Debian kernel, raw, gzip'd and in
// a FIT (default: raw kernel + ramdisk + fdt; conf-gz: gzip kernel), best of
// three in-process runs, recorded as test properties and printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

TEST(SimFigures, RealKernelWallTime) {
  const RealPayloads& rp = real();
  ASSERT_TRUE(rp.ok());
  struct {
    const char* name;
    const Bytes* payload;
    const char* config;
  } runs[] = {{"raw", &rp.image(), ""}, {"gzip", &rp.image_gz(), ""}, {"fit", &rp.fit_raw(), ""},
              {"fit_gzip", &rp.fit_gz(), "conf-gz"}};
  for (const auto& run : runs) {
    SimOptions o;
    o.payload = *run.payload;
    o.fit_config = run.config;
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      SimResult r = run_sim(o);
      ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << run.name << "\n" << describe(r);
      best = std::min(best, r.seconds);
    }
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", best * 1000);
    RecordProperty(std::string("sim_ms_") + run.name, ms);
    std::printf("FIGURE sim wall time, real kernel %-8s (%zu B payload): %s ms\n", run.name, run.payload->size(), ms);
    // Loose bound, so a pathological slowdown (e.g. per-byte page lookups) fails.
    EXPECT_LT(best, 5.0) << run.name;
  }
}

}  // namespace
}  // namespace mb::sim::test
