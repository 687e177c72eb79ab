#include <libfdt.h>

#include <vector>

#include <cstring>
#include <random>
#include <string>

#include "dt_test_support.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/dt_fixup.h"

namespace mb::loader {
namespace {

using testing::Blob;
using testing::compile_dts;

PhysRange R(uint64_t base, uint64_t size) { return PhysRange{GuestPhys{base}, size}; }

Res<DiscoveredDt> discover_blob(const Blob& b) { return discover(b.data(), b.size); }

std::string detail(const Res<DiscoveredDt>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : std::string(r.error().detail);
}

// A small tree; `body` goes inside the root node after the cells.
std::string tree(const std::string& body, int cells = 2, const std::string& before = "") {
  return "/dts-v1/;\n" + before + "/ {\n  #address-cells = <" + std::to_string(cells) + ">;\n  #size-cells = <" +
         std::to_string(cells) + ">;\n" + body + "};\n";
}

TEST(DiscoverTest, Dom0lessGuest) {
  Blob b = compile_dts(testing::kDom0lessDts);
  auto r = discover_blob(b);
  ASSERT_TRUE(r.ok()) << r.error().check << ": " << r.error().detail;
  const DiscoveredDt& dt = *r;
  ASSERT_EQ(dt.bank_count, 1u);
  EXPECT_EQ(dt.banks[0], R(0x40000000, 0x8000000));
  EXPECT_STREQ(dt.bootargs, "console=ttyAMA0 root=/dev/ram");
  EXPECT_EQ(dt.payload, R(0x42000000, 0xc00000));
  EXPECT_TRUE(dt.xen.present);
  EXPECT_EQ(dt.xen.major, 4u);
  EXPECT_EQ(dt.xen.minor, 17u);
  EXPECT_EQ(dt.xen.grant_table, R(0x38000000, 0x1000000));
  EXPECT_TRUE(dt.xen.has_evtchn);
  EXPECT_EQ(dt.xen.evtchn_intid, 31u);
  EXPECT_EQ(dt.total_size, fdt_totalsize(b.data()));

  EXPECT_EQ(std::string(dt.stdout_path.path), "serial0:115200n8");
  EXPECT_EQ(dt.stdout_path.path_len, 7u);
  EXPECT_STREQ(dt.stdout_path.options, "115200n8");
  EXPECT_TRUE(dt.stdout_path.found);
  EXPECT_EQ(dt.stdout_path.reg, R(0x22000000, 0x1000));
  EXPECT_FALSE(dt.stdout_path.pl011);  // sbsa-uart, not a full PL011

  ASSERT_EQ(dt.reserved_count, 4u);
  EXPECT_EQ(dt.reserved[0].range, R(0x42000000, 0x1000));
  EXPECT_EQ(dt.reserved[0].source, DtReservation::Source::kMemreserve);
  EXPECT_EQ(dt.reserved[1].range, R(0x47ff0000, 0x10000));
  EXPECT_EQ(dt.reserved[2].range, R(0x47000000, 0x100000));
  EXPECT_EQ(dt.reserved[2].source, DtReservation::Source::kReservedMemoryNode);
  EXPECT_STREQ(dt.reserved[2].name, "shm@47000000");
  EXPECT_TRUE(dt.reserved[2].no_map);
  EXPECT_STREQ(dt.reserved[3].name, "payload-copy@42400000");
  EXPECT_FALSE(dt.reserved[3].no_map);
  // Strings point into the blob.
  const auto* base = static_cast<const char*>(b.data());
  EXPECT_TRUE(dt.bootargs >= base && dt.bootargs < base + b.size);
}

TEST(DiscoverTest, TwoBanksTwoCellsSorted) {
  Blob b = compile_dts(tree(R"(
  memory@200000000 { device_type = "memory"; reg = <0x2 0x0 0x0 0x40000000>; };
  memory@40000000 {
    device_type = "memory";
    reg = <0x0 0x50000000 0x0 0x10000000>, <0x0 0x40000000 0x0 0x8000000>;
  };
  chosen { };
)"));
  auto r = discover_blob(b);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  ASSERT_EQ(r->bank_count, 3u);
  EXPECT_EQ(r->banks[0], R(0x40000000, 0x8000000));
  EXPECT_EQ(r->banks[1], R(0x50000000, 0x10000000));
  EXPECT_EQ(r->banks[2], R(0x200000000, 0x40000000));
  EXPECT_EQ(r->ram_total(), 0x58000000u);
  EXPECT_FALSE(r->xen.present);
  EXPECT_EQ(r->bootargs, nullptr);
  EXPECT_TRUE(r->payload.empty());
}

TEST(DiscoverTest, OneCellTreeWithPl011) {
  Blob b = compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x40000000 0x4000000>; };
  chosen {
    linux,initrd-start = <0x41000000>;
    linux,initrd-end = <0x41200000>;
    stdout-path = "/pl011@9000000:115200";
  };
  pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x9000000 0x1000>; };
)", 1));
  auto r = discover_blob(b);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->banks[0], R(0x40000000, 0x4000000));
  EXPECT_EQ(r->payload, R(0x41000000, 0x200000));
  EXPECT_TRUE(r->stdout_path.found);
  EXPECT_TRUE(r->stdout_path.pl011);
  EXPECT_EQ(r->stdout_path.reg, R(0x9000000, 0x1000));
  EXPECT_EQ(r->stdout_path.path_len, strlen("/pl011@9000000"));
  EXPECT_STREQ(r->stdout_path.options, "115200");
}

