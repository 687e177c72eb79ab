#include <libfdt.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dt_test_support.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/dt_fixup.h"

namespace mb::loader {
namespace {

using testing::Blob;
using testing::compile_dts;

PhysRange R(uint64_t base, uint64_t size) { return PhysRange{GuestPhys{base}, size}; }

struct Built {
  Blob out;
  size_t size = 0;
};

Built build(const Blob& in, const FixupParams& p, size_t cap = 64 * 1024) {
  Built b;
  b.out.words.assign(cap / 8, 0xa5a5a5a5a5a5a5a5ull);
  auto r = build_kernel_dt(in.data(), b.out.data(), cap, p);
  EXPECT_TRUE(r.ok()) << r.error().check << ": " << r.error().detail;
  if (r.ok()) b.size = *r;
  b.out.size = b.size;
  return b;
}

std::string prop_bytes(const void* fdt, const char* path, const char* name) {
  const int node = fdt_path_offset(fdt, path);
  if (node < 0) return "<no node>";
  int len = 0;
  const char* p = static_cast<const char*>(fdt_getprop(fdt, node, name, &len));
  return p ? std::string(p, static_cast<size_t>(len)) : "<absent>";
}

// Every property of the node at `path`, name=value, in order.
std::string node_dump(const void* fdt, const char* path) {
  const int node = fdt_path_offset(fdt, path);
  if (node < 0) return "<no node>";
  std::string s;
  int prop;
  fdt_for_each_property_offset(prop, fdt, node) {
    const char* name = nullptr;
    int len = 0;
    const char* v = static_cast<const char*>(fdt_getprop_by_offset(fdt, prop, &name, &len));
    s += std::string(name) + "=" + std::string(v, static_cast<size_t>(len)) + ";";
  }
  return s;
}

// The offset of `value` as a big-endian word anywhere in the blob, or -1.
// Cells and memreserve entries are 4-byte aligned: only those offsets count.
long find_be(const Built& b, uint64_t value, int bytes) {
  uint8_t pat[8];
  for (int i = 0; i < bytes; ++i) pat[i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
  const uint8_t* p = b.out.bytes();
  for (size_t i = 0; i + static_cast<size_t>(bytes) <= b.size; i += 4)
    if (memcmp(p + i, pat, static_cast<size_t>(bytes)) == 0) return static_cast<long>(i);
  return -1;
}

TEST(FixupTest, RoundTripNewInitrdAndBootargs) {
  Blob in = compile_dts(testing::kDom0lessDts);
  FixupParams p;
  p.bootargs = "console=hvc0 rdinit=/init";
  p.initrd = R(0x46000000, 0x345000);
  Built b = build(in, p);
  ASSERT_GT(b.size, 0u);
  EXPECT_EQ(fdt_totalsize(b.out.data()), b.size);

  auto d = discover(b.out.data(), b.size);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_STREQ(d->bootargs, "console=hvc0 rdinit=/init");
  EXPECT_EQ(d->payload, p.initrd);
  // 64-bit cells.
  EXPECT_EQ(prop_bytes(b.out.data(), "/chosen", "linux,initrd-start").size(), 8u);
  EXPECT_EQ(prop_bytes(b.out.data(), "/chosen", "linux,initrd-end").size(), 8u);
  // /hypervisor, /memory and the UART pass through byte for byte.
  for (const char* path : {"/hypervisor", "/memory@40000000", "/sbsa-uart@22000000", "/aliases"})
    EXPECT_EQ(node_dump(b.out.data(), path), node_dump(in.data(), path)) << path;
  EXPECT_EQ(prop_bytes(b.out.data(), "/chosen", "stdout-path"), std::string("serial0:115200n8", 17));
  EXPECT_TRUE(d->xen.present);
  EXPECT_EQ(d->xen.grant_table, R(0x38000000, 0x1000000));
  EXPECT_EQ(d->xen.evtchn_intid, 31u);
  ASSERT_EQ(d->bank_count, 1u);
  EXPECT_EQ(d->banks[0], R(0x40000000, 0x8000000));

  // Nothing points at the old payload [0x42000000, 0x42c00000) any more: its
  // memreserve and the reserved-memory node inside it are gone, the others
  // stay.
  ASSERT_EQ(d->reserved_count, 2u);
  EXPECT_EQ(d->reserved[0].range, R(0x47ff0000, 0x10000));
  EXPECT_STREQ(d->reserved[1].name, "shm@47000000");
  EXPECT_EQ(find_be(b, 0x42000000, 4), -1);
  EXPECT_EQ(find_be(b, 0x42c00000, 4), -1);
  EXPECT_EQ(find_be(b, 0x42400000, 4), -1);
}

// A malformed tree may repeat a /chosen property (dtc refuses to, libfdt's
// writer does not); libfdt edits only the first copy. Found by fuzz_dt: the
// kernel must see exactly the values we wrote.
TEST(FixupTest, RepeatedChosenPropertiesLeaveOnlyOurs) {
  Blob in;
  in.words.assign(4096 / 8, 0);
  void* fdt = in.data();
  ASSERT_EQ(fdt_create(fdt, 4096), 0);
  ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "#address-cells", 2), 0);
  ASSERT_EQ(fdt_property_u32(fdt, "#size-cells", 2), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "chosen"), 0);
  ASSERT_EQ(fdt_property_u64(fdt, "linux,initrd-start", 0x48000000), 0);
  ASSERT_EQ(fdt_property_u64(fdt, "linux,initrd-end", 0x48100000), 0);
  ASSERT_EQ(fdt_property(fdt, "linux,initrd-start", "fifteen bytes!", 15), 0);
  ASSERT_EQ(fdt_property_string(fdt, "bootargs", "old"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "bootargs", "older"), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "memory@40000000"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "device_type", "memory"), 0);
  const fdt64_t reg[2] = {cpu_to_fdt64(0x40000000), cpu_to_fdt64(0x20000000)};
  ASSERT_EQ(fdt_property(fdt, "reg", reg, sizeof reg), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_finish(fdt), 0);
  in.size = fdt_totalsize(fdt);

  for (PhysRange initrd : {R(0x50000000, 0x2000), PhysRange{}}) {
    FixupParams p;
    p.bootargs = "new";
    p.initrd = initrd;
    Built b = build(in, p);
    auto d = discover(b.out.data(), b.size);
    ASSERT_TRUE(d.ok()) << d.error().check << ": " << d.error().detail;
    EXPECT_EQ(d->payload, initrd);
    EXPECT_STREQ(d->bootargs, "new");
    int chosen = fdt_path_offset(b.out.data(), "/chosen");
    int copies = 0;
    int prop;
    fdt_for_each_property_offset(prop, b.out.data(), chosen) {
      const char* name = nullptr;
      fdt_getprop_by_offset(b.out.data(), prop, &name, nullptr);
      if (!std::strcmp(name, "linux,initrd-start") || !std::strcmp(name, "bootargs")) ++copies;
    }
    EXPECT_EQ(copies, initrd.empty() ? 1 : 2);
  }
}

