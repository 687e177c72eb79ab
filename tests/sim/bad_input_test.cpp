// Bad input: each case must be refused with the failed check named, no jump,
// exit 2 -- and the model must show that the refusal left nothing behind
// (no finding, shared_info not mapped anywhere, no RAM page leaked).
#include <gtest/gtest.h>

#include <functional>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

uint32_t be32(const Bytes& b, size_t off) {
  return uint32_t{b[off]} << 24 | uint32_t{b[off + 1]} << 16 | uint32_t{b[off + 2]} << 8 | b[off + 3];
}
void put_be32(Bytes& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// The synthetic kernel every FIT and gzip case is built from.
const Bytes& small_kernel() {
  static const Bytes k = synthetic_image(64 * 1024, 1024 * 1024, 0, 11);
  return k;
}

Bytes fit_of(const std::string& images, const std::string& configs) {
  FitBuilder b;
  b.add_file("kernel", small_kernel());
  b.add_file("ramdisk", random_bytes(10007, 5));
  return b.build(images, configs);
}

Bytes good_fit() {
  return fit_of(FitBuilder::image("kernel-1", "kernel", "kernel", "none") +
                    FitBuilder::image("ramdisk-1", "ramdisk", "ramdisk", "none"),
                "    default = \"conf-1\";\n    conf-1 { kernel = \"kernel-1\"; ramdisk = \"ramdisk-1\"; };\n");
}

struct BadCase {
  const char* name;
  const char* check;  // the failed check the error must name
  std::function<SimOptions()> make;
  bool cli = true;  // expressible as a payload file for magicboot-sim
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name << " (" << c.check << ")"; }

SimOptions with_payload(Bytes p) {
  SimOptions o;
  o.payload = std::move(p);
  return o;
}

SimOptions with_dt(std::vector<uint8_t> (*mangle)(std::vector<uint8_t>)) {
  SimOptions o = with_payload(small_kernel());
  o.mangle_dt = mangle;
  return o;
}

std::vector<BadCase> cases() {
  return {
      {"DtTruncated", "dt-structure",
       [] {
         // Cut in half: the header promises more than there is, and what
         // follows in guest memory (zeros) is no structure block.
         return with_dt([](std::vector<uint8_t> dt) {
           dt.resize(dt.size() / 2);
           return dt;
         });
       },
       false},
      {"DtTotalsizeTooSmall", "dt-header",
       [] {
         return with_dt([](std::vector<uint8_t> dt) {
           put_be32(dt, 4, 48);  // totalsize smaller than the header's own blocks
           return dt;
         });
       },
       false},
      {"DtTotalsizeHuge", "dt-size",
       [] {
         return with_dt([](std::vector<uint8_t> dt) {
           put_be32(dt, 4, 3u << 20);  // over the 2 MiB a DT may have
           return dt;
         });
       },
       false},
      {"DtBadMagic", "dt-magic",
       [] {
         return with_dt([](std::vector<uint8_t> dt) {
           put_be32(dt, 0, 0xd00dfeef);
           return dt;
         });
       },
       false},
      {"DtBadStructureToken", "dt-structure",
       [] {
         return with_dt([](std::vector<uint8_t> dt) {
           put_be32(dt, be32(dt, 8) + 8, 0xdeadbeef);  // the root's first property token
           return dt;
         });
       },
       false},
      {"NoPayloadInChosen", "no-payload",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.omit_initrd = true;
         return o;
       },
       false},
      {"FitTruncated", "fit-truncated",
       [] {
         Bytes f = good_fit();
         f.resize(f.size() / 2);
         return with_payload(f);
       }},
      {"FitWrongHash", "fit-hash",
       [] {
         Bytes f = good_fit();
         Bytes marker(small_kernel().begin() + 0x1000, small_kernel().begin() + 0x1040);
         size_t at = find_bytes(f, marker);
         EXPECT_NE(at, std::string::npos);
         if (at != std::string::npos) f[at + 7] ^= 0x20;
         return with_payload(f);
       }},
      {"FitNoKernel", "fit-no-kernel",
       [] {
         return with_payload(fit_of(FitBuilder::image("ramdisk-1", "ramdisk", "ramdisk", "none"),
                                    "    default = \"conf-1\";\n    conf-1 { ramdisk = \"ramdisk-1\"; };\n"));
       }},
      {"FitUnknownCompression", "fit-compression",
       [] {
         return with_payload(fit_of(FitBuilder::image("kernel-1", "kernel", "kernel", "lzma"),
                                    "    default = \"conf-1\";\n    conf-1 { kernel = \"kernel-1\"; };\n"));
       }},
      {"GzipCorrupt", "gzip-corrupt",
       [] {
         Bytes g = gzip_bytes(small_kernel());
         g[10] |= 0x06;  // the first deflate block: BTYPE 11, which does not exist
         return with_payload(g);
       }},
      {"GzipTruncated", "gzip-truncated",
       [] {
         Bytes g = gzip_bytes(small_kernel());
         g.resize(g.size() * 2 / 3);
         return with_payload(g);
       }},
      {"GzipWrongCrc", "gzip-crc",
       [] {
         Bytes g = gzip_bytes(small_kernel());
         g[g.size() - 8] ^= 0xff;  // the trailer's CRC32
         return with_payload(g);
       }},
      // A bare file without the Image magic is no payload kind at all.
      {"ImageBadMagic", "payload-kind",
       [] {
         Bytes k = small_kernel();
         k[0x38] = 'X';
         return with_payload(k);
       }},
      {"FitImageBadMagic", "image-magic",
       [] {
         Bytes k = small_kernel();
         k[0x39] = 0;
         FitBuilder b;
         b.add_file("kernel", k);
         return with_payload(b.build(FitBuilder::image("kernel-1", "kernel", "kernel", "none"),
                                     "    default = \"conf-1\";\n    conf-1 { kernel = \"kernel-1\"; };\n"));
       }},
      {"GzipTooBigForImageSize", "gzip-capacity",
       [] {
         // A complete stream that inflates to more than the header's image_size.
         Bytes k = synthetic_image(256 * 1024, 128 * 1024);
         return with_payload(gzip_bytes(k));
       }},
      {"GzipImageBadMagic", "image-magic",
       [] {
         Bytes k = small_kernel();
         k[0x3b] = 0;
         return with_payload(gzip_bytes(k));
       }},
      {"KernelLargerThanFreeRam", "ledger-allocate",
       [] {
         // 1 GiB of RAM, a kernel asking for 2 GiB (mostly bss).
         return with_payload(synthetic_image(64 * 1024, 2 * kGiB));
       }},
      {"PayloadOverlapsLoaderImage", "ledger-claim",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.payload_address = 0x40100000;  // inside the loader's heap [0x40030000, 0x40130000)
         return o;
       },
       false},
      {"RamBanksOverlap", "dt-memory-overlap",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.ram_override = {PhysRange{GuestPhys{0x40000000}, kGiB}, PhysRange{GuestPhys{0x60000000}, kGiB}};
         return o;
       },
       false},
      {"RamOverlapsMagic", "dt-memory-magic",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.ram_override = {PhysRange{GuestPhys{0x40000000}, kGiB}, PhysRange{GuestPhys{0x39ff0000}, 0x20000}};
         return o;
       },
       false},
      {"BootargsOverLinuxLimit", "bootargs-length",
       [] {
         // 2048 characters and the NUL: arm64 Linux keeps 2047 of them.
         SimOptions o = with_payload(small_kernel());
         o.bootargs_override = "console=hvc0 " + std::string(2048 - 13, 'x');
         return o;
       },
       false},
      {"ChosenBootargsOverLinuxLimit", "bootargs-length",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.bootargs = std::string(5000, 'y');  // in the guest DT's /chosen, as Xen writes it
         return o;
       },
       false},
      {"FitConfigForAnImage", "fit-config-not-fit",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.fit_config = "conf-1";
         return o;
       },
       false},
      {"SharedInfoParamInRam", "shared-info-gfn-in-ram",
       [] {
         SimOptions o = with_payload(small_kernel());
         o.shared_info_param = model::SharedInfoParam::kOffered;
         // GUEST_MAGIC is GFN 0x39000..; 0x7000 + 0x2000 pages on is RAM GFN 0x42000.
         o.shared_info_magic_offset = 0x9000;
         return o;
       },
       false},
  };
}

class BadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInput, IsRefusedAndLeavesNothingBehind) {
  const BadCase& c = GetParam();
  for (auto domain : {model::DomainKind::kDom0less, model::DomainKind::kXl}) {
    SCOPED_TRACE(domain == model::DomainKind::kXl ? "xl" : "dom0less");
    SimOptions o = c.make();
    o.domain = domain;
    std::optional<Gfn> shared_info_at;
    uint64_t leaked = ~0ull;
    unsigned evtchns = ~0u;
    SimResult r = run_sim(o, [&](model::Model& m, const SimResult&) {
      shared_info_at = m.shared_info_gfn();
      leaked = m.leaked_pages();
      evtchns = static_cast<unsigned>(m.bound_ports().size());
    });
    EXPECT_EQ(r.outcome, SimResult::Outcome::kBadInput) << describe(r);
    EXPECT_EQ(r.exit_code(), 2);
    EXPECT_FALSE(r.jumped);
    EXPECT_STREQ(r.error.check, c.check) << r.error.detail << "\n" << r.console;
    EXPECT_GT(std::strlen(r.error.detail), 10u) << "the error must say what and where";
    EXPECT_TRUE(r.findings.empty()) << describe(r);
    EXPECT_FALSE(shared_info_at.has_value()) << "shared_info left mapped at GFN 0x" << std::hex
                                             << shared_info_at->value;
    EXPECT_EQ(leaked, 0u) << "a RAM page was lost";
    // xl binds the console and xenstore ports itself; the loader binds none it keeps.
    EXPECT_EQ(evtchns, domain == model::DomainKind::kXl ? 2u : 0u);
    EXPECT_EQ(r.console.find("Starting kernel"), std::string::npos) << r.console;
  }
}

INSTANTIATE_TEST_SUITE_P(Sim, BadInput, ::testing::ValuesIn(cases()),
                         [](const auto& i) { return std::string(i.param.name); });

// The payload-file cases through the command: exit 2 and the check named.
class BadInputCli : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadInputCli, ExitsTwoNamingTheCheck) {
  const BadCase& c = GetParam();
  TempDir d;
  write_file(d / "payload", c.make().payload);
  Command r = run(quote(MB_SIM_CLI) + " --quiet --payload " + quote((d / "payload").string()), true);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(std::string(": ") + c.check + ": "), std::string::npos) << c.check << " not in:\n" << r.out;
  EXPECT_NE(r.out.find("nothing left mapped, no hole, nothing corrupted"), std::string::npos) << r.out;
}

std::vector<BadCase> cli_cases() {
  std::vector<BadCase> v;
  for (BadCase& c : cases())
    if (c.cli) v.push_back(c);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Sim, BadInputCli, ::testing::ValuesIn(cli_cases()),
                         [](const auto& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace mb::sim::test
