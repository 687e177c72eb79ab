#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <string>
#include <vector>

#include "magicboot/loader/fdt/writer.h"

namespace mb::fdt {
namespace {

// The base strings block a copied tree would bring: "linux,initrd-start"
// also holds "initrd-start" as a suffix.
const char kBase[] = "compatible\0linux,initrd-start\0reg";

// A small tree: root { compatible; chosen { initrd-start; new-name; }; }.
size_t write_tree(void* out, size_t cap) {
  Writer w(out, cap, kBase, sizeof kBase);
  const int64_t compatible = w.add_name("compatible");
  const int64_t suffix = w.add_name("initrd-start");
  const int64_t fresh = w.add_name("bootargs");
  const int64_t again = w.add_name("bootargs");
  EXPECT_EQ(compatible, 0);
  EXPECT_EQ(suffix, 17);  // inside "linux,initrd-start"
  EXPECT_EQ(fresh, static_cast<int64_t>(sizeof kBase));
  EXPECT_EQ(again, fresh);
  w.mem_rsv(0x40000000, 0x1000);
  w.mem_rsv(0x80000000, 0x200000);
  w.begin_structure();
  w.begin_node("");
  w.prop(static_cast<uint32_t>(compatible), "a,b\0c,d", 8);
  w.begin_node("chosen@1");
  w.prop_u64(static_cast<uint32_t>(suffix), 0x123456789abcdef0ull);
  w.prop(static_cast<uint32_t>(fresh), "console=hvc0", 13);
  w.end_node();
  w.end_node();
  const size_t size = w.finish(3);
  EXPECT_EQ(w.fits(), size <= cap);
  return size;
}

TEST(FdtWriterTest, WritesATreeLibfdtAccepts) {
  std::vector<uint64_t> buf(512, 0xa5a5a5a5a5a5a5a5ull);
  const size_t size = write_tree(buf.data(), buf.size() * 8);
  const void* fdt = buf.data();
  ASSERT_EQ(fdt_check_full(fdt, size), 0);
  EXPECT_EQ(fdt_totalsize(fdt), size);
  EXPECT_EQ(fdt_version(fdt), 17u);
  EXPECT_EQ(fdt_last_comp_version(fdt), 16u);
  EXPECT_EQ(fdt_boot_cpuid_phys(fdt), 3u);
  // Packed: header, reservations, structure, strings, no gaps.
  EXPECT_EQ(fdt_off_mem_rsvmap(fdt), 40u);
  EXPECT_EQ(fdt_off_dt_struct(fdt), 40u + 3 * 16);
  EXPECT_EQ(fdt_off_dt_strings(fdt), fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt));
  EXPECT_EQ(fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt), size);
  EXPECT_EQ(fdt_size_dt_strings(fdt), sizeof kBase + sizeof "bootargs");
  ASSERT_EQ(fdt_num_mem_rsv(fdt), 2);
  uint64_t a = 0, s = 0;
  ASSERT_EQ(fdt_get_mem_rsv(fdt, 1, &a, &s), 0);
  EXPECT_EQ(a, 0x80000000u);
  EXPECT_EQ(s, 0x200000u);
  int len = 0;
  EXPECT_EQ(std::string(static_cast<const char*>(fdt_getprop(fdt, 0, "compatible", &len)), 8),
            std::string("a,b\0c,d", 8));
  const int chosen = fdt_path_offset(fdt, "/chosen");
  ASSERT_GT(chosen, 0);
  EXPECT_STREQ(fdt_get_name(fdt, chosen, nullptr), "chosen@1");
  const auto* v = static_cast<const fdt64_t*>(fdt_getprop(fdt, chosen, "initrd-start", &len));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(len, 8);
  EXPECT_EQ(fdt64_to_cpu(*v), 0x123456789abcdef0ull);
  EXPECT_STREQ(static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len)), "console=hvc0");
  EXPECT_EQ(len, 13);  // padded to 16 in the block, the length says 13
}

// Past the buffer the writer counts: every smaller capacity reports the same
// size and writes nothing past its end.
TEST(FdtWriterTest, CountsWhatDoesNotFit) {
  std::vector<uint8_t> big(4096);
  const size_t size = write_tree(big.data(), big.size());
  for (size_t cap = 0; cap < size; ++cap) {
    std::vector<uint8_t> buf(size + 16, 0x5a);
    EXPECT_EQ(write_tree(buf.data(), cap), size) << cap;
    for (size_t i = cap; i < buf.size(); ++i) ASSERT_EQ(buf[i], 0x5a) << "cap " << cap << " wrote byte " << i;
  }
  std::vector<uint8_t> exact(size);
  EXPECT_EQ(write_tree(exact.data(), size), size);
  EXPECT_EQ(std::memcmp(exact.data(), big.data(), size), 0);
}

TEST(FdtWriterTest, NewNamesAreBounded) {
  uint8_t buf[64];
  Writer w(buf, sizeof buf, kBase, sizeof kBase);
  for (int i = 0; i < Writer::kMaxNewNames; ++i) EXPECT_GE(w.add_name(i % 2 ? "x1" : (i ? "x2" : "x3")), 0);
  const char* names[] = {"n0", "n1", "n2", "n3", "n4", "n5"};
  int ok = 0;
  for (const char* n : names) ok += w.add_name(n) >= 0;
  EXPECT_EQ(ok, Writer::kMaxNewNames - 3);  // x1, x2, x3 took three slots
  EXPECT_EQ(w.add_name("reg"), 30);          // a name of the base block is no new one
}

}  // namespace
}  // namespace mb::fdt