// The same kind of tree, made with libfdt's sequential-write API: 1-cell
// reg, a stdout-path alias that names no node, a memory node switched off.
TEST(DiscoverTest, SequentialWriteTree) {
  std::vector<uint64_t> buf(512);
  void* fdt = buf.data();
  ASSERT_EQ(fdt_create(fdt, buf.size() * 8), 0);
  ASSERT_EQ(fdt_add_reservemap_entry(fdt, 0x40100000, 0x2000), 0);
  ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "#address-cells", 1), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "#size-cells", 1), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "memory@40000000"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "device_type", "memory"), 0);
  const fdt32_t reg[] = {cpu_to_fdt32(0x40000000), cpu_to_fdt32(0x2000000)};
  ASSERT_EQ(fdt_property(fdt, "reg", reg, sizeof reg), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "memory@80000000"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "device_type", "memory"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "status", "disabled"), 0);
  const fdt32_t reg2[] = {cpu_to_fdt32(0x80000000), cpu_to_fdt32(0x2000000)};
  ASSERT_EQ(fdt_property(fdt, "reg", reg2, sizeof reg2), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "chosen"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "bootargs", "quiet"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "stdout-path", "serial7"), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_finish(fdt), 0);

  auto r = discover(fdt, buf.size() * 8);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  ASSERT_EQ(r->bank_count, 1u);
  EXPECT_EQ(r->banks[0], R(0x40000000, 0x2000000));
  EXPECT_STREQ(r->bootargs, "quiet");
  EXPECT_STREQ(r->stdout_path.path, "serial7");
  EXPECT_EQ(r->stdout_path.options, nullptr);
  EXPECT_FALSE(r->stdout_path.found);
  ASSERT_EQ(r->reserved_count, 1u);
  EXPECT_EQ(r->reserved[0].range, R(0x40100000, 0x2000));
}

TEST(DiscoverTest, OverlappingBanks) {
  Blob b = compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x10000000>; };
  memory@48000000 { device_type = "memory"; reg = <0x0 0x48000000 0x0 0x10000000>; };
)"));
  auto r = discover_blob(b);
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
  EXPECT_STREQ(r.error().check, "dt-memory-overlap");
  EXPECT_EQ(detail(r), "RAM bank [0x40000000, 0x50000000) overlaps bank [0x48000000, 0x58000000)");
}

