// What the step tests share: guest memory holding one blob, and a minimal
// guest DT (one RAM bank, /chosen with a payload, /hypervisor) built with
// libfdt's sequential writer.
#pragma once

#include <libfdt.h>

#include <cstdint>
#include <string>
#include <vector>

#include "magicboot/platform.h"

namespace mb::loader::test {

// Guest memory holding `bytes` at `at`; only view() works, and only there.
// Counts the accesses, so a test can show a step reads nothing.
class BlobMemory final : public GuestMemory {
 public:
  BlobMemory(GuestPhys at, std::vector<uint8_t> bytes) : at_(at), bytes_(std::move(bytes)) {}
  Res<void> read(GuestPhys a, void*, size_t) override { return refuse(a); }
  Res<void> write(GuestPhys a, const void*, size_t) override { return refuse(a); }
  Res<void> copy(GuestPhys a, GuestPhys, size_t) override { return refuse(a); }
  Res<void> fill(GuestPhys a, uint8_t, size_t) override { return refuse(a); }
  Res<const uint8_t*> view(GuestPhys a, size_t len) override {
    ++accesses;
    if (a.value < at_.value || a.value - at_.value + len > bytes_.size())
      return MB_ERR(ErrorCode::kMemoryFault, "test-memory", "no memory at %#lx", a.value);
    return bytes_.data() + (a.value - at_.value);
  }
  unsigned accesses = 0;

 private:
  static Res<void> refuse(GuestPhys a) {
    return MB_ERR(ErrorCode::kMemoryFault, "test-memory", "no memory at %#lx", a.value);
  }
  GuestPhys at_;
  std::vector<uint8_t> bytes_;
};

struct MiniDt {
  PhysRange ram{GuestPhys{0x40000000}, 128ull << 20};
  PhysRange payload{GuestPhys{0x42000000}, 0x300000};  // empty: no linux,initrd-*
  std::string bootargs;                                // empty: no bootargs property
  bool xen = true;
};

inline void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

// Aborts the test binary on a libfdt error: a broken fixture is no result.
inline std::vector<uint8_t> build_mini_dt(const MiniDt& s) {
  std::vector<uint8_t> buf(4096);
  void* fdt = buf.data();
  auto ok = [](int rc) {
    if (rc != 0) __builtin_trap();
  };
  uint8_t reg[16];
  ok(fdt_create(fdt, static_cast<int>(buf.size())));
  ok(fdt_finish_reservemap(fdt));
  ok(fdt_begin_node(fdt, ""));
  ok(fdt_property_u32(fdt, "#address-cells", 2));
  ok(fdt_property_u32(fdt, "#size-cells", 2));
  ok(fdt_begin_node(fdt, "memory@40000000"));
  ok(fdt_property_string(fdt, "device_type", "memory"));
  put_be64(reg, s.ram.base.value);
  put_be64(reg + 8, s.ram.size);
  ok(fdt_property(fdt, "reg", reg, sizeof reg));
  ok(fdt_end_node(fdt));
  ok(fdt_begin_node(fdt, "chosen"));
  if (!s.payload.empty()) {
    ok(fdt_property_u64(fdt, "linux,initrd-start", s.payload.base.value));
    ok(fdt_property_u64(fdt, "linux,initrd-end", s.payload.end().value));
  }
  if (!s.bootargs.empty()) ok(fdt_property_string(fdt, "bootargs", s.bootargs.c_str()));
  ok(fdt_end_node(fdt));
  if (s.xen) {
    ok(fdt_begin_node(fdt, "hypervisor"));
    ok(fdt_property_string(fdt, "compatible", "xen,xen-4.17"));
    ok(fdt_end_node(fdt));
  }
  ok(fdt_end_node(fdt));
  ok(fdt_finish(fdt));
  buf.resize(fdt_totalsize(fdt));
  return buf;
}

}  // namespace mb::loader::test
