// The clean-boot matrix: the real Debian kernel (raw, gzip'd, in a FIT with a
// ramdisk) booted by the real loader in both domain kinds, with the
// shared_info param on and off, in 64 MiB .. 6 GiB of RAM, zero-copy and not.
// Each case must hand over clean, and the facts of the handover are checked
// against the model: where shared_info went and that it is gone, where the
// kernel, initrd and DTB lie, and that their bytes are the payload's.
#include <gtest/gtest.h>

#include "magicboot/magic_pages/shared_info.h"
#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

enum class Payload {
  kRawInPlace,  // raw Image at a 2 MiB-aligned module address: zero-copy
  kRawMoved,    // raw Image at a 4 KiB-aligned address: copied
  kGzip,        // gzip'd Image: inflated into place
  kFitDefault,  // FIT default config: raw kernel + ramdisk + fdt, all hashed
  kFitNamedGz,  // FIT conf-gz: gzip kernel + ramdisk
  kFitGzDefault,  // the gzip FIT's default conf-gz-fdt: gzip kernel + ramdisk + fdt
};

const char* name_of(Payload p) {
  switch (p) {
    case Payload::kRawInPlace: return "RawInPlace";
    case Payload::kRawMoved: return "RawMoved";
    case Payload::kGzip: return "Gzip";
    case Payload::kFitDefault: return "FitDefault";
    case Payload::kFitNamedGz: return "FitNamedGz";
    case Payload::kFitGzDefault: return "FitGzDefault";
  }
  return "?";
}

// Which Xen: where shared_info's slot comes from follows from it.
enum class Xen {
  kStock,           // 4.17: no param, extended regions -> "extended-region"
  kStockNoRegions,  // no param, no regions (Xen < 4.16) -> "fallback"
  kPatched,         // our patch: the param names a GUEST_MAGIC page -> "param"
  kPatchedZero,     // the param answers 0 (offers nothing) -> "extended-region"
};

const char* name_of(Xen x) {
  switch (x) {
    case Xen::kStock: return "Stock";
    case Xen::kStockNoRegions: return "StockNoRegions";
    case Xen::kPatched: return "Patched";
    case Xen::kPatchedZero: return "PatchedZero";
  }
  return "?";
}

struct Case {
  model::DomainKind domain;
  Xen xen;
  uint64_t ram_mib;
  Payload payload;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.domain == model::DomainKind::kXl ? "xl" : "dom0less") << " xen " << name_of(c.xen) << " "
      << c.ram_mib << " MiB " << name_of(c.payload);
}

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  const Case& c = i.param;
  return std::string(c.domain == model::DomainKind::kXl ? "Xl_" : "Dom0less_") + name_of(c.xen) + "_" +
         std::to_string(c.ram_mib) + "MiB_" + name_of(c.payload);
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (auto d : {model::DomainKind::kDom0less, model::DomainKind::kXl})
    for (Xen x : {Xen::kStock, Xen::kStockNoRegions, Xen::kPatched})
      for (uint64_t ram : {64, 1024, 4096, 6144})
        for (auto p : {Payload::kRawInPlace, Payload::kRawMoved, Payload::kGzip, Payload::kFitDefault,
                       Payload::kFitNamedGz})
          v.push_back({d, x, ram, p});
  // The gzip FIT's default configuration, and a param of 0, in corners.
  v.push_back({model::DomainKind::kDom0less, Xen::kStock, 1024, Payload::kFitGzDefault});
  v.push_back({model::DomainKind::kXl, Xen::kPatched, 6144, Payload::kFitGzDefault});
  v.push_back({model::DomainKind::kDom0less, Xen::kPatchedZero, 1024, Payload::kRawInPlace});
  v.push_back({model::DomainKind::kXl, Xen::kPatchedZero, 4096, Payload::kGzip});
  return v;
}

// What the inspector saw at the jump.
struct AtJump {
  std::optional<Gfn> shared_info_mapped_at;
  Bytes kernel;  // [kernel.base, + uncompressed file size)
  Bytes initrd;
  Bytes dtb;
  boards::RamBanks ram{};
};

class CleanBoot : public ::testing::TestWithParam<Case> {};