const char* kXenNode = R"(
  hypervisor {
    compatible = "xen,xen-4.17", "xen,xen";
    reg = <0x0 0x38000000 0x0 0x1000000>;
    interrupts = <0x1 0xf 0xf08>;
  };
)";

TEST(DiscoverTest, BankOverMagicOnXen) {
  const std::string bank = R"(
  memory@39000000 { device_type = "memory"; reg = <0x0 0x39800000 0x0 0x10000000>; };
)";
  auto r = discover_blob(compile_dts(tree(bank + kXenNode)));
  EXPECT_EQ(r.error().code, ErrorCode::kOverlap);
  EXPECT_STREQ(r.error().check, "dt-memory-magic");
  EXPECT_EQ(detail(r), "RAM bank [0x39800000, 0x49800000) overlaps GUEST_MAGIC [0x39000000, 0x3a000000)");
  // Not a Xen guest: the magic region means nothing there.
  EXPECT_TRUE(discover_blob(compile_dts(tree(bank))).ok());
}

TEST(DiscoverTest, BankOverGrantTableOnXen) {
  auto r = discover_blob(compile_dts(tree(std::string(R"(
  memory@30000000 { device_type = "memory"; reg = <0x0 0x30000000 0x0 0x8001000>; };
)") + kXenNode)));
  EXPECT_STREQ(r.error().check, "dt-memory-gnttab");
  EXPECT_EQ(detail(r), "RAM bank [0x30000000, 0x38001000) overlaps the grant table [0x38000000, 0x39000000) of /hypervisor");
}

TEST(DiscoverTest, TruncatedBlobIsAnErrorAtEveryLength) {
  Blob good = compile_dts(testing::kDom0lessDts);
  for (size_t len = 0; len < good.size; ++len) {
    // A copy of just the first `len` bytes (rounded up to 8 with zeros).
    Blob cut = testing::blob_of(std::vector<uint8_t>(good.bytes(), good.bytes() + len));
    auto r = discover(cut.data(), len);
    ASSERT_FALSE(r.ok()) << "accepted " << len << " of " << good.size << " bytes";
    ASSERT_EQ(r.error().code, ErrorCode::kBadInput) << len;
  }
  auto r = discover(good.data(), good.size - 1);
  EXPECT_STREQ(r.error().check, "dt-truncated");
  EXPECT_NE(detail(r).find("exceeds the " + std::to_string(good.size - 1) + " bytes available"), std::string::npos);
}

TEST(DiscoverTest, TruncatedWithConsistentHeader) {
  // totalsize rewritten to match the cut: the header is consistent, the
  // blocks it points to run past the end.
  Blob good = compile_dts(testing::kDom0lessDts);
  const size_t len = good.size / 2;
  Blob cut = testing::blob_of(std::vector<uint8_t>(good.bytes(), good.bytes() + len));
  fdt_set_totalsize(cut.data(), static_cast<uint32_t>(len));
  auto r = discover(cut.data(), len);
  EXPECT_EQ(r.error().code, ErrorCode::kBadInput);
  EXPECT_TRUE(std::string(r.error().check) == "dt-header" || std::string(r.error().check) == "dt-structure")
      << r.error().check;
}

TEST(DiscoverTest, GarbageBytes) {
  std::mt19937 rng(7);
  std::vector<uint8_t> junk(4096);
  for (auto& x : junk) x = static_cast<uint8_t>(rng());
  Blob b = testing::blob_of(junk);
  auto r = discover(b.data(), b.size);
  EXPECT_STREQ(r.error().check, "dt-header");
  EXPECT_NE(detail(r).find("bad header"), std::string::npos);
  EXPECT_STREQ(discover(nullptr, 100).error().check, "dt-header");
  EXPECT_STREQ(discover(b.data(), 8).error().check, "dt-header");
}

TEST(DiscoverTest, CorruptedBlobsNeverCrash) {
  Blob good = compile_dts(testing::kDom0lessDts);
  std::mt19937 rng(11);
  size_t accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    Blob bad = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) bad.bytes()[rng() % good.size] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto r = discover(bad.data(), bad.size);
    if (r.ok()) {
      ++accepted;
      // Whatever is accepted still obeys the contract.
      for (size_t j = 1; j < r->bank_count; ++j) ASSERT_LE(r->banks[j - 1].end(), r->banks[j].base);
      ASSERT_LE(r->total_size, bad.size);
    }
  }
  RecordProperty("accepted", static_cast<int>(accepted));
}

TEST(DiscoverTest, NoChosenPayload) {
  // Strings point into the blob: keep it alive.
  Blob b = compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; };
  chosen { bootargs = "console=hvc0"; };
)"));
  auto r = discover_blob(b);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_TRUE(r->payload.empty());
  EXPECT_STREQ(r->bootargs, "console=hvc0");
  EXPECT_EQ(r->stdout_path.path, nullptr);
  // No /chosen at all.
  auto bare = discover_blob(compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; };
)")));
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->payload.empty());
}

