// no-foreign-access: at the jump, nothing another domain could still write
// through is left open -- no valid grant, no grant frame on a RAM GFN, no
// backend connected to a loader frontend, no loader event channel bound.
// A grant or a connection left behind lets dom0's backend write into pages
// Linux receives as free RAM.
#include "findings.h"
#include "magicboot/xen_stubs/validator.h"

namespace mb::model {

std::vector<Finding> check_no_foreign_access(const Model& m, const HandoverView& h) {
  std::vector<Finding> out;
  const PageSet ram = detail::told_ram(h);
  for (const GrantInfo& g : m.active_grants())
    out.push_back({"no-foreign-access", Gfn{g.frame}, 1, "linux (" + std::string(ram.contains(Gfn{g.frame}) ? "free RAM" : "page") + ")",
                   "domain " + std::to_string(g.domid) + " (grant " + std::to_string(g.ref) + ")",
                   "grant " + std::to_string(g.ref) + " still valid at the jump (flags " + std::to_string(g.flags) +
                       "): the backend may still map and write the page"});
  for (Gfn g : m.grant_frame_gfns())
    if (ram.contains(g))
      out.push_back({"no-foreign-access", g, 1, "linux (free RAM)", "xen (grant frame)",
                     "a grant frame is still mapped on a RAM GFN at the jump"});
  if (auto ring = m.backend_ring_gfn())
    out.push_back({"no-foreign-access", *ring, 1, "linux (free RAM)", "dom0 blkback (ring)",
                   "the vbd backend is still connected (state " + std::to_string(m.backend_state()) +
                       "): it keeps the ring mapped and answers on it"});
  for (uint32_t p : m.loader_bound_ports())
    out.push_back({"no-foreign-access", Gfn{0}, 0, "linux (event channels)", "port " + std::to_string(p),
                   "event channel " + std::to_string(p) + " the loader opened is still bound at the jump"});
  return out;
}

}  // namespace mb::model
