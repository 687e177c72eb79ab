// The kernel's DT in one streaming pass: the input's tokens are copied into
// `out` with /chosen's replaced properties, the /reserved-memory children
// over the old payload and all NOPs left out, and the new properties (and
// /chosen itself, when the input has none) written in their place. The
// output is packed (fdt/writer.h); only its order may differ from what
// libfdt's editing functions would leave, not its meaning.
#include <cstdint>
#include <cstring>

#include "blob_check.h"
#include "fdt_cells.h"
#include "magicboot/loader/dt_fixup.h"
#include "magicboot/loader/fdt/reader.h"
#include "magicboot/loader/fdt/writer.h"

namespace mb::loader {
namespace {

// The incoming payload as /chosen names it; empty when it does not.
PhysRange old_payload(const void* fdt, int chosen) {
  uint64_t start = 0, end = 0;
  int len = 0;
  if (chosen < 0) return {};
  if (!dt_detail::read_u32_or_u64(fdt, chosen, "linux,initrd-start", &start, &len)) return {};
  if (!dt_detail::read_u32_or_u64(fdt, chosen, "linux,initrd-end", &end, &len) || end < start) return {};
  return PhysRange{GuestPhys{start}, end - start};
}

// True when some entry of `node`'s reg overlaps `payload`.
bool reg_overlaps(const void* fdt, int node, int ac, int sc, PhysRange payload) {
  int len = 0;
  const auto* p = static_cast<const uint8_t*>(fdt::getprop(fdt, node, "reg", &len));
  if (p == nullptr || ac < 1 || ac > 2 || sc < 1 || sc > 2) return false;
  const int entry = 4 * (ac + sc);
  for (int off = 0; off + entry <= len; off += entry) {
    const PhysRange r{GuestPhys{fdt::read_cells(p + off, ac)}, fdt::read_cells(p + off + 4 * ac, sc)};
    if (r.overlaps(payload)) return true;
  }
  return false;
}

// What the copy changes, decided before it starts.
struct Plan {
  int chosen;          // input offset of /chosen, or < 0: write a new one
  PhysRange old;       // the old payload
  int reserved;        // input offset of /reserved-memory, or < 0: none to prune
  int ac, sc;          // its children's cells
  const FixupParams* params;
  int64_t bootargs, initrd_start, initrd_end;  // name offsets in the new strings block
};

bool replaced(const Plan& plan, const char* name, size_t len) {
  auto is = [&](const char* s) { return len == strlen(s) && memcmp(name, s, len) == 0; };
  return (plan.params->bootargs != nullptr && is("bootargs")) || is("linux,initrd-start") || is("linux,initrd-end");
}

void write_new_props(const Plan& plan, fdt::Writer& w) {
  const FixupParams& p = *plan.params;
  if (p.bootargs != nullptr)
    w.prop(static_cast<uint32_t>(plan.bootargs), p.bootargs, static_cast<uint32_t>(strlen(p.bootargs) + 1));
  if (!p.initrd.empty()) {
    w.prop_u64(static_cast<uint32_t>(plan.initrd_start), p.initrd.base.value);
    w.prop_u64(static_cast<uint32_t>(plan.initrd_end), p.initrd.end().value);
  }
}

// The structure block, edited on the way. Returns 0 or -fdt::kX (only on a
// tree check_blob() did not accept).
int copy_structure(const void* in, const Plan& plan, fdt::Writer& w) {
  const fdt::Blocks b = fdt::blocks_of(in);
  uint32_t off = 0, run = 0;  // tokens [run, off) are still to be copied
  int depth = 0;              // nodes open before the token at `off`
  int top = -1;               // the child of the root we are in
  bool written = false;       // the new properties (or /chosen) are out
  auto flush = [&](uint32_t to) { w.copy_tokens(b.st + run, to - run); };
  // New properties go after /chosen's last one; a new /chosen becomes the
  // root's first child (where libfdt's fdt_add_subnode puts it).
  auto write_new = [&] {
    flush(off);
    run = off;
    written = true;
    if (plan.chosen >= 0) {
      write_new_props(plan, w);
    } else {
      w.begin_node("chosen");
      write_new_props(plan, w);
      w.end_node();
    }
  };
  for (;;) {
    const fdt::Token t = fdt::token(b, off);
    if (t.next < 0) return static_cast<int>(t.next);
    auto next = static_cast<uint32_t>(t.next);
    const bool at_new = !written && (plan.chosen >= 0 ? top == plan.chosen && depth == 2 : depth == 1);
    switch (t.tag) {
      case fdt::kBeginNode:
        if (at_new) write_new();
        if (depth == 2 && plan.reserved >= 0 && top == plan.reserved && reg_overlaps(in, static_cast<int>(off), plan.ac, plan.sc, plan.old)) {
          const int64_t end = fdt::past_subtree(b, off);
          if (end < 0) return static_cast<int>(end);
          flush(off);
          next = run = static_cast<uint32_t>(end);
          break;
        }
        if (depth == 1) top = static_cast<int>(off);
        ++depth;
        break;
      case fdt::kEndNode:
        if (at_new) write_new();
        if (--depth == 1) top = -1;
        break;
      case fdt::kProp:
        if (depth == 2 && top == plan.chosen) {
          size_t len = 0;
          const char* name = fdt::string_at(b, fdt::be32(b.st + off + 8), &len);
          if (name != nullptr && replaced(plan, name, len)) {
            flush(off);
            run = next;
          }
        }
        break;
      case fdt::kNop:
        flush(off);
        run = next;
        break;
      default:  // kEnd
        flush(off);
        return 0;
    }
    off = next;
  }
}

}  // namespace

Res<size_t> build_kernel_dt(const void* in_fdt, void* out, size_t out_cap, const FixupParams& params) {
  int rc = fdt::check_header(in_fdt);
  if (rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-input", "input DT: %s (magic %#x)", fdt::reason(rc),
                  fdt::magic(in_fdt));
  const size_t in_size = fdt::total_size(in_fdt);
  auto valid = dt_detail::check_blob(in_fdt, in_size);
  if (!valid.ok())
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-input", "input %s (%s)", valid.error().detail, valid.error().check);
  const auto in_addr = reinterpret_cast<uintptr_t>(in_fdt), out_addr = reinterpret_cast<uintptr_t>(out);
  if (out_addr < in_addr + in_size && in_addr < out_addr + out_cap)
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-overlap", "output [%p, +%#zx) overlaps the input DT [%p, +%#zx)", out,
                  out_cap, in_fdt, in_size);

  Plan plan{};
  plan.params = &params;
  plan.chosen = fdt::path_offset(in_fdt, "/chosen", sizeof "/chosen" - 1);
  plan.old = old_payload(in_fdt, plan.chosen);
  plan.reserved = plan.old.empty() ? -1 : fdt::path_offset(in_fdt, "/reserved-memory", sizeof "/reserved-memory" - 1);
  if (plan.reserved >= 0) {
    plan.ac = fdt::address_cells(in_fdt, plan.reserved);
    plan.sc = fdt::size_cells(in_fdt, plan.reserved);
  }

  const fdt::Blocks blocks = fdt::blocks_of(in_fdt);
  fdt::Writer w(out, out_cap, blocks.strings, blocks.strings_size);
  // A name the input lacks is appended to the strings block (at most 3 of
  // Writer::kMaxNewNames), and only when a property uses it.
  plan.bootargs = params.bootargs != nullptr ? w.add_name("bootargs") : -1;
  plan.initrd_start = params.initrd.empty() ? -1 : w.add_name("linux,initrd-start");
  plan.initrd_end = params.initrd.empty() ? -1 : w.add_name("linux,initrd-end");

  const int n = fdt::mem_rsv_count(in_fdt);  // >= 0: check_blob
  for (int i = 0; i < n; ++i) {
    uint64_t addr = 0, size = 0;
    (void)fdt::mem_rsv(in_fdt, i, &addr, &size);
    if (!PhysRange{GuestPhys{addr}, size}.overlaps(plan.old)) w.mem_rsv(addr, size);
  }
  for (const PhysRange& r : params.reserve)
    if (!r.empty()) w.mem_rsv(r.base.value, r.size);
  w.begin_structure();
  rc = copy_structure(in_fdt, plan, w);
  if (rc != 0)
    return MB_ERR(ErrorCode::kBadInput, "dt-fixup-input", "input DT structure: %s", fdt::reason(rc));
  const size_t size = w.finish(fdt::header(in_fdt, fdt::kHdrBootCpuid));
  if (!w.fits())
    return MB_ERR(ErrorCode::kNoMemory, "dt-fixup-space", "the kernel DT needs at least %zu bytes, %zu given", size,
                  out_cap);
  if (size > kMaxKernelDtSize)
    return MB_ERR(ErrorCode::kUnsupported, "dt-fixup-size", "the kernel DT is %zu bytes, over the %zu the arm64 boot "
                  "protocol allows", size, kMaxKernelDtSize);
  return size;
}

}  // namespace mb::loader