TEST(DiscoverTest, InitrdErrors) {
  const std::string mem = R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; };
)";
  auto only_start = discover_blob(compile_dts(tree(mem + "chosen { linux,initrd-start = <0x41000000>; };\n")));
  EXPECT_STREQ(only_start.error().check, "dt-chosen-initrd");
  EXPECT_EQ(detail(only_start), "/chosen has linux,initrd-start (0x41000000) but no linux,initrd-end");
  auto backwards = discover_blob(compile_dts(
      tree(mem + "chosen { linux,initrd-start = <0x41000000>; linux,initrd-end = <0x40000000>; };\n")));
  EXPECT_EQ(detail(backwards), "/chosen linux,initrd-end 0x40000000 is below linux,initrd-start 0x41000000");
  auto odd = discover_blob(compile_dts(
      tree(mem + "chosen { linux,initrd-start = [00 00 41]; linux,initrd-end = <0x42000000>; };\n")));
  EXPECT_EQ(detail(odd), "/chosen linux,initrd-start is 3 bytes (need 4 or 8)");
  auto mixed = discover_blob(compile_dts(
      tree(mem + "chosen { linux,initrd-start = <0x41000000>; linux,initrd-end = /bits/ 64 <0x41001000>; };\n")));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->payload, R(0x41000000, 0x1000));
  auto unterminated = discover_blob(compile_dts(tree(mem + "chosen { bootargs = [61 62]; };\n")));
  EXPECT_STREQ(unterminated.error().check, "dt-chosen-bootargs");
}

TEST(DiscoverTest, HypervisorVersions) {
  const std::string mem = R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; };
)";
  auto unversioned = discover_blob(compile_dts(tree(mem + "hypervisor { compatible = \"xen,xen\"; };\n")));
  ASSERT_TRUE(unversioned.ok());
  EXPECT_TRUE(unversioned->xen.present);
  EXPECT_EQ(unversioned->xen.major, 0u);
  EXPECT_TRUE(unversioned->xen.grant_table.empty());
  EXPECT_FALSE(unversioned->xen.has_evtchn);
  auto bad = discover_blob(compile_dts(tree(mem + "hypervisor { compatible = \"xen,xen-4\"; };\n")));
  EXPECT_STREQ(bad.error().check, "dt-hypervisor-version");
  EXPECT_EQ(detail(bad), "/hypervisor compatible \"xen,xen-4\" is not xen,xen-X.Y");
  auto other = discover_blob(compile_dts(tree(mem + "hypervisor { compatible = \"kvm\"; };\n")));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->xen.present);
  auto v419 = discover_blob(compile_dts(tree(mem + "hypervisor { compatible = \"xen,xen-4.19\"; };\n")));
  EXPECT_EQ(v419->xen.minor, 19u);
}

