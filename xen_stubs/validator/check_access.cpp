// ro-stays-ro and exclusive-access: who may write a page, and how many
// accessors a range has when the next stage starts.
#include <algorithm>
#include <map>

#include "findings.h"

namespace mb::model {

using detail::add_page;
using detail::add_run;
using detail::hex;

static bool zero_page_is_zero(const Model& m) {
  uint8_t page[kPageSize];
  m.read_mfn(m.zero_page(), 0, page, sizeof page);
  for (uint8_t b : page)
    if (b != 0) return false;
  return true;
}

// A read-only backing page (zero page, ROM) must never be reachable for
// writing: not through a writable alias at another GFN, not handed to Linux
// as free RAM, and no write to it may have been attempted.
std::vector<Finding> check_ro_stays_ro(const Model& m, const HandoverView& h) {
  static const std::string kName = "ro-stays-ro";
  std::vector<Finding> out;
  PageSet free = detail::told_unreserved(h);
  std::map<uint64_t, Gfn> ro_home;  // read-only MFN -> first GFN mapping it read-only
  const PageSet space = detail::mappable_space(m, h);

  for (const GfnRun& run : space.runs()) {
    for (Gfn g = run.first; g < run.end(); g = g + 1) {
      auto e = m.lookup(g);
      if (!e) continue;
      if (e->type == PageType::kRamRo) {
        ro_home.emplace(e->mfn.value, g);
        if (e->mfn == m.zero_page() && !zero_page_is_zero(m))
          add_page(out, kName, g, "read-only page (zero page)", "a writer",
                   "the shared zero page no longer reads zero: it was written");
        if (free.contains(g))
          add_page(out, kName, g, "linux (free RAM)", "read-only page",
                   "a read-only page is handed out as free RAM: Linux will write to it");
        continue;
      }
      // The machine page's own kind betrays an alias the P2M entry hides.
      if (m.mfn_info(e->mfn).type == PageType::kRamRo)
        add_page(out, kName, g, "writable alias", "read-only page (" + hex(e->mfn.value) + ")",
                 "a read-only machine page is mapped writable at this GFN");
    }
  }
  // A page mapped read-only somewhere and writable elsewhere, whatever the
  // frame table says about it. Only when read-only pages exist at all.
  if (!ro_home.empty()) {
    for (const GfnRun& run : space.runs()) {
      for (Gfn g = run.first; g < run.end(); g = g + 1) {
        auto e = m.lookup(g);
        if (!e || e->type == PageType::kRamRo || m.mfn_info(e->mfn).type == PageType::kRamRo) continue;
        auto it = ro_home.find(e->mfn.value);
        if (it == ro_home.end()) continue;
        add_page(out, kName, g, "writable alias", "read-only page at GFN " + hex(it->second.value),
                 "the machine page behind a read-only GFN is also mapped writable here");
      }
    }
  }
  for (const Fault& f : m.faults()) {
    if (f.kind != FaultKind::kReadOnly || !f.write) continue;
    add_page(out, kName, f.gfn, f.accessor + " (write)", "read-only page",
             "a write to a read-only page was attempted (it trapped: on hardware a data abort)");
  }
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.first < b.first; });
  return out;
}

// At the jump the next stage must be the only accessor of everything it is
// given: no hold left by the loader, no Xen mapping it will try to create
// itself (shared_info -> EBUSY, vcpu_info -> EBUSY), no multi-page mapping
// left half done, no machine page mapped at two GFNs.
std::vector<Finding> check_exclusive_access(const Model& m, const HandoverView& h) {
  static const std::string kName = "exclusive-access";
  std::vector<Finding> out;

  for (const Model::Hold& hold : m.holds())
    add_run(out, kName, GfnRun{hold.range.first_gfn(), hold.range.page_count()}, hold.accessor + " (hold)",
            "linux (next stage)", "range still held at the jump: a second accessor would collide (EBUSY)");

  for (const Fault& f : m.faults()) {
    if (f.kind != FaultKind::kBusy) continue;
    add_page(out, kName, f.gfn, f.accessor, "another accessor's hold",
             std::string("two accessors on one range: a ") + (f.write ? "write" : "read") + " collided");
  }

  if (auto si = m.shared_info_gfn())
    add_page(out, kName, *si, "loader (mapping left)", "linux xen_guest_init",
             "shared_info still mapped at the jump: Linux maps its own and gets -EBUSY");
  for (unsigned v = 0; v < m.config().vcpus; ++v)
    if (auto vi = m.vcpu_info_gfn(v))
      add_page(out, kName, *vi, "loader (registration left)", "linux xen_vcpu_setup",
               "vcpu_info of vcpu " + std::to_string(v) +
                   " registered for ever: Linux's own registration gets -EBUSY");

  // Xen frames (grant table) still mapped, and machine pages mapped twice.
  std::map<uint64_t, Gfn> seen;  // non-RAM MFNs only: RAM pages are one per GFN by construction
  std::vector<Finding> frames;
  const PageSet space = detail::mappable_space(m, h);
  for (const GfnRun& run : space.runs()) {
    for (Gfn g = run.first; g < run.end(); g = g + 1) {
      auto e = m.lookup(g);
      if (!e || e->type == PageType::kRamRw || e->type == PageType::kRamRo) continue;
      auto [it, fresh] = seen.emplace(e->mfn.value, g);
      if (!fresh)
        add_page(out, kName, g, "alias of GFN " + hex(it->second.value), detail::owner_of(m, g),
                 "one machine page mapped at two GFNs: two accessors on one page");
      if (e->type == PageType::kXenShared && e->mfn != m.shared_info_mfn())
        add_page(frames, kName, g, "loader (mapping left)", "xen (grant frame)",
                 "grant frames left mapped at the jump: a multi-page map was not rolled back");
    }
  }
  out.insert(out.end(), frames.begin(), frames.end());
  return out;
}

std::vector<Finding> validate(const Model& m, const HandoverView& h) {
  std::vector<Finding> all;
  for (const Detector& d : kDetectors) {
    std::vector<Finding> f = d.check(m, h);
    all.insert(all.end(), f.begin(), f.end());
  }
  return all;
}

}  // namespace mb::model