TEST(FixupTest, NoInitrdRemovesTheProperties) {
  Blob in = compile_dts(testing::kDom0lessDts);
  Built b = build(in, FixupParams{});
  auto d = discover(b.out.data(), b.size);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_TRUE(d->payload.empty());
  EXPECT_EQ(prop_bytes(b.out.data(), "/chosen", "linux,initrd-start"), "<absent>");
  EXPECT_EQ(prop_bytes(b.out.data(), "/chosen", "linux,initrd-end"), "<absent>");
  // Without a command line of its own the caller keeps /chosen's.
  EXPECT_STREQ(d->bootargs, "console=ttyAMA0 root=/dev/ram");
  EXPECT_EQ(find_be(b, 0x42000000, 4), -1);
}

TEST(FixupTest, ReservationsForTheKernelAreAdded) {
  Blob in = compile_dts(testing::kDom0lessDts);
  const PhysRange keep[] = {R(0x40000000, 0x200000)};
  FixupParams p;
  p.reserve = keep;
  Built b = build(in, p);
  auto d = discover(b.out.data(), b.size);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->reserved_count, 3u);
  EXPECT_EQ(d->reserved[0].range, R(0x47ff0000, 0x10000));
  EXPECT_EQ(d->reserved[1].range, R(0x40000000, 0x200000));
}