// /hypervisor reg: region 0 is the grant table, 1..N the extended regions
// (as Xen 4.17 wrote them for a 512 MiB dom0less domU); more than the
// arrays hold are counted, not kept, and not an error.
TEST(DiscoverTest, HypervisorExtendedRegions) {
  const std::string mem = R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x20000000>; };
)";
  auto dt = discover_blob(compile_dts(tree(mem + R"(hypervisor { compatible = "xen,xen-4.17", "xen,xen";
    reg = <0x0 0x38000000 0x0 0x1000000  0x0 0x60000000 0x0 0xa0000000  0x2 0x0 0xfe 0x0>; };
)")));
  ASSERT_TRUE(dt.ok()) << detail(dt);
  EXPECT_EQ(dt->xen.grant_table, R(0x38000000, 0x1000000));
  ASSERT_EQ(dt->xen.extended_regions().size(), 2u);
  EXPECT_EQ(dt->xen.extended_regions()[0], R(0x60000000, 0xa0000000));
  EXPECT_EQ(dt->xen.extended_regions()[1], R(0x200000000, 0xfe00000000));
  EXPECT_EQ(dt->xen.ext_regions_seen, 2u);

  std::string many = "reg = <0x0 0x38000000 0x0 0x1000000";
  for (int i = 0; i < 10; ++i) many += " 0x1 " + std::to_string(static_cast<unsigned>(i) << 28) + " 0x0 0x4000000";
  auto lots = discover_blob(compile_dts(tree(mem + "hypervisor { compatible = \"xen,xen\"; " + many + ">; };\n")));
  ASSERT_TRUE(lots.ok()) << detail(lots);
  EXPECT_EQ(lots->xen.ext_region_count, DtXen::kMaxExtRegions);
  EXPECT_EQ(lots->xen.ext_regions_seen, 10u);
}

// The patched Xen's copy of HVM_PARAM_SHARED_INFO_PFN: one 64-bit GFN.
TEST(DiscoverTest, HypervisorSharedInfoGfn) {
  const std::string mem = R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x20000000>; };
)";
  auto hyp = [&](const std::string& prop) {
    return discover_blob(compile_dts(tree(mem + "hypervisor { compatible = \"xen,xen-4.17\", \"xen,xen\"; "
                                               "reg = <0x0 0x38000000 0x0 0x1000000>; " + prop + " };\n")));
  };
  auto offered = hyp("xen,shared-info-gfn = <0x0 0x39fff>;");
  ASSERT_TRUE(offered.ok()) << detail(offered);
  EXPECT_EQ(offered->xen.shared_info_gfn.value, 0x39fffu);
  auto high = hyp("xen,shared-info-gfn = <0x1 0x2>;");
  ASSERT_TRUE(high.ok()) << detail(high);
  EXPECT_EQ(high->xen.shared_info_gfn.value, 0x100000002u);
  auto absent = hyp("");
  ASSERT_TRUE(absent.ok()) << detail(absent);
  EXPECT_EQ(absent->xen.shared_info_gfn.value, 0u);
  for (const char* bad : {"xen,shared-info-gfn = <0x39fff>;", "xen,shared-info-gfn = <0x0 0x39fff 0x0>;",
                          "xen,shared-info-gfn;"}) {
    auto r = hyp(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_STREQ(r.error().check, "dt-hypervisor-shared-info") << bad;
  }
  EXPECT_EQ(detail(hyp("xen,shared-info-gfn = <0x39fff>;")),
            "/hypervisor xen,shared-info-gfn is 4 bytes, not one 64-bit GFN (8)");
}

