// magicboot-model-bench: a full handover (the correct strategy + the six
// detectors) and the Linux-like next stage on a 4 GiB guest. Target: < 1 s,
// memory proportional to the pages touched, not to the guest's RAM.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>

#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/strategies.h"
#include "magicboot/xen_stubs/validator.h"

namespace {

using namespace mb::model;

constexpr uint64_t kGiB = uint64_t{1} << 30;

struct Last {
  size_t touched_pages = 0;
  size_t host_bytes = 0;
  uint64_t pages_written = 0;
  size_t findings = 0;
  bool clean = false;
};

Last run_once(uint64_t ram) {
  DomainConfig c;
  c.kind = DomainKind::kDom0less;
  c.ram_bytes = ram;
  Model m(c);
  Last l;
  auto view = strategies::correct(m);
  if (!view.ok()) return l;
  l.findings = validate(m, *view).size();
  NextStageResult n = run_next_stage(m, *view);
  l.pages_written = n.pages_written;
  l.clean = l.findings == 0 && n.clean();
  l.touched_pages = m.touched_pages();
  l.host_bytes = m.host_bytes();
  return l;
}

Last g_last;  // for the summary main() prints after the run

void BM_HandoverAndNextStage(benchmark::State& state) {
  const uint64_t ram = static_cast<uint64_t>(state.range(0)) * kGiB;
  for (auto _ : state) {
    g_last = run_once(ram);
    benchmark::DoNotOptimize(g_last);
  }
  if (!g_last.clean) state.SkipWithError("the correct strategy was not clean");
  state.counters["touched_pages"] = static_cast<double>(g_last.touched_pages);
  state.counters["model_host_bytes"] = static_cast<double>(g_last.host_bytes);
  state.counters["pages_written"] = static_cast<double>(g_last.pages_written);
}
BENCHMARK(BM_HandoverAndNextStage)->Arg(4)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("4 GiB dom0less guest: peak RSS %ld KiB, model touched_pages %zu (%zu KiB if materialised), "
              "model host memory %zu KiB, %lu pages written by the next stage, handover %s\n",
              ru.ru_maxrss, g_last.touched_pages, g_last.touched_pages * 4, g_last.host_bytes / 1024,
              g_last.pages_written, g_last.clean ? "clean" : "NOT CLEAN");
  return g_last.clean ? 0 : 1;
}