TEST(FixupTest, OneCellTreeWithoutChosen) {
  Blob in = compile_dts(R"(/dts-v1/;
/ {
  #address-cells = <1>;
  #size-cells = <1>;
  memory@40000000 { device_type = "memory"; reg = <0x40000000 0x4000000>; };
};
)");
  FixupParams p;
  p.bootargs = "console=ttyAMA0";
  p.initrd = R(0x43000000, 0x1000);
  Built b = build(in, p);
  auto d = discover(b.out.data(), b.size);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_STREQ(d->bootargs, "console=ttyAMA0");
  EXPECT_EQ(d->payload, R(0x43000000, 0x1000));
  EXPECT_EQ(d->banks[0], R(0x40000000, 0x4000000));
  // A tree with neither command line nor initrd stays without /chosen data.
  Built plain = build(in, FixupParams{});
  auto dp = discover(plain.out.data(), plain.size);
  ASSERT_TRUE(dp.ok());
  EXPECT_EQ(dp->bootargs, nullptr);
  EXPECT_TRUE(dp->payload.empty());
}

// The size the error names is exact: that many bytes are enough, one fewer
// is not.
TEST(FixupTest, TooSmallOutputSaysHowMuchIsNeeded) {
  Blob in = compile_dts(testing::kDom0lessDts);
  FixupParams p;
  const std::string longer(400, 'x');  // grows the tree past its input size
  p.bootargs = longer.c_str();
  std::vector<uint64_t> out(in.size / 8);
  auto r = build_kernel_dt(in.data(), out.data(), out.size() * 8, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNoMemory);
  EXPECT_STREQ(r.error().check, "dt-fixup-space");
  size_t needed = 0;
  ASSERT_EQ(std::sscanf(r.error().detail, "the kernel DT needs at least %zu bytes", &needed), 1) << r.error().detail;
  EXPECT_GT(needed, in.size);
  std::vector<uint64_t> exact((needed + 7) / 8);
  auto t = build_kernel_dt(in.data(), exact.data(), needed - 1, p);
  ASSERT_FALSE(t.ok());
  EXPECT_STREQ(t.error().check, "dt-fixup-space");
  auto ok = build_kernel_dt(in.data(), exact.data(), needed, p);
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(*ok, needed);
  EXPECT_EQ(fdt_check_full(exact.data(), needed), 0);
  // Too small even for a header.
  auto tiny = build_kernel_dt(in.data(), exact.data(), 16, p);
  ASSERT_FALSE(tiny.ok());
  EXPECT_STREQ(tiny.error().check, "dt-fixup-space");
}

TEST(FixupTest, BadInputAndOverlap) {
  std::vector<uint64_t> junk(64, 0x1234567890abcdefull), out(1024);
  auto r = build_kernel_dt(junk.data(), out.data(), out.size() * 8, FixupParams{});
  EXPECT_STREQ(r.error().check, "dt-fixup-input");
  Blob in = compile_dts(testing::kDom0lessDts);
  in.words.resize(in.words.size() * 4);
  auto o = build_kernel_dt(in.data(), in.bytes() + 8, in.size, FixupParams{});
  EXPECT_STREQ(o.error().check, "dt-fixup-overlap");
}

}  // namespace
}  // namespace mb::loader