TEST(DiscoverTest, MemoryErrors) {
  auto none = discover_blob(compile_dts(tree("chosen { };\n")));
  EXPECT_STREQ(none.error().check, "dt-memory");
  auto bad_len = discover_blob(compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0>; };
)")));
  EXPECT_STREQ(bad_len.error().check, "dt-memory-reg");
  EXPECT_EQ(detail(bad_len), "node memory@40000000: reg is 12 bytes, not a multiple of 16 (2+2 cells)");
  auto bad_cells = discover_blob(compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x1000 0x0 0x0>; };
)", 3)));
  EXPECT_STREQ(bad_cells.error().check, "dt-cells");
  auto wraps = discover_blob(compile_dts(tree(R"(
  memory@0 { device_type = "memory"; reg = <0xffffffff 0xfffff000 0x0 0x2000>; };
)")));
  EXPECT_EQ(detail(wraps), "node memory@0: reg [0xfffffffffffff000, +0x2000) wraps past 2^64");
  std::string nine;
  for (int i = 0; i < 9; ++i)
    nine += "memory@" + std::to_string(i) + " { device_type = \"memory\"; reg = <0x" + std::to_string(i + 1) +
            " 0x0 0x0 0x1000>; };\n";
  auto too_many = discover_blob(compile_dts(tree(nine)));
  EXPECT_EQ(too_many.error().code, ErrorCode::kUnsupported);
  EXPECT_STREQ(too_many.error().check, "dt-memory-banks");
}

TEST(DiscoverTest, TooManyReservations) {
  std::string rsv;
  for (int i = 0; i < 17; ++i) rsv += "/memreserve/ " + std::to_string(0x41000000 + i * 0x1000) + " 0x1000;\n";
  auto r = discover_blob(compile_dts(tree(R"(
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; };
)", 2, rsv)));
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_STREQ(r.error().check, "dt-reserved");
}

// A v16 tree's header has no size_dt_struct; libfdt 1.6.1's fdt_open_into
// then builds a corrupt kernel DT from one with garbage there (found by
// fuzz_dt). Every producer we meet writes v17: older trees are refused.
TEST(DiscoverTest, TreesOlderThanV17AreRefused) {
  Blob in = compile_dts(testing::kDom0lessDts);
  ASSERT_TRUE(discover(in.data(), in.size).ok());
  auto* h = static_cast<fdt_header*>(in.data());
  h->version = cpu_to_fdt32(16);
  h->size_dt_struct = cpu_to_fdt32(0x6f2d6d61);
  auto bad = discover(in.data(), in.size);
  ASSERT_FALSE(bad.ok());
  EXPECT_STREQ(bad.error().check, "dt-version");
  auto fixed = build_kernel_dt(in.data(), std::vector<uint8_t>(8192).data(), 8192, FixupParams{});
  ASSERT_FALSE(fixed.ok());
  EXPECT_STREQ(fixed.error().check, "dt-fixup-input");
}

// Linux reads RAM from the root's children only; a device_type "memory"
// deeper down is not RAM to it, so not to us either (found by fuzz_dt: the
// fixup dropped such a node under /reserved-memory and "RAM" changed).
TEST(DiscoverTest, MemoryNodesCountOnlyAtTheRoot) {
  Blob in = compile_dts(R"(/dts-v1/;
/ {
  #address-cells = <1>; #size-cells = <1>;
  memory@40000000 { device_type = "memory"; reg = <0x40000000 0x4000000>; };
  chosen { linux,initrd-start = <0x42000000>; linux,initrd-end = <0x42100000>; };
  reserved-memory {
    #address-cells = <1>; #size-cells = <1>; ranges;
    fake@60000000 { device_type = "memory"; reg = <0x60000000 0x1000000>; };
  };
};)");
  auto d = discover(in.data(), in.size);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  ASSERT_EQ(d->bank_count, 1u);
  EXPECT_EQ(d->banks[0], (PhysRange{GuestPhys{0x40000000}, 0x4000000}));
}

}  // namespace
}  // namespace mb::loader
