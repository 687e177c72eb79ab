// build_kernel_dt against the same edits made with host libfdt (the way the
// loader made them before it had its own writer): for many trees and
// parameters the two kernel DTs must mean the same -- same nodes, same
// properties (order aside), same memory reservations -- and libfdt's
// fdt_check_full must accept ours.
#include <libfdt.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dt_test_support.h"
#include "magicboot/loader/dt_fixup.h"

namespace mb::loader {
namespace {

using testing::Blob;
using testing::compile_dts;

PhysRange R(uint64_t base, uint64_t size) { return PhysRange{GuestPhys{base}, size}; }

// The reference: libfdt's editing functions on a copy of the tree.
std::vector<uint64_t> reference(const Blob& in, const FixupParams& p) {
  std::vector<uint64_t> buf((in.size + 8192) / 8);
  void* fdt = buf.data();
  const int cap = static_cast<int>(buf.size() * 8);
  EXPECT_EQ(fdt_open_into(in.data(), fdt, cap), 0);
  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen == -FDT_ERR_NOTFOUND) chosen = fdt_add_subnode(fdt, 0, "chosen");
  EXPECT_GE(chosen, 0);
  auto cells = [&](const char* name, uint64_t* v) {
    int len = 0;
    const auto* c = static_cast<const uint8_t*>(fdt_getprop(fdt, chosen, name, &len));
    if (c == nullptr || (len != 4 && len != 8)) return false;
    *v = 0;
    for (int i = 0; i < len; ++i) *v = *v << 8 | c[i];
    return true;
  };
  uint64_t start = 0, end = 0;
  PhysRange old;
  if (cells("linux,initrd-start", &start) && cells("linux,initrd-end", &end) && end >= start)
    old = R(start, end - start);
  for (const char* prop : {"bootargs", "linux,initrd-start", "linux,initrd-end"}) {
    if (!std::strcmp(prop, "bootargs") && p.bootargs == nullptr) continue;
    while (fdt_delprop(fdt, chosen, prop) == 0) {
    }
  }
  if (p.bootargs != nullptr) {
    EXPECT_EQ(fdt_setprop_string(fdt, chosen, "bootargs", p.bootargs), 0);
  }
  if (!p.initrd.empty()) {
    EXPECT_EQ(fdt_setprop_u64(fdt, chosen, "linux,initrd-start", p.initrd.base.value), 0);
    EXPECT_EQ(fdt_setprop_u64(fdt, chosen, "linux,initrd-end", p.initrd.end().value), 0);
  }
  if (!old.empty()) {
    for (int i = fdt_num_mem_rsv(fdt) - 1; i >= 0; --i) {
      uint64_t a = 0, s = 0;
      fdt_get_mem_rsv(fdt, i, &a, &s);
      if (R(a, s).overlaps(old)) {
        EXPECT_EQ(fdt_del_mem_rsv(fdt, i), 0);
      }
    }
    for (bool again = true; again;) {
      again = false;
      const int rm = fdt_path_offset(fdt, "/reserved-memory");
      if (rm < 0) break;
      const int ac = fdt_address_cells(fdt, rm), sc = fdt_size_cells(fdt, rm);
      if (ac < 1 || ac > 2 || sc < 1 || sc > 2) break;
      int child;
      fdt_for_each_subnode(child, fdt, rm) {
        int len = 0;
        const auto* reg = static_cast<const uint8_t*>(fdt_getprop(fdt, child, "reg", &len));
        const int entry = 4 * (ac + sc);
        for (int off = 0; reg != nullptr && off + entry <= len; off += entry) {
          uint64_t base = 0, size = 0;
          for (int i = 0; i < 4 * ac; ++i) base = base << 8 | reg[off + i];
          for (int i = 0; i < 4 * sc; ++i) size = size << 8 | reg[off + 4 * ac + i];
          if (R(base, size).overlaps(old)) {
            EXPECT_EQ(fdt_del_node(fdt, child), 0);
            again = true;
            break;
          }
        }
        if (again) break;
      }
    }
  }
  for (const PhysRange& r : p.reserve)
    if (!r.empty()) {
      EXPECT_EQ(fdt_add_mem_rsv(fdt, r.base.value, r.size), 0);
    }
  EXPECT_EQ(fdt_pack(fdt), 0);
  return buf;
}

// A tree's meaning: memreserve entries in order, then each node with its
// properties sorted by name and its children sorted by name.
std::string node_meaning(const void* fdt, int node, const std::string& indent) {
  std::vector<std::string> props, children;
  int prop;
  fdt_for_each_property_offset(prop, fdt, node) {
    const char* name = nullptr;
    int len = 0;
    const char* v = static_cast<const char*>(fdt_getprop_by_offset(fdt, prop, &name, &len));
    props.push_back(indent + "  " + name + " = [" + std::string(v, static_cast<size_t>(len)) + "]\n");
  }
  int child;
  fdt_for_each_subnode(child, fdt, node) children.push_back(node_meaning(fdt, child, indent + "  "));
  std::stable_sort(props.begin(), props.end());
  std::stable_sort(children.begin(), children.end());
  std::string s = indent + fdt_get_name(fdt, node, nullptr) + " {\n";
  for (const auto& p : props) s += p;
  for (const auto& c : children) s += c;
  return s + indent + "}\n";
}

std::string meaning(const void* fdt) {
  std::string s;
  for (int i = 0; i < fdt_num_mem_rsv(fdt); ++i) {
    uint64_t a = 0, sz = 0;
    fdt_get_mem_rsv(fdt, i, &a, &sz);
    s += "memreserve " + std::to_string(a) + " " + std::to_string(sz) + "\n";
  }
  return s + node_meaning(fdt, 0, "");
}

void expect_same_as_libfdt(const Blob& in, const FixupParams& p, const std::string& what) {
  std::vector<uint64_t> out((in.size + 8192) / 8);
  auto r = build_kernel_dt(in.data(), out.data(), out.size() * 8, p);
  ASSERT_TRUE(r.ok()) << what << ": " << r.error().check << ": " << r.error().detail;
  ASSERT_EQ(fdt_check_full(out.data(), *r), 0) << what;
  EXPECT_EQ(fdt_totalsize(out.data()), *r) << what;
  const auto ref = reference(in, p);
  EXPECT_EQ(meaning(out.data()), meaning(ref.data())) << what;
  // Packed like fdt_pack leaves it: no larger than libfdt's result.
  EXPECT_LE(*r, fdt_totalsize(ref.data())) << what;
}

const char* kTrees[] = {
    testing::kDom0lessDts,
    // No /chosen, one cell, memreserve over nothing we touch.
    R"(/dts-v1/;
/memreserve/ 0x48000000 0x1000;
/ { #address-cells = <1>; #size-cells = <1>;
  memory@40000000 { device_type = "memory"; reg = <0x40000000 0x10000000>; };
  psci { compatible = "arm,psci-1.0"; method = "hvc"; };
};
)",
    // /chosen with children and a one-cell initrd; /reserved-memory with a
    // nested node and two reg entries, one over the payload.
    R"(/dts-v1/;
/memreserve/ 0x44000000 0x100000;
/memreserve/ 0x44200000 0x1000;
/memreserve/ 0x4a000000 0x1000;
/ { #address-cells = <2>; #size-cells = <2>;
  memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x20000000>; };
  chosen {
    linux,initrd-start = <0x44000000>;
    linux,initrd-end = <0x44400000>;
    stdout-path = "/pl011@9000000";
    module@50000000 { compatible = "multiboot,module"; reg = <0x0 0x50000000 0x0 0x1000>; };
  };
  reserved-memory { #address-cells = <1>; #size-cells = <1>; ranges;
    both@43000000 { reg = <0x43000000 0x1000 0x44300000 0x1000>; inner { x = <1>; }; };
    before@43ff0000 { reg = <0x43ff0000 0x10000>; };
    after@44400000 { reg = <0x44400000 0x1000>; };
    over@44000000 { reg = <0x44000000 0x400000>; };
  };
  pl011@9000000 { compatible = "arm,pl011"; reg = <0x0 0x9000000 0x0 0x1000>; };
};
)",
    // Names the strings block lacks, and a /chosen@0 found by unit.
    R"(/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
  chosen@0 { stdout-path = "serial0"; };
  memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 0x1000000>; };
};
)",
};

