#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "dt_test_support.h"
#include "magicboot/loader/fdt/reader.h"
#include "oracle.h"

namespace mb::fdt {
namespace {

using loader::testing::Blob;
using loader::testing::blob_of;
using loader::testing::compile_dts;

void fail_test(const std::string& what) { ADD_FAILURE() << what; }

// Exercises every corner the reader has: aliases, unit addresses, 1-cell and
// 0-cell parents, string lists, an empty property, deep nesting, memreserve.
const char* kRichDts = R"(/dts-v1/;
/memreserve/ 0x1000 0x2000;
/memreserve/ 0x80000000 0x100000;
/ {
  #address-cells = <2>;
  #size-cells = <2>;
  compatible = "vendor,board", "arm,virt";
  aliases { serial0 = "/soc/uart@9000000"; soc = "/soc"; bad = "relative"; };
  chosen { bootargs = "console=ttyAMA0"; stdout-path = "serial0:115200n8"; };
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x8000000>; };
  soc {
    #address-cells = <1>;
    #size-cells = <1>;
    ranges;
    uart@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x9000000 0x1000>; };
    uart@9001000 { compatible = "arm,sbsa-uart"; reg = <0x9001000 0x1000>; status = "disabled"; };
    bus {
      #address-cells = <0>;
      #size-cells = <0>;
      empty-prop;
      deep { deeper { deepest { compatible = "arm,pl011"; }; }; };
    };
  };
  hypervisor { compatible = "xen,xen-4.17", "xen,xen"; reg = <0x0 0x38000000 0x0 0x1000000>; };
  bad-cells { #address-cells = <5>; #size-cells = <0x1 0x2>; };
  zero-cells { #address-cells = <0>; };
  uart { compatible = "arm,pl011"; };
};
)";

TEST(FdtReaderTest, AgreesWithLibfdtOnADtcTree) {
  Blob b = compile_dts(kRichDts);
  ASSERT_GT(b.size, 0u);
  EXPECT_EQ(check_tree(b.data(), b.size), 0);
  oracle::compare_checks(b.data(), b.size, fail_test);
  oracle::compare_nodes(b.data(), fail_test);
  for (const char* c : {"arm,pl011", "arm,sbsa-uart", "xen,xen", "arm,virt", "absent"})
    oracle::compare_by_compatible(b.data(), c, fail_test);
  // Paths libfdt resolves too: aliases, trailing slashes, missing nodes.
  for (const char* path : {"/", "//", "/soc/", "serial0", "soc/bus", "soc/uart", "/soc/uart", "/soc/uart@9001000",
                           "/soc/bus/deep/deeper", "/nope", "nope", "bad", "/chosen/x", "/memory"}) {
    EXPECT_EQ(path_offset(b.data(), path, strlen(path)), fdt_path_offset(b.data(), path)) << path;
  }
}

TEST(FdtReaderTest, AnswersItsOwnQuestions) {
  Blob b = compile_dts(kRichDts);
  const void* fdt = b.data();
  const int soc = path_offset(fdt, "/soc", 4);
  ASSERT_GT(soc, 0);
  EXPECT_STREQ(node_name(fdt, soc), "soc");
  EXPECT_STREQ(node_name(fdt, 0), "");
  EXPECT_EQ(node_name(fdt, soc + 4), nullptr);  // not a node
  EXPECT_EQ(address_cells(fdt, soc), 1);
  EXPECT_EQ(size_cells(fdt, 0), 2);
  EXPECT_EQ(address_cells(fdt, path_offset(fdt, "/bad-cells", 10)), -kBadNCells);
  EXPECT_EQ(size_cells(fdt, path_offset(fdt, "/bad-cells", 10)), -kBadNCells);
  EXPECT_EQ(address_cells(fdt, path_offset(fdt, "/zero-cells", 11)), -kBadNCells);
  EXPECT_EQ(size_cells(fdt, path_offset(fdt, "/chosen", 7)), 1);  // absent: 1
  const int uart = node_by_compatible(fdt, -1, "arm,pl011");
  EXPECT_STREQ(node_name(fdt, uart), "uart@9000000");
  EXPECT_EQ(parent_of(fdt, uart), soc);
  EXPECT_EQ(parent_of(fdt, 0), -kNotFound);
  EXPECT_EQ(stringlist_count(fdt, 0, "compatible"), 2);
  int len = 0;
  EXPECT_STREQ(stringlist_get(fdt, 0, "compatible", 1, &len), "arm,virt");
  EXPECT_EQ(len, 8);
  EXPECT_EQ(stringlist_get(fdt, 0, "compatible", 2, &len), nullptr);
  EXPECT_EQ(len, -kNotFound);
  EXPECT_EQ(check_compatible(fdt, uart, "arm,primecell"), 0);
  EXPECT_EQ(check_compatible(fdt, uart, "arm,prime"), 1);
  EXPECT_EQ(check_compatible(fdt, soc, "arm,pl011"), -kNotFound);
  EXPECT_EQ(mem_rsv_count(fdt), 2);
  uint64_t a = 0, s = 0;
  EXPECT_EQ(mem_rsv(fdt, 1, &a, &s), 0);
  EXPECT_EQ(a, 0x80000000u);
  EXPECT_EQ(s, 0x100000u);
  EXPECT_EQ(mem_rsv(fdt, 1 << 20, &a, &s), -kBadOffset);
  EXPECT_STREQ(reason(-kTruncated), "runs past its block (truncated)");
}

// The reader reads trees in place at any alignment (FIT data is 4-aligned).
TEST(FdtReaderTest, ReadsAMisalignedTree) {
  Blob b = compile_dts(kRichDts);
  std::vector<uint8_t> shifted(b.size + 8);
  uint8_t* at = shifted.data() + 4 + (8 - reinterpret_cast<uintptr_t>(shifted.data()) % 8) % 8;
  std::memcpy(at, b.bytes(), b.size);
  ASSERT_EQ(check_tree(at, b.size), 0);
  const int aligned = path_offset(b.data(), "/soc/bus/deep/deeper/deepest", 28);
  EXPECT_EQ(path_offset(at, "/soc/bus/deep/deeper/deepest", 28), aligned);
  EXPECT_EQ(node_by_compatible(at, -1, "arm,sbsa-uart"), node_by_compatible(b.data(), -1, "arm,sbsa-uart"));
}

// A structure block that starts with a NOP (found by fuzz_dt): libfdt finds
// nodes from the root on, but no parent, since its upward walks start at
// offset 0. Every answer must still be libfdt's.
TEST(FdtReaderTest, AgreesWithLibfdtBehindALeadingNop) {
  Blob good = compile_dts(kRichDts);
  const uint32_t off_struct = fdt_off_dt_struct(good.data());
  std::vector<uint8_t> bytes(good.bytes(), good.bytes() + good.size);
  static constexpr uint8_t kNopToken[4] = {0, 0, 0, 4};
  bytes.insert(bytes.begin() + off_struct, kNopToken, kNopToken + 4);
  Blob b = blob_of(bytes);
  fdt_set_totalsize(b.data(), static_cast<uint32_t>(bytes.size()));
  fdt_set_size_dt_struct(b.data(), fdt_size_dt_struct(good.data()) + 4);
  fdt_set_off_dt_strings(b.data(), fdt_off_dt_strings(good.data()) + 4);
  if (fdt_off_mem_rsvmap(good.data()) > off_struct) fdt_set_off_mem_rsvmap(b.data(), fdt_off_mem_rsvmap(good.data()) + 4);
  ASSERT_EQ(fdt_check_full(b.data(), b.size), 0);
  ASSERT_EQ(check_tree(b.data(), b.size), 0);
  EXPECT_EQ(parent_of(b.data(), 4), fdt_parent_offset(b.data(), 4));
  oracle::compare_checks(b.data(), b.size, fail_test);
  oracle::compare_nodes(b.data(), fail_test);
  oracle::compare_by_compatible(b.data(), "arm,pl011", fail_test);
}

// Random corruption of a real tree: each verdict and, on trees both still
// accept, every walk must agree with libfdt. A bad checker is caught: the
// loop also asserts that many corruptions are refused and many survive.
TEST(FdtReaderTest, AgreesWithLibfdtOnCorruptedTrees) {
  Blob good = compile_dts(kRichDts);
  std::mt19937 rng(20240611);
  int refused = 0, accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Blob b = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const size_t at = rng() % b.size;
      switch (rng() % 4) {
        case 0: b.bytes()[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: b.bytes()[at] = 0; break;
        case 2: b.bytes()[at] = static_cast<uint8_t>(rng()); break;
        default:  // a token where one may be expected
          b.bytes()[at & ~size_t{3}] = 0;
          b.bytes()[(at & ~size_t{3}) + 3] = static_cast<uint8_t>(1 + rng() % 9);
      }
    }
    if (fdt_version(b.data()) < 16) continue;
    bool failed = false;
    static thread_local bool* failed_ptr;
    failed_ptr = &failed;
    const oracle::Fail note = [](const std::string& what) {
      *failed_ptr = true;
      ADD_FAILURE() << what;
    };
    oracle::compare_checks(b.data(), b.size, note);
    if (check_tree(b.data(), b.size) == 0 && fdt_check_full(b.data(), b.size) == 0) {
      ++accepted;
      oracle::compare_nodes(b.data(), note);
      oracle::compare_by_compatible(b.data(), "arm,pl011", note);
    } else {
      ++refused;
    }
    if (failed) {
      std::string diff;
      for (size_t i = 0; i < b.size; ++i)
        if (b.bytes()[i] != good.bytes()[i])
          diff += " [" + std::to_string(i) + "] " + std::to_string(good.bytes()[i]) + "->" + std::to_string(b.bytes()[i]);
      ADD_FAILURE() << "iteration " << iter << ", bytes changed:" << diff << " (struct at "
                    << fdt_off_dt_struct(good.data()) << ", strings at " << fdt_off_dt_strings(good.data()) << ")";
      return;
    }
  }
  EXPECT_GT(refused, 2000);
  EXPECT_GT(accepted, 2000);
}

}  // namespace
}  // namespace mb::fdt
