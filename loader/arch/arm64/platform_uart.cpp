#include "magicboot/loader/arch/arm64/platform_uart.h"

#include "magicboot/loader/fdt/reader.h"

namespace mb::arm64 {
namespace {

// The base of `node`'s first reg entry, in its parent's cells.
bool first_reg_base(const void* fdt, int node, GuestPhys* out) {
  const int parent = fdt::parent_of(fdt, node);
  const int ac = fdt::address_cells(fdt, parent);
  const int sc = fdt::size_cells(fdt, parent);
  int len = 0;
  const auto* reg = static_cast<const uint8_t*>(fdt::getprop(fdt, node, "reg", &len));
  if (reg == nullptr || ac < 1 || ac > 2 || sc < 0 || sc > 2 || len < 4 * (ac + sc)) return false;
  *out = GuestPhys{fdt::read_cells(reg, ac)};
  return true;
}

}  // namespace

uint32_t fdt_total_size_early(GuestPhys dtb) {
  if (dtb.value == 0 || !dtb.is_aligned(8)) return 0;
  auto* h = reinterpret_cast<const volatile uint32_t*>(static_cast<uintptr_t>(dtb.value));
  if (__builtin_bswap32(h[0]) != fdt::kMagic) return 0;
  return __builtin_bswap32(h[1]);
}

PlatformUart find_uart(const void* fdt, const loader::DiscoveredDt* dt) {
  PlatformUart u;
  if (dt != nullptr && dt->stdout_path.found && dt->stdout_path.pl011 && !dt->stdout_path.reg.empty()) {
    u.found = true;
    u.base = dt->stdout_path.reg.base;
    u.from_stdout_path = true;
    return u;
  }
  // discover() validated the whole blob; without it, at least the header
  // (the walk checks every offset against the header's sizes).
  if (dt == nullptr && fdt::check_header(fdt) != 0) return u;
  struct Kind {
    const char* compatible;
    bool sbsa;
  };
  for (const Kind k : {Kind{"arm,sbsa-uart", true}, Kind{"arm,pl011", false}}) {
    const int node = fdt::node_by_compatible(fdt, -1, k.compatible);
    if (node >= 0 && first_reg_base(fdt, node, &u.base)) {
      u.found = true;
      u.sbsa = k.sbsa;
      return u;
    }
  }
  return u;
}

}  // namespace mb::arm64
