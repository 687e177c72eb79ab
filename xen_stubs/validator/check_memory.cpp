// no-xen-page-in-ram and no-ram-hole: what Linux finds behind the RAM it is told.
#include <algorithm>

#include "findings.h"

namespace mb::model {

using detail::add_page;

// Every GFN the kernel may allocate (told RAM minus reserved) must be the
// guest's own RAM page: not a Xen page mapped over it (shared_info, grant
// frames) and not a page Xen writes on its own (a registered vcpu_info).
std::vector<Finding> check_no_xen_page_in_ram(const Model& m, const HandoverView& h) {
  static const std::string kName = "no-xen-page-in-ram";
  std::vector<Finding> out;
  PageSet free = detail::told_unreserved(h);

  // Pages Xen writes although the P2M entry may look like guest RAM.
  std::vector<Gfn> xen = m.xen_written_gfns();
  std::sort(xen.begin(), xen.end());

  for (const GfnRun& run : free.runs()) {
    auto xit = std::lower_bound(xen.begin(), xen.end(), run.first);
    for (Gfn g = run.first; g < run.end(); g = g + 1) {
      bool xen_writes = xit != xen.end() && *xit == g;
      if (xen_writes) ++xit;
      auto e = m.lookup(g);
      bool xen_entry = e && (e->owner == Owner::kXen || e->type == PageType::kXenShared);
      if (!xen_writes && !xen_entry) continue;
      std::string owner = detail::owner_of(m, g);
      std::string why;
      if (owner.find("shared_info") != std::string::npos)
        why = "shared_info mapped on free RAM: Linux allocates this page while Xen keeps writing wc_*/evtchn_pending";
      else if (owner.find("vcpu_info") != std::string::npos)
        why = "vcpu_info registered in free RAM: pinned for ever, Xen writes it on every tick";
      else
        why = "a Xen-owned page is mapped on free RAM: Linux will allocate it while Xen owns it";
      add_page(out, kName, g, "linux (free RAM)", owner, why);
    }
  }
  return out;
}

// Every GFN the kernel is told is RAM must be backed by guest RAM.
std::vector<Finding> check_no_ram_hole(const Model& m, const HandoverView& h) {
  static const std::string kName = "no-ram-hole";
  std::vector<Finding> out;
  const PageSet told = detail::told_ram(h);
  for (const GfnRun& run : told.runs()) {
    for (Gfn g = run.first; g < run.end(); g = g + 1) {
      auto e = m.lookup(g);
      if (e) {
        if (e->type == PageType::kMmio)
          add_page(out, kName, g, "linux (RAM)", "device (mmio)",
                   "device memory told as RAM: Linux would use MMIO as ordinary memory");
        continue;
      }
      if (m.is_hole(g))
        add_page(out, kName, g, "linux (RAM)", "nothing (hole)",
                 "removed from the P2M and not refilled: Linux's first touch takes a data abort");
      else
        add_page(out, kName, g, "linux (RAM)", "nothing (unmapped)",
                 "told RAM the domain never had: Linux's first touch takes a data abort");
    }
  }
  return out;
}

}  // namespace mb::model