TEST(FixupOracleTest, SameMeaningAsLibfdtEdits) {
  const std::string longer(300, 'y');
  const char* bootargs[] = {nullptr, "", "console=hvc0", longer.c_str()};
  const PhysRange initrds[] = {PhysRange{}, R(0x46000000, 0x345000), R(0x44100000, 0x1000)};
  const PhysRange reserve[] = {R(0x40000000, 0x200000), PhysRange{}, R(0x5ff00000, 0x1000)};
  int tree = 0;
  for (const char* dts : kTrees) {
    Blob in = compile_dts(dts);
    for (const char* b : bootargs)
      for (const PhysRange& i : initrds)
        for (size_t nres : {0, 1, 3}) {
          FixupParams p;
          p.bootargs = b;
          p.initrd = i;
          p.reserve = std::span<const PhysRange>(reserve, nres);
          expect_same_as_libfdt(in, p, "tree " + std::to_string(tree) + " bootargs " + (b ? b : "(none)") +
                                           " reserve " + std::to_string(nres));
        }
    ++tree;
  }
}

// NOPs where libfdt's editing leaves them (nop'd properties and nodes):
// none survive the copy, and what they hid stays hidden.
TEST(FixupOracleTest, NopsAndRepeatsOnRandomTrees) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    Blob in = compile_dts(kTrees[iter % 3]);
    in.words.resize(in.words.size() + 512);
    void* fdt = in.data();
    ASSERT_EQ(fdt_open_into(fdt, fdt, static_cast<int>(in.words.size() * 8)), 0);
    std::vector<std::pair<int, std::string>> props;
    for (int node = 0; node >= 0; node = fdt_next_node(fdt, node, nullptr)) {
      int prop;
      fdt_for_each_property_offset(prop, fdt, node) {
        const char* name = nullptr;
        fdt_getprop_by_offset(fdt, prop, &name, nullptr);
        props.emplace_back(node, name);
      }
    }
    for (int k = 0; k < 3 && !props.empty(); ++k) {
      const auto& victim = props[rng() % props.size()];
      (void)fdt_nop_property(fdt, victim.first, victim.second.c_str());  // NOP'd already: NOTFOUND
    }
    const int psci = fdt_path_offset(fdt, "/psci");
    if (psci >= 0 && rng() % 2) {
      ASSERT_EQ(fdt_nop_node(fdt, psci), 0);
    }
    in.size = fdt_totalsize(fdt);
    FixupParams p;
    p.bootargs = rng() % 2 ? "console=hvc0" : nullptr;
    if (rng() % 2) p.initrd = R(0x40000000 + (rng() % 0x1000) * 0x1000, 0x1000 + rng() % 0x100000);
    expect_same_as_libfdt(in, p, "iteration " + std::to_string(iter));
    if (::testing::Test::HasFailure()) return;
  }
}

