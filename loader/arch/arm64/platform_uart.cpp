#include "magicboot/loader/arch/arm64/dt_facts.h"

#include <cstring>

extern "C" {
#include <libfdt.h>
}

namespace mb::arm64 {
namespace {

uint64_t read_cells(const fdt32_t* p, int cells) {
  uint64_t v = 0;
  for (int i = 0; i < cells; ++i) v = (v << 32) | fdt32_to_cpu(p[i]);
  return v;
}

// The first (address, size) of `node`'s reg, in its parent's cells.
bool first_reg(const void* fdt, int node, PhysRange* out) {
  int parent = fdt_parent_offset(fdt, node);
  int ac = fdt_address_cells(fdt, parent);
  int sc = fdt_size_cells(fdt, parent);
  int len = 0;
  auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
  if (reg == nullptr || ac < 1 || ac > 2 || sc < 0 || sc > 2 || len < 4 * (ac + sc)) return false;
  *out = PhysRange{GuestPhys{read_cells(reg, ac)}, read_cells(reg + ac, sc)};
  return true;
}

bool is_uart(const void* fdt, int node) {
  return fdt_node_check_compatible(fdt, node, "arm,pl011") == 0 ||
         fdt_node_check_compatible(fdt, node, "arm,sbsa-uart") == 0;
}

// /chosen stdout-path ("/pl011@9000000:115200n8" or an alias) -> node.
int stdout_node(const void* fdt) {
  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen < 0) return -1;
  int len = 0;
  auto* path = static_cast<const char*>(fdt_getprop(fdt, chosen, "stdout-path", &len));
  if (path == nullptr || len <= 1) return -1;
  const char* colon = static_cast<const char*>(memchr(path, ':', static_cast<size_t>(len)));
  int n = colon != nullptr ? static_cast<int>(colon - path) : static_cast<int>(strnlen(path, static_cast<size_t>(len)));
  return fdt_path_offset_namelen(fdt, path, n);
}

}  // namespace

uint32_t fdt_total_size_early(GuestPhys dtb) {
  if (dtb.value == 0 || !dtb.is_aligned(8)) return 0;
  auto* h = reinterpret_cast<const volatile uint32_t*>(static_cast<uintptr_t>(dtb.value));
  if (__builtin_bswap32(h[0]) != FDT_MAGIC) return 0;
  return __builtin_bswap32(h[1]);
}

Res<DtFacts> read_dt_facts(const void* fdt) {
  auto addr = static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(fdt));
  if (int rc = fdt_check_header(fdt); rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-header", "no valid device tree at %#llx: %s", addr, fdt_strerror(rc));

  DtFacts f;
  // RAM: every node with device_type = "memory", all reg entries.
  int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0);
  if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
    return MB_ERR(ErrorCode::kBadInput, "dt-cells", "root #address-cells %d / #size-cells %d unsupported", ac, sc);
  for (int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7); node >= 0;
       node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", 7)) {
    int len = 0;
    auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, "reg", &len));
    if (reg == nullptr) continue;
    for (int i = 0; i + ac + sc <= len / 4; i += ac + sc) {
      PhysRange r{GuestPhys{read_cells(reg + i, ac)}, read_cells(reg + i + ac, sc)};
      if (r.empty()) continue;
      if (f.ram_count == DtFacts::kMaxRam)
        return MB_ERR(ErrorCode::kUnsupported, "dt-memory", "more than %u RAM ranges (next at %#llx)",
                      DtFacts::kMaxRam, static_cast<unsigned long long>(r.base.value));
      f.ram[f.ram_count++] = r;
    }
  }
  if (f.ram_count == 0) return MB_ERR(ErrorCode::kBadInput, "dt-memory", "no memory node in the device tree at %#llx", addr);

  int hyp = fdt_path_offset(fdt, "/hypervisor");
  if (hyp >= 0 && fdt_node_check_compatible(fdt, hyp, "xen,xen") == 0) {
    f.hypervisor = true;
    first_reg(fdt, hyp, &f.grant_region);
  }

  int uart = stdout_node(fdt);
  if (uart >= 0 && is_uart(fdt, uart)) {
    f.uart_from_stdout_path = true;
  } else {
    uart = -1;
    for (int n = fdt_next_node(fdt, -1, nullptr); n >= 0; n = fdt_next_node(fdt, n, nullptr)) {
      if (is_uart(fdt, n)) {
        uart = n;
        break;
      }
    }
  }
  PhysRange uart_reg;
  if (uart >= 0 && first_reg(fdt, uart, &uart_reg)) {
    f.has_uart = true;
    f.uart = uart_reg.base;
    f.uart_sbsa = fdt_node_check_compatible(fdt, uart, "arm,sbsa-uart") == 0;
  }

  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen >= 0) {
    int len = 0;
    auto* s = static_cast<const fdt32_t*>(fdt_getprop(fdt, chosen, "linux,initrd-start", &len));
    int len2 = 0;
    auto* e = static_cast<const fdt32_t*>(fdt_getprop(fdt, chosen, "linux,initrd-end", &len2));
    if (s != nullptr && e != nullptr && (len == 4 || len == 8) && (len2 == 4 || len2 == 8)) {
      uint64_t b = read_cells(s, len / 4), en = read_cells(e, len2 / 4);
      if (en > b) f.initrd = PhysRange{GuestPhys{b}, en - b};
    }
    auto* args = static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len));
    if (args != nullptr && len > 0 && args[len - 1] == '\0') f.bootargs = args;
  }
  return f;
}

}  // namespace mb::arm64