TEST_P(CleanBoot, HandsOverCleanWithThePayloadInPlace) {
  const Case& c = GetParam();
  const RealPayloads& rp = real();
  ASSERT_TRUE(rp.ok());

  SimOptions o;
  o.domain = c.domain;
  o.shared_info_param = c.xen == Xen::kPatched       ? model::SharedInfoParam::kOffered
                        : c.xen == Xen::kPatchedZero ? model::SharedInfoParam::kZero
                                                     : model::SharedInfoParam::kAbsent;
  o.extended_regions = c.xen != Xen::kStockNoRegions;
  o.ram_mib = c.ram_mib;
  o.bootargs = "console=hvc0 sim-matrix";
  bool fit = c.payload == Payload::kFitDefault || c.payload == Payload::kFitNamedGz ||
             c.payload == Payload::kFitGzDefault;
  switch (c.payload) {
    case Payload::kRawInPlace: o.payload = rp.image(); break;
    case Payload::kRawMoved: o.payload = rp.image(), o.payload_align = 4096; break;
    case Payload::kGzip: o.payload = rp.image_gz(); break;
    case Payload::kFitDefault: o.payload = rp.fit_raw(); break;
    case Payload::kFitNamedGz: o.payload = rp.fit_gz(), o.fit_config = "conf-gz"; break;
    case Payload::kFitGzDefault: o.payload = rp.fit_gz(); break;
  }

  AtJump at;
  SimResult r = run_sim(o, [&](model::Model& m, const SimResult& s) {
    at.shared_info_mapped_at = m.shared_info_gfn();
    at.ram = m.ram();
    if (!s.jumped) return;
    at.kernel = read_guest(m, s.report.kernel.base, rp.image().size());
    if (!s.report.initrd.empty()) at.initrd = read_guest(m, s.report.initrd.base, s.report.initrd.size);
    at.dtb = read_guest(m, s.report.dtb.base, s.report.dtb.size);
  });
  const loader::BootReport& rep = r.report;

  // The verdict: clean at the jump and after the Linux-like next stage.
  ASSERT_EQ(r.outcome, SimResult::Outcome::kClean) << describe(r);
  EXPECT_TRUE(r.jumped);
  EXPECT_TRUE(r.findings.empty()) << describe(r);
  EXPECT_TRUE(r.next.clean()) << describe(r);
  EXPECT_TRUE(r.next.xen_guest_init_ok);
  EXPECT_GT(r.next.pages_verified, 0u);
  EXPECT_EQ(r.faults_before_jump, 0u) << describe(r);
  EXPECT_STREQ(rep.verdict(), "clean");

  // xl: everything printed also went through the PV console ring, whole and
  // in order, as xl's console backend read it; dom0less has no ring.
  EXPECT_TRUE(r.ring_errors.empty()) << r.ring_errors.front();
  EXPECT_EQ(r.pv_console, c.domain == model::DomainKind::kXl ? r.console : "");

  // shared_info: mapped outside RAM while loading, removed before the jump:
  // the param's GUEST_MAGIC page, else the last page of Xen's first extended
  // region (the model's regions, as Xen computes them), else the fallback.
  const Gfn magic_first = xa::kMagic.base.gfn();
  Gfn expected = magic_first + (xa::kMagicPages - 1);
  const char* source = "fallback";
  if (c.xen == Xen::kPatched) {
    expected = magic_first + model::DomainConfig{}.shared_info_magic_offset;
    source = "param";
  } else if (c.xen != Xen::kStockNoRegions) {
    model::DomainConfig cfg;
    cfg.kind = c.domain;
    cfg.ram_bytes = c.ram_mib << 20;
    const std::vector<PhysRange> regions = model::Model(cfg).extended_regions();
    ASSERT_FALSE(regions.empty());
    expected = Gfn{(regions[0].end().value >> 12) - 1};
    source = "extended-region";
  }
  EXPECT_EQ(rep.xen.slot().gfn, expected);
  EXPECT_STREQ(magic::to_string(rep.xen.slot().source), source);
  for (unsigned i = 0; i < at.ram.count; ++i) EXPECT_FALSE(at.ram.bank[i].overlaps(range_of_pages(expected, 1)));
  EXPECT_TRUE(rep.xen.mapped());
  EXPECT_TRUE(rep.xen.removed());
  EXPECT_FALSE(at.shared_info_mapped_at.has_value()) << "shared_info still mapped at the jump";
  const std::string si = "\"shared_info\":{\"gfn\":" + std::to_string(expected.value) + ",\"source\":\"" +
                         source + "\",\"mapped\":true,\"removed\":true}";
  EXPECT_NE(r.handover_json.find(si), std::string::npos) << si << "\nnot in\n" << r.handover_json;
  EXPECT_NE(r.handover_json.find("\"verdict\":\"clean\""), std::string::npos) << r.handover_json;

  // RAM: what Xen gave is what the kernel is told.
  ASSERT_EQ(at.ram.count, c.ram_mib > 3072 ? 2u : 1u);
  KernelDt kdt = read_kernel_dt(at.dtb);
  ASSERT_TRUE(kdt.valid);
  ASSERT_EQ(kdt.memory.size(), at.ram.count);
  for (unsigned i = 0; i < at.ram.count; ++i) EXPECT_EQ(kdt.memory[i], at.ram.bank[i]) << "bank " << i;
  EXPECT_TRUE(kdt.hypervisor) << "/hypervisor must reach the kernel";
  EXPECT_EQ(kdt.bootargs, o.bootargs);
  EXPECT_EQ(std::string(rep.bootargs), o.bootargs);
  EXPECT_EQ(rep.has_bootargs, !o.bootargs.empty());

  // Placement: all in RAM, disjoint, kernel per booting.rst, DTB aligned.
  EXPECT_TRUE(inside_ram(at.ram, rep.kernel)) << std::hex << rep.kernel.base.value;
  EXPECT_TRUE(inside_ram(at.ram, rep.dtb)) << std::hex << rep.dtb.base.value;
  EXPECT_EQ((rep.kernel.base.value - rep.image.text_offset) % (2 * kMiB), 0u) << std::hex << rep.kernel.base.value;
  EXPECT_EQ(rep.kernel.size, rep.image.image_size);
  EXPECT_GT(rep.image.image_size, rp.image().size()) << "image_size includes bss";
  EXPECT_EQ(rep.dtb.base.value % 8, 0u);
  EXPECT_LE(rep.dtb.size, 2 * kMiB);
  EXPECT_FALSE(rep.kernel.overlaps(rep.dtb));
  EXPECT_FALSE(rep.kernel.overlaps(kLoaderSpan)) << "the kernel may not overwrite the running loader";
  EXPECT_FALSE(rep.dtb.overlaps(kLoaderSpan));

  // The kernel's bytes are the uncompressed Image.
  ASSERT_EQ(at.kernel.size(), rp.image().size());
  EXPECT_EQ(rep.kernel_file_size, rp.image().size());
  const size_t page = 4096, last = rp.image().size() - page;
  EXPECT_EQ(std::memcmp(at.kernel.data(), rp.image().data(), page), 0) << "first page differs";
  EXPECT_EQ(std::memcmp(at.kernel.data() + last, rp.image().data() + last, page), 0) << "last page differs";
  EXPECT_EQ(fnv1a(at.kernel.data(), at.kernel.size()), fnv1a(rp.image().data(), rp.image().size()))
      << "kernel bytes in guest memory differ from the Image";

  // initrd: the FIT's ramdisk, where the DT says; none for a bare kernel.
  if (fit) {
    ASSERT_EQ(rep.initrd.size, rp.ramdisk().size());
    EXPECT_TRUE(inside_ram(at.ram, rep.initrd));
    EXPECT_FALSE(rep.initrd.overlaps(rep.kernel));
    EXPECT_FALSE(rep.initrd.overlaps(rep.dtb));
    EXPECT_FALSE(rep.initrd.overlaps(kLoaderSpan));
    EXPECT_TRUE(at.initrd == rp.ramdisk()) << "initrd bytes differ from the ramdisk";
    ASSERT_TRUE(kdt.initrd_start && kdt.initrd_end) << "no linux,initrd-* in the kernel's /chosen";
    EXPECT_EQ(*kdt.initrd_start, rep.initrd.base.value);
    EXPECT_EQ(*kdt.initrd_end, rep.initrd.end().value);
    EXPECT_EQ(rep.payload_kind, loader::PayloadKind::kFit);
    // The report's own copy: the model's memory is gone by now.
    EXPECT_STREQ(rep.fit_config, c.payload == Payload::kFitNamedGz     ? "conf-gz"
                                 : c.payload == Payload::kFitGzDefault ? "conf-gz-fdt"
                                                                       : "conf-raw");
  } else {
    EXPECT_TRUE(rep.initrd.empty());
    EXPECT_FALSE(kdt.initrd_start.has_value()) << "the old payload must not be passed as an initrd";
    EXPECT_FALSE(kdt.initrd_end.has_value());
  }
  bool gz = c.payload == Payload::kGzip || c.payload == Payload::kFitNamedGz || c.payload == Payload::kFitGzDefault;
  EXPECT_EQ(rep.kernel_compression, gz ? loader::Compression::kGzip : loader::Compression::kNone);

  // Zero-copy exactly when a raw Image already sits at 2 MiB + text_offset.
  bool in_place = c.payload == Payload::kRawInPlace;
  if (c.payload == Payload::kRawMoved) {
    ASSERT_NE((r.payload_at.value - rep.image.text_offset) % (2 * kMiB), 0u) << "the case would not need a copy";
  }
  EXPECT_EQ(rep.kernel_zero_copy, in_place);
  if (in_place) {
    EXPECT_EQ(rep.kernel.base, r.payload_at + rep.image.text_offset);
  }
  EXPECT_NE(r.handover_json.find(std::string("\"kernel_zero_copy\":") + (in_place ? "true" : "false")),
            std::string::npos)
      << r.handover_json;
}

INSTANTIATE_TEST_SUITE_P(Sim, CleanBoot, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace mb::sim::test
