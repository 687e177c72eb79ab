#include <cstring>

#include "boards/xen_arm64/board.h"
#include "magicboot/loader/dt.h"
#include "blob_check.h"
#include "fdt_cells.h"
#include "magicboot/loader/fdt/reader.h"

namespace mb::loader {
namespace {


struct Cells {
  int address;
  int size;
};

using fdt::getprop;
using fdt::read_cells;

const char* name_of(const void* fdt, int node) {
  const char* name = fdt::node_name(fdt, node);
  if (name == nullptr) return "?";
  return name[0] == '\0' ? "/" : name;
}

// #address-cells / #size-cells that `parent` gives its children. We read
// only what both boards use: 1 or 2 cells of each.
Res<Cells> cells_of(const void* fdt, int parent) {
  const int ac = fdt::address_cells(fdt, parent);
  const int sc = fdt::size_cells(fdt, parent);
  if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
    return MB_ERR(ErrorCode::kBadInput, "dt-cells", "node %s (offset %d): #address-cells %d, #size-cells %d (need 1 or 2)",
                  name_of(fdt, parent), parent, ac, sc);
  return Cells{ac, sc};
}

// Calls f(PhysRange) for each entry of `node`'s reg, read with `cells`.
// Fails on a length that is not whole entries or an entry that wraps.
template <class F>
Res<void> for_each_reg(const void* fdt, int node, Cells cells, const char* check, F f) {
  int len = 0;
  const auto* p = static_cast<const uint8_t*>(getprop(fdt, node, "reg", &len));
  if (p == nullptr) return {};
  const int entry = 4 * (cells.address + cells.size);
  if (len % entry != 0)
    return MB_ERR(ErrorCode::kBadInput, check, "node %s: reg is %d bytes, not a multiple of %d (%d+%d cells)",
                  name_of(fdt, node), len, entry, cells.address, cells.size);
  for (int off = 0; off < len; off += entry) {
    const PhysRange r{GuestPhys{read_cells(p + off, cells.address)}, read_cells(p + off + 4 * cells.address, cells.size)};
    if (r.size != 0 && r.base.value + r.size <= r.base.value)
      return MB_ERR(ErrorCode::kBadInput, check, "node %s: reg [%#lx, +%#lx) wraps past 2^64", name_of(fdt, node),
                    r.base.value, r.size);
    MB_CHECK(f(r));
  }
  return {};
}

bool enabled(const void* fdt, int node) {
  int len = 0;
  const char* status = static_cast<const char*>(getprop(fdt, node, "status", &len));
  if (status == nullptr) return true;
  return (len == 5 && memcmp(status, "okay", 5) == 0) || (len == 3 && memcmp(status, "ok", 3) == 0);
}

// A string property: nullptr when absent; an error when it is not a
// NUL-terminated string (a string must not run into the next property).
Res<const char*> string_prop(const void* fdt, int node, const char* prop, const char* check) {
  int len = 0;
  const char* s = static_cast<const char*>(getprop(fdt, node, prop, &len));
  if (s == nullptr) return static_cast<const char*>(nullptr);
  if (len < 1 || s[len - 1] != '\0')
    return MB_ERR(ErrorCode::kBadInput, check, "node %s: %s (%d bytes) is not a NUL-terminated string",
                  name_of(fdt, node), prop, len);
  return s;
}

// An integer property of one or two cells (linux,initrd-* come in both).
Res<bool> u32_or_u64(const void* fdt, int node, const char* prop, uint64_t* out) {
  int len = 0;
  if (dt_detail::read_u32_or_u64(fdt, node, prop, out, &len)) return true;
  if (len == -fdt::kNotFound) return false;
  return MB_ERR(ErrorCode::kBadInput, "dt-chosen-initrd", "/chosen %s is %d bytes (need 4 or 8)", prop, len);
}


Res<void> discover_memory(const void* fdt, DiscoveredDt& dt) {
  // Only children of the root, as Linux's early_init_dt_scan_memory reads
  // them: a device_type "memory" deeper down (e.g. under /reserved-memory)
  // is not RAM to the kernel, so it must not be RAM to us (found by fuzz_dt).
  static constexpr char kMemory[] = "memory";
  const Cells cells = MB_TRY(cells_of(fdt, 0));
  for (int node = fdt::first_child(fdt, 0); node >= 0; node = fdt::next_sibling(fdt, node)) {
    int len = 0;
    const char* type = static_cast<const char*>(getprop(fdt, node, "device_type", &len));
    if (type == nullptr || len != sizeof kMemory || __builtin_memcmp(type, kMemory, sizeof kMemory) != 0) continue;
    if (!enabled(fdt, node)) continue;
    MB_CHECK(for_each_reg(fdt, node, cells, "dt-memory-reg", [&](PhysRange r) -> Res<void> {
      if (r.empty()) return {};
      if (dt.bank_count == DiscoveredDt::kMaxBanks)
        return MB_ERR(ErrorCode::kUnsupported, "dt-memory-banks", "node %s: bank [%#lx, %#lx) is one more than the %zu supported",
                      name_of(fdt, node), r.base.value, r.end().value,
                      DiscoveredDt::kMaxBanks);
      // Insertion keeps the banks sorted by base.
      size_t i = dt.bank_count++;
      for (; i > 0 && dt.banks[i - 1].base > r.base; --i) dt.banks[i] = dt.banks[i - 1];
      dt.banks[i] = r;
      return {};
    }));
  }
  if (dt.bank_count == 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-memory", "no /memory node (device_type \"memory\") with a non-empty reg");
  for (size_t i = 1; i < dt.bank_count; ++i) {
    const PhysRange& a = dt.banks[i - 1];
    const PhysRange& b = dt.banks[i];
    if (a.overlaps(b))
      return MB_ERR(ErrorCode::kOverlap, "dt-memory-overlap", "RAM bank [%#lx, %#lx) overlaps bank [%#lx, %#lx)",
                    a.base.value, a.end().value, b.base.value,
                    b.end().value);
  }
  return {};
}

// "xen,xen-4.17" -> 4, 17. Digits only, nothing after the minor number.
bool parse_version(const char* s, unsigned* major, unsigned* minor) {
  unsigned* parts[2] = {major, minor};
  for (int k = 0; k < 2; ++k) {
    if (*s < '0' || *s > '9') return false;
    unsigned v = 0;
    for (; *s >= '0' && *s <= '9'; ++s) {
      if (v > 100000) return false;
      v = v * 10 + static_cast<unsigned>(*s - '0');
    }
    *parts[k] = v;
    if (k == 0 && *s++ != '.') return false;
  }
  return *s == '\0';
}

Res<void> discover_hypervisor(const void* fdt, DiscoveredDt& dt) {
  const int node = fdt::path_offset(fdt, "/hypervisor", sizeof "/hypervisor" - 1);
  if (node < 0) return {};
  static constexpr char kPrefix[] = "xen,xen-";
  const int n = fdt::stringlist_count(fdt, node, "compatible");
  for (int i = 0; i < n; ++i) {
    const char* c = fdt::stringlist_get(fdt, node, "compatible", i, nullptr);
    if (c == nullptr) continue;
    if (strcmp(c, "xen,xen") == 0) {
      dt.xen.present = true;
    } else if (strncmp(c, kPrefix, sizeof kPrefix - 1) == 0) {
      if (!parse_version(c + sizeof kPrefix - 1, &dt.xen.major, &dt.xen.minor))
        return MB_ERR(ErrorCode::kBadInput, "dt-hypervisor-version", "/hypervisor compatible \"%.40s\" is not xen,xen-X.Y", c);
      dt.xen.present = true;
    }
  }
  if (!dt.xen.present) return {};

  const Cells cells = MB_TRY(cells_of(fdt, 0));
  bool first = true;
  MB_CHECK(for_each_reg(fdt, node, cells, "dt-hypervisor-reg", [&](PhysRange r) -> Res<void> {
    DtXen& x = dt.xen;
    if (first) x.grant_table = r;
    else if (++x.ext_regions_seen <= DtXen::kMaxExtRegions && !r.empty()) x.ext_regions[x.ext_region_count++] = r;
    first = false;
    return {};
  }));

  int len = 0;
  const auto* gfn = static_cast<const uint8_t*>(getprop(fdt, node, "xen,shared-info-gfn", &len));
  if (gfn != nullptr) {
    if (len != 8)
      return MB_ERR(ErrorCode::kBadInput, "dt-hypervisor-shared-info",
                    "/hypervisor xen,shared-info-gfn is %d bytes, not one 64-bit GFN (8)", len);
    dt.xen.shared_info_gfn = Gfn{fdt::be64(gfn)};
  }

  // GIC binding: <type number flags>, type 0 = SPI, 1 = PPI.
  const auto* irq = static_cast<const uint8_t*>(getprop(fdt, node, "interrupts", &len));
  if (irq != nullptr && (len == 12 || len == 16)) {
    const uint32_t type = fdt::be32(irq);
    const uint32_t num = fdt::be32(irq + 4);
    if ((type == 0 && num < 988) || (type == 1 && num < 16)) {
      dt.xen.has_evtchn = true;
      dt.xen.evtchn_intid = (type == 1 ? 16 : 32) + num;
    }
  }
  return {};
}

Res<void> check_banks_against_xen(const DiscoveredDt& dt) {
  if (!dt.xen.present) return {};
  const PhysRange magic = boards::xen_arm64::kMagic;
  for (const PhysRange& b : dt.ram()) {
    if (b.overlaps(magic))
      return MB_ERR(ErrorCode::kOverlap, "dt-memory-magic", "RAM bank [%#lx, %#lx) overlaps GUEST_MAGIC [%#lx, %#lx)",
                    b.base.value, b.end().value,
                    magic.base.value, magic.end().value);
    if (b.overlaps(dt.xen.grant_table))
      return MB_ERR(ErrorCode::kOverlap, "dt-memory-gnttab",
                    "RAM bank [%#lx, %#lx) overlaps the grant table [%#lx, %#lx) of /hypervisor",
                    b.base.value, b.end().value,
                    dt.xen.grant_table.base.value, dt.xen.grant_table.end().value);
  }
  return {};
}

Res<void> discover_stdout(const void* fdt, int chosen, DiscoveredDt& dt) {
  const char* path = MB_TRY(string_prop(fdt, chosen, "stdout-path", "dt-chosen-stdout"));
  if (path == nullptr) path = MB_TRY(string_prop(fdt, chosen, "linux,stdout-path", "dt-chosen-stdout"));
  if (path == nullptr) return {};
  DtStdout& out = dt.stdout_path;
  out.path = path;
  const char* colon = strchr(path, ':');
  out.path_len = colon ? static_cast<size_t>(colon - path) : strlen(path);
  out.options = colon ? colon + 1 : nullptr;
  // Resolves an alias when the path does not start with '/'.
  int parent = -1;
  const int node = fdt::path_offset(fdt, path, out.path_len, &parent);
  if (node < 0) return {};
  out.found = true;
  out.pl011 = fdt::check_compatible(fdt, node, "arm,pl011") == 0;
  const Cells cells = MB_TRY(cells_of(fdt, parent));
  bool first = true;
  return for_each_reg(fdt, node, cells, "dt-stdout-reg", [&](PhysRange r) -> Res<void> {
    if (first) out.reg = r;
    first = false;
    return {};
  });
}

Res<void> discover_chosen(const void* fdt, DiscoveredDt& dt) {
  const int chosen = fdt::path_offset(fdt, "/chosen", sizeof "/chosen" - 1);
  if (chosen < 0) return {};
  dt.bootargs = MB_TRY(string_prop(fdt, chosen, "bootargs", "dt-chosen-bootargs"));

  uint64_t start = 0, end = 0;
  const bool has_start = MB_TRY(u32_or_u64(fdt, chosen, "linux,initrd-start", &start));
  const bool has_end = MB_TRY(u32_or_u64(fdt, chosen, "linux,initrd-end", &end));
  if (has_start != has_end)
    return MB_ERR(ErrorCode::kBadInput, "dt-chosen-initrd", "/chosen has linux,initrd-%s (%#lx) but no linux,initrd-%s",
                  has_start ? "start" : "end", (has_start ? start : end), has_start ? "end" : "start");
  if (has_start) {
    if (end < start)
      return MB_ERR(ErrorCode::kBadInput, "dt-chosen-initrd", "/chosen linux,initrd-end %#lx is below linux,initrd-start %#lx",
                    end, start);
    dt.payload = PhysRange{GuestPhys{start}, end - start};
  }
  return discover_stdout(fdt, chosen, dt);
}

Res<void> add_reservation(const void* fdt, DiscoveredDt& dt, DtReservation r) {
  if (r.range.empty()) return {};
  if (dt.reserved_count == DiscoveredDt::kMaxReserved)
    return MB_ERR(ErrorCode::kUnsupported, "dt-reserved", "reservation [%#lx, %#lx) is one more than the %zu supported",
                  r.range.base.value, r.range.end().value,
                  DiscoveredDt::kMaxReserved);
  (void)fdt;
  dt.reserved[dt.reserved_count++] = r;
  return {};
}

Res<void> discover_reserved(const void* fdt, DiscoveredDt& dt) {
  const int n = fdt::mem_rsv_count(fdt);
  if (n < 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-memreserve", "memreserve block at %#x: %s",
                  fdt::header(fdt, fdt::kHdrOffMemRsv), fdt::reason(n));
  for (int i = 0; i < n; ++i) {
    uint64_t addr = 0, size = 0;
    const int rc = fdt::mem_rsv(fdt, i, &addr, &size);
    if (rc != 0) return MB_ERR(ErrorCode::kBadInput, "dt-memreserve", "memreserve entry %d: %s", i, fdt::reason(rc));
    if (size != 0 && addr + size <= addr)
      return MB_ERR(ErrorCode::kBadInput, "dt-memreserve", "memreserve entry %d [%#lx, +%#lx) wraps past 2^64", i,
                    addr, size);
    MB_CHECK(add_reservation(fdt, dt, DtReservation{PhysRange{GuestPhys{addr}, size}, DtReservation::Source::kMemreserve}));
  }

  const int parent = fdt::path_offset(fdt, "/reserved-memory", sizeof "/reserved-memory" - 1);
  if (parent < 0) return {};
  const Cells cells = MB_TRY(cells_of(fdt, parent));
  for (int child = fdt::first_child(fdt, parent); child >= 0; child = fdt::next_sibling(fdt, child)) {
    if (!enabled(fdt, child)) continue;
    const char* name = name_of(fdt, child);
    const bool no_map = getprop(fdt, child, "no-map", nullptr) != nullptr;
    // Nodes with only "size" ask the OS to allocate: nothing is placed yet.
    MB_CHECK(for_each_reg(fdt, child, cells, "dt-reserved-reg", [&](PhysRange r) -> Res<void> {
      return add_reservation(fdt, dt, DtReservation{r, DtReservation::Source::kReservedMemoryNode, name, no_map});
    }));
  }
  return {};
}

}  // namespace

uint64_t DiscoveredDt::ram_total() const {
  uint64_t t = 0;
  for (const PhysRange& b : ram()) t += b.size;
  return t;
}

Res<DiscoveredDt> discover(const void* fdt, size_t buffer_size) {
  MB_CHECK(dt_detail::check_blob(fdt, buffer_size));
  DiscoveredDt dt;
  dt.total_size = fdt::total_size(fdt);
  MB_CHECK(discover_memory(fdt, dt));
  MB_CHECK(discover_hypervisor(fdt, dt));
  MB_CHECK(check_banks_against_xen(dt));
  MB_CHECK(discover_chosen(fdt, dt));
  MB_CHECK(discover_reserved(fdt, dt));
  return dt;
}

}  // namespace mb::loader
