#include <libfdt.h>

#include <climits>
#include <cstdint>

#include "blob_check.h"
#include "fdt_cells.h"
#include "walk.h"
#include "magicboot/loader/dt_fixup.h"

namespace mb::loader {
namespace {

// Turns a libfdt return code from an edit into our error.
Res<void> edited(int rc, const char* what, size_t cap) {
  if (rc >= 0) return {};
  if (rc == -FDT_ERR_NOSPACE)
    return MB_ERR(ErrorCode::kNoMemory, "dt-fixup-space", "%s: the kernel DT needs more than the %zu bytes given", what,
                  cap);
  return MB_ERR(ErrorCode::kBadInput, "dt-fixup-edit", "%s: %s", what, fdt_strerror(rc));
}

// The incoming payload as /chosen names it; empty when it does not.
PhysRange old_payload(const void* fdt, int chosen) {
  uint64_t start = 0, end = 0;
  int len = 0;
  if (!dt_detail::read_u32_or_u64(fdt, chosen, "linux,initrd-start", &start, &len)) return {};
  if (!dt_detail::read_u32_or_u64(fdt, chosen, "linux,initrd-end", &end, &len) || end < start) return {};
  return PhysRange{GuestPhys{start}, end - start};
}

Res<void> drop_memreserve_over(void* fdt, PhysRange payload, size_t cap) {
  const int n = fdt_num_mem_rsv(fdt);
  MB_CHECK(edited(n, "memreserve block", cap));
  for (int i = n - 1; i >= 0; --i) {
    uint64_t addr = 0, size = 0;
    MB_CHECK(edited(fdt_get_mem_rsv(fdt, i, &addr, &size), "read memreserve", cap));
    if (PhysRange{GuestPhys{addr}, size}.overlaps(payload))
      MB_CHECK(edited(fdt_del_mem_rsv(fdt, i), "drop memreserve over the old payload", cap));
  }
  return {};
}

// True when some entry of `node`'s reg overlaps `payload`.
bool reg_overlaps(const void* fdt, int node, int ac, int sc, PhysRange payload) {
  int len = 0;
  const auto* p = static_cast<const uint8_t*>(fdt_getprop(fdt, node, "reg", &len));
  if (p == nullptr || ac < 1 || ac > 2 || sc < 1 || sc > 2) return false;
  const int entry = 4 * (ac + sc);
  for (int off = 0; off + entry <= len; off += entry) {
    const PhysRange r{GuestPhys{dt_detail::read_cells(p + off, ac)}, dt_detail::read_cells(p + off + 4 * ac, sc)};
    if (r.overlaps(payload)) return true;
  }
  return false;
}

Res<void> drop_reserved_nodes_over(void* fdt, PhysRange payload, size_t cap) {
  // Deleting a node moves the offsets after it: start over after each one.
  for (;;) {
    const int parent = dt_detail::path_offset(fdt, "/reserved-memory", sizeof "/reserved-memory" - 1);
    if (parent < 0) return {};
    const int ac = fdt_address_cells(fdt, parent), sc = fdt_size_cells(fdt, parent);
    int victim = -1;
    for (int child = dt_detail::first_child(fdt, parent); child >= 0; child = dt_detail::next_sibling(fdt, child)) {
      if (reg_overlaps(fdt, child, ac, sc, payload)) {
        victim = child;
        break;
      }
    }
    if (victim < 0) return {};
    MB_CHECK(edited(fdt_del_node(fdt, victim), "drop /reserved-memory node over the old payload", cap));
  }
}

}  // namespace

Res<size_t> build_kernel_dt(const void* in_fdt, void* out, size_t out_cap, const FixupParams& params) {
  int rc = fdt_check_header(in_fdt);
  if (rc != 0) return MB_ERR(ErrorCode::kBadInput, "dt-fixup-input", "input DT: %s", fdt_strerror(rc));
  const size_t in_size = fdt_totalsize(in_fdt);
  auto valid = dt_detail::check_blob(in_fdt, in_size);
  if (!valid.ok())
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-input", "input %s (%s)", valid.error().detail, valid.error().check);
  const auto in_addr = reinterpret_cast<uintptr_t>(in_fdt), out_addr = reinterpret_cast<uintptr_t>(out);
  if (out_addr < in_addr + in_size && in_addr < out_addr + out_cap)
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-overlap", "output [%p, +%#zx) overlaps the input DT [%p, +%#zx)", out,
                  out_cap, in_fdt, in_size);
  const int cap = out_cap > INT_MAX ? INT_MAX : static_cast<int>(out_cap);
  rc = fdt_open_into(in_fdt, out, cap);
  if (rc == -FDT_ERR_NOSPACE)
    return MB_ERR(ErrorCode::kNoMemory, "dt-fixup-space", "the kernel DT needs at least %zu bytes, %zu given",
                  in_size + kFixupSlack, out_cap);
  MB_CHECK(edited(rc, "copy the DT", out_cap));

  int chosen = dt_detail::path_offset(out, "/chosen", sizeof "/chosen" - 1);
  if (chosen == -FDT_ERR_NOTFOUND) chosen = fdt_add_subnode(out, 0, "chosen");
  MB_CHECK(edited(chosen, "find or add /chosen", out_cap));
  const PhysRange old = old_payload(out, chosen);

  // A malformed tree may repeat a property; libfdt edits only the first, so
  // every copy goes before the one we write (the kernel must see ours).
  auto remove_all = [&](const char* prop) -> Res<void> {
    for (int guard = 0; guard < 64; ++guard) {
      int del = fdt_delprop(out, chosen, prop);
      if (del == -FDT_ERR_NOTFOUND) return {};
      MB_CHECK(edited(del, "remove an old /chosen property", out_cap));
    }
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-input", "/chosen repeats %s more than 64 times", prop);
  };
  if (params.bootargs != nullptr) {
    MB_CHECK(remove_all("bootargs"));
    MB_CHECK(edited(fdt_setprop_string(out, chosen, "bootargs", params.bootargs), "set /chosen bootargs", out_cap));
  }
  MB_CHECK(remove_all("linux,initrd-start"));
  MB_CHECK(remove_all("linux,initrd-end"));
  if (!params.initrd.empty()) {
    MB_CHECK(edited(fdt_setprop_u64(out, chosen, "linux,initrd-start", params.initrd.base.value),
                    "set linux,initrd-start", out_cap));
    MB_CHECK(edited(fdt_setprop_u64(out, chosen, "linux,initrd-end", params.initrd.end().value),
                    "set linux,initrd-end", out_cap));
  }

  if (!old.empty()) {
    MB_CHECK(drop_memreserve_over(out, old, out_cap));
    MB_CHECK(drop_reserved_nodes_over(out, old, out_cap));
  }
  for (const PhysRange& r : params.reserve)
    MB_CHECK(edited(fdt_add_mem_rsv(out, r.base.value, r.size), "add memreserve for the kernel", out_cap));

  MB_CHECK(edited(fdt_pack(out), "pack the kernel DT", out_cap));
  const size_t size = fdt_totalsize(out);
  if (size > kMaxKernelDtSize)
    return MB_ERR(ErrorCode::kUnsupported, "dt-fixup-size", "the kernel DT is %zu bytes, over the %zu the arm64 boot "
                  "protocol allows", size, kMaxKernelDtSize);
  return size;
}

}  // namespace mb::loader
