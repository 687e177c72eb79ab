#include "guest_dt.h"

#include <libfdt.h>

#include <cstdio>
#include <span>
#include <cstdlib>

#include "boards/xen_arm64/board.h"

namespace mb::sim {
namespace {

namespace xa = boards::xen_arm64;

// Test-tool code: a libfdt failure here is a bug in this file, not input.
void must(int rc, const char* what) {
  if (rc < 0) {
    std::fprintf(stderr, "guest_dt: %s: %s\n", what, fdt_strerror(rc));
    std::abort();
  }
}

void prop_cells64(void* fdt, const char* name, std::span<const uint64_t> cells) {
  std::vector<fdt32_t> v;
  for (uint64_t c : cells) {
    v.push_back(cpu_to_fdt32(static_cast<uint32_t>(c >> 32)));
    v.push_back(cpu_to_fdt32(static_cast<uint32_t>(c)));
  }
  must(fdt_property(fdt, name, v.data(), static_cast<int>(v.size() * 4)), name);
}

void prop_strings(void* fdt, const char* name, std::initializer_list<const char*> list) {
  std::string buf;
  for (const char* s : list) buf.append(s).push_back('\0');
  must(fdt_property(fdt, name, buf.data(), static_cast<int>(buf.size())), name);
}

}  // namespace

std::vector<uint8_t> build_guest_dt(const GuestDtSpec& s) {
  std::vector<uint8_t> buf(64 * 1024);
  void* fdt = buf.data();
  must(fdt_create(fdt, static_cast<int>(buf.size())), "create");
  for (const PhysRange& r : s.memreserve) must(fdt_add_reservemap_entry(fdt, r.base.value, r.size), "memreserve");
  must(fdt_finish_reservemap(fdt), "reservemap");
  must(fdt_begin_node(fdt, ""), "root");
  char compat[32];
  std::snprintf(compat, sizeof compat, "xen,xenvm-%u.%u", s.xen_major, s.xen_minor);
  prop_strings(fdt, "compatible", {compat, "xen,xenvm"});
  must(fdt_property_u32(fdt, "#address-cells", 2), "cells");
  must(fdt_property_u32(fdt, "#size-cells", 2), "cells");
  must(fdt_property_u32(fdt, "interrupt-parent", 0xfde8), "interrupt-parent");

  must(fdt_begin_node(fdt, "chosen"), "chosen");
  if (!s.bootargs.empty()) must(fdt_property_string(fdt, "bootargs", s.bootargs.c_str()), "bootargs");
  must(fdt_property_string(fdt, "stdout-path", "/sbsa-uart@22000000"), "stdout-path");
  if (!s.initrd.empty()) {
    must(fdt_property_u64(fdt, "linux,initrd-start", s.initrd.base.value), "initrd-start");
    must(fdt_property_u64(fdt, "linux,initrd-end", s.initrd.end().value), "initrd-end");
  }
  must(fdt_end_node(fdt), "chosen");

  if (!s.ram.empty()) {
    char name[40];
    std::snprintf(name, sizeof name, "memory@%lx", s.ram[0].base.value);
    must(fdt_begin_node(fdt, name), "memory");
    must(fdt_property_string(fdt, "device_type", "memory"), "device_type");
    std::vector<fdt32_t> reg;
    for (const PhysRange& r : s.ram)
      for (uint64_t c : {r.base.value, r.size}) {
        reg.push_back(cpu_to_fdt32(static_cast<uint32_t>(c >> 32)));
        reg.push_back(cpu_to_fdt32(static_cast<uint32_t>(c)));
      }
    must(fdt_property(fdt, "reg", reg.data(), static_cast<int>(reg.size() * 4)), "reg");
    must(fdt_end_node(fdt), "memory");
  }

  if (s.hypervisor) {
    must(fdt_begin_node(fdt, "hypervisor"), "hypervisor");
    char xen[32];
    std::snprintf(xen, sizeof xen, "xen,xen-%u.%u", s.xen_major, s.xen_minor);
    prop_strings(fdt, "compatible", {xen, "xen,xen"});
    std::vector<uint64_t> reg = {xa::kGntTab.base.value, xa::kGntTab.size};
    for (const PhysRange& r : s.ext_regions) reg.insert(reg.end(), {r.base.value, r.size});
    prop_cells64(fdt, "reg", reg);
    if (s.shared_info_gfn) must(fdt_property_u64(fdt, "xen,shared-info-gfn", s.shared_info_gfn->value), "shared-info-gfn");
    // GIC PPI 31 = PPI number 15, level-low on all CPUs, as Xen writes it.
    fdt32_t irq[3] = {cpu_to_fdt32(1), cpu_to_fdt32(xa::kEvtchnPpi - 16), cpu_to_fdt32(0xf08)};
    must(fdt_property(fdt, "interrupts", irq, sizeof irq), "interrupts");
    must(fdt_end_node(fdt), "hypervisor");
  }

  must(fdt_begin_node(fdt, "sbsa-uart@22000000"), "uart");
  prop_strings(fdt, "compatible", {"arm,sbsa-uart"});
  const uint64_t uart_reg[] = {xa::kVpl011.base.value, xa::kVpl011.size};
  prop_cells64(fdt, "reg", uart_reg);
  must(fdt_end_node(fdt), "uart");

  must(fdt_end_node(fdt), "root");
  must(fdt_finish(fdt), "finish");
  must(fdt_pack(fdt), "pack");
  buf.resize(fdt_totalsize(fdt));
  return buf;
}

}  // namespace mb::sim
