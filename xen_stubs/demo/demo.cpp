// magicboot-model-demo: the correct strategy and the U-Boot way on the same
// dom0less domain, judged by the validator and the Linux-like next stage,
// side by side. Exit 0 when the correct one is clean and the U-Boot one is
// caught: the demo is also a smoke test of the validator.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "magicboot/format.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/strategies.h"
#include "magicboot/xen_stubs/validator.h"

namespace {

using namespace mb::model;

struct Outcome {
  const char* name;
  bool ran = false;
  std::string error;
  std::vector<Finding> findings;
  NextStageResult next;
};

Outcome judge(const char* name, mb::Res<HandoverView> (*strategy)(Model&), const DomainConfig& c) {
  Outcome o{name};
  Model m(c);
  auto view = strategy(m);
  if (!view.ok()) {
    o.error = std::string(view.error().check) + ": " + view.error().detail;
    return o;
  }
  o.ran = true;
  o.findings = validate(m, *view);
  o.next = run_next_stage(m, *view);
  return o;
}

std::string column(const Outcome& o, const char* invariant) {
  if (!o.ran) return "-";
  size_t n = findings_of(o.findings, invariant).size();
  return n == 0 ? "PASS" : "FAIL (" + std::to_string(n) + ")";
}

std::string next_summary(const Outcome& o) {
  if (!o.ran) return "-";
  if (o.next.clean()) return "clean";
  std::string s;
  if (!o.next.bug.empty()) s += "BUG";
  if (!o.next.corruption.empty()) s += (s.empty() ? "" : ", ") + std::to_string(o.next.corruption.size()) + " corrupted";
  if (!o.next.faults.empty()) s += (s.empty() ? "" : ", ") + std::to_string(o.next.faults.size()) + " faults";
  return s;
}

void details(const Outcome& o) {
  std::printf("\n== %s ==\n", o.name);
  if (!o.ran) {
    std::printf("  strategy failed: %s\n", o.error.c_str());
    return;
  }
  std::printf("  handover findings:%s\n", o.findings.empty() ? " none" : "");
  for (const Finding& f : o.findings) std::printf("    %s\n", to_string(f).c_str());
  const NextStageResult& n = o.next;
  std::printf("  next stage: xen_guest_init %s, %lu pages (%s) written, %lu verified\n",
              n.xen_guest_init_ok ? "ok" : "FAILED", n.pages_written,
              mb::human_size(n.pages_written * mb::kPageSize).text, n.pages_verified);
  if (!n.bug.empty()) std::printf("    Linux would die: %s\n", n.bug.c_str());
  for (const Finding& f : n.corruption) std::printf("    %s\n", to_string(f).c_str());
  for (const Finding& f : n.faults) std::printf("    %s\n", to_string(f).c_str());
}

void usage(FILE* out) {
  std::fprintf(out,
               "usage: magicboot-model-demo [--ram-mib N] [--help]\n"
               "  Runs magicboot's way (shared_info in GUEST_MAGIC, removed before the jump) and the\n"
               "  U-Boot way (shared_info on a RAM page, left mapped) on a dom0less domain of N MiB\n"
               "  (default 1024, at least 64), and prints the validator's and the next stage's verdicts.\n"
               "  Exit 0 if the correct way is clean and the U-Boot way is caught, 1 otherwise,\n"
               "  2 for a bad argument.\n");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t ram_mib = 1024;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--ram-mib")) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "magicboot-model-demo: --ram-mib needs a value (try --help)\n");
        return 2;
      }
      const char* v = argv[++i];
      char* end = nullptr;
      errno = 0;
      ram_mib = std::strtoull(v, &end, 10);
      if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || ram_mib < 64 || ram_mib > 1024 * 1024) {
        std::fprintf(stderr, "magicboot-model-demo: --ram-mib '%s': want a number of MiB from 64 to 1048576 "
                     "(try --help)\n", v);
        return 2;
      }
      continue;
    }
    std::fprintf(stderr, "magicboot-model-demo: unknown argument '%s' (try --help)\n", argv[i]);
    return 2;
  }

  DomainConfig c;
  c.kind = DomainKind::kDom0less;
  c.ram_bytes = ram_mib << 20;
  std::printf("magicboot model demo: a %s dom0less domU on Xen 4.17 (no shared_info param)\n\n",
              mb::human_size(ram_mib << 20).text);

  Outcome good = judge("correct (magicboot)", strategies::correct, c);
  Outcome uboot = judge("uboot_legacy (the U-Boot way)", strategies::uboot_legacy, c);

  std::printf("%-26s %-14s %-14s\n", "invariant", "correct", "uboot_legacy");
  std::printf("%-26s %-14s %-14s\n", "---------", "-------", "------------");
  for (const char* inv : kInvariants)
    std::printf("%-26s %-14s %-14s\n", inv, column(good, inv).c_str(), column(uboot, inv).c_str());
  std::printf("%-26s %-14s %-14s\n", "next stage (Linux-like)", next_summary(good).c_str(),
              next_summary(uboot).c_str());

  details(good);
  details(uboot);

  bool good_clean = good.ran && good.findings.empty() && good.next.clean();
  bool uboot_caught = uboot.ran && (!uboot.findings.empty() || !uboot.next.clean());
  std::printf("\nverdict: correct %s, U-Boot way %s\n", good_clean ? "clean" : "NOT CLEAN",
              uboot_caught ? "caught" : "NOT CAUGHT");
  return good_clean && uboot_caught ? 0 : 1;
}
