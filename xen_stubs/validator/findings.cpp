#include "findings.h"

#include <cinttypes>
#include <cstdio>

#include "boards/xen_arm64/board.h"

namespace mb::model {

std::string to_string(const Finding& f) {
  char gfns[64];
  if (f.count > 1)
    std::snprintf(gfns, sizeof gfns, "GFN %#" PRIx64 "(+%" PRIu64 ")", f.first.value, f.count);
  else
    std::snprintf(gfns, sizeof gfns, "GFN %#" PRIx64, f.first.value);
  return f.invariant + ": " + gfns + " " + f.owner_a + " vs " + f.owner_b + ": " + f.explanation;
}

std::vector<Finding> findings_of(const std::vector<Finding>& all, const std::string& invariant) {
  std::vector<Finding> out;
  for (const Finding& f : all)
    if (f.invariant == invariant) out.push_back(f);
  return out;
}

namespace detail {

void add_page(std::vector<Finding>& out, const std::string& invariant, Gfn g, const std::string& owner_a,
              const std::string& owner_b, const std::string& explanation) {
  add_run(out, invariant, GfnRun{g, 1}, owner_a, owner_b, explanation);
}

void add_run(std::vector<Finding>& out, const std::string& invariant, GfnRun run, const std::string& owner_a,
             const std::string& owner_b, const std::string& explanation) {
  if (run.count == 0) return;
  if (!out.empty()) {
    Finding& last = out.back();
    if (last.first + last.count == run.first && last.invariant == invariant && last.owner_a == owner_a &&
        last.owner_b == owner_b && last.explanation == explanation) {
      last.count += run.count;
      return;
    }
  }
  out.push_back(Finding{invariant, run.first, run.count, owner_a, owner_b, explanation});
}

std::string owner_of(const Model& m, Gfn g) {
  for (unsigned v = 0; v < m.config().vcpus; ++v) {
    auto vi = m.vcpu_info_gfn(v);
    if (vi && *vi == g) return "xen (vcpu_info of vcpu " + std::to_string(v) + ")";
  }
  if (auto ring = m.backend_ring_gfn(); ring && *ring == g) return "dom0 blkback (ring)";
  for (Gfn w : m.backend_writable_gfns())
    if (w == g) return "dom0 blkback (granted page)";
  auto e = m.lookup(g);
  if (!e) return m.is_hole(g) ? "nothing (hole)" : "nothing (unmapped)";
  if (e->type == PageType::kXenShared) {
    if (e->mfn == m.shared_info_mfn()) return "xen (shared_info)";
    return "xen (grant frame)";
  }
  return std::string(to_string(e->owner)) + " (" + to_string(e->type) + ")";
}

PageSet told_ram(const HandoverView& h) { return PageSet::of_ram(h.ram); }

PageSet told_unreserved(const HandoverView& h) {
  PageSet s = told_ram(h);
  for (const PhysRange& r : h.reserved) s.remove_touched(r);
  return s;
}

PageSet mappable_space(const Model& m, const HandoverView& h) {
  PageSet s = told_ram(h);
  s.add(PageSet::of_ram(m.ram()));
  s.add(PageSet::inner_pages(boards::xen_arm64::kMagic));
  s.add(PageSet::inner_pages(boards::xen_arm64::kGntTab));
  return s;
}

std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%#" PRIx64, v);
  return b;
}

}  // namespace detail
}  // namespace mb::model