// Repeated /chosen properties (libfdt's sequential writer allows them):
// every copy goes, as the reference's delete-until-gone does.
TEST(FixupOracleTest, RepeatedChosenProperties) {
  Blob in;
  in.words.assign(4096 / 8, 0);
  void* fdt = in.data();
  ASSERT_EQ(fdt_create(fdt, 4096), 0);
  ASSERT_EQ(fdt_add_reservemap_entry(fdt, 0x48000000, 0x1000), 0);
  ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
  ASSERT_EQ(fdt_begin_node(fdt, "chosen"), 0);
  ASSERT_EQ(fdt_property_u64(fdt, "linux,initrd-start", 0x48000000), 0);
  ASSERT_EQ(fdt_property_u64(fdt, "linux,initrd-end", 0x48100000), 0);
  ASSERT_EQ(fdt_property(fdt, "linux,initrd-start", "fifteen bytes!", 15), 0);
  ASSERT_EQ(fdt_property_string(fdt, "bootargs", "old"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "bootargs", "older"), 0);
  ASSERT_EQ(fdt_property_string(fdt, "other", "kept"), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_finish(fdt), 0);
  in.size = fdt_totalsize(fdt);
  for (const char* b : {static_cast<const char*>(nullptr), "new"})
    for (PhysRange initrd : {R(0x50000000, 0x2000), PhysRange{}}) {
      FixupParams p;
      p.bootargs = b;
      p.initrd = initrd;
      expect_same_as_libfdt(in, p, b ? "with bootargs" : "without bootargs");
    }
}

// The oracle itself catches a tree that differs: a changed property value.
TEST(FixupOracleTest, MeaningSeesADifference) {
  Blob in = compile_dts(testing::kDom0lessDts);
  Blob other = in;
  const int hv = fdt_path_offset(other.data(), "/hypervisor");
  int len = 0;
  auto* v = static_cast<uint8_t*>(fdt_getprop_w(other.data(), hv, "interrupts", &len));
  ASSERT_NE(v, nullptr);
  v[len - 1] ^= 1;
  EXPECT_NE(meaning(in.data()), meaning(other.data()));
}

}  // namespace
}  // namespace mb::loader
