// Shared by the detectors and the next stage: consecutive pages with the
// same verdict become one Finding, and page owners get readable names.
#pragma once

#include <string>
#include <vector>

#include "magicboot/xen_stubs/page_set.h"
#include "magicboot/xen_stubs/validator.h"

namespace mb::model::detail {

// Appends a one-page finding, extending the last one when it is the next
// page with identical invariant, owners and explanation.
void add_page(std::vector<Finding>& out, const std::string& invariant, Gfn g, const std::string& owner_a,
              const std::string& owner_b, const std::string& explanation);
void add_run(std::vector<Finding>& out, const std::string& invariant, GfnRun run, const std::string& owner_a,
             const std::string& owner_b, const std::string& explanation);

// "xen (shared_info)", "xen (vcpu_info of vcpu 0)", "guest (RAM)", "nothing (hole)", ...
std::string owner_of(const Model& m, Gfn g);

// The RAM the kernel is told about, and the part of it it may use as free
// memory at once (minus /reserved-memory).
PageSet told_ram(const HandoverView& h);
PageSet told_unreserved(const HandoverView& h);
// Every region a loader can reach a page through: RAM (told and real),
// GUEST_MAGIC and the grant-table region.
PageSet mappable_space(const Model& m, const HandoverView& h);

std::string hex(uint64_t v);

}  // namespace mb::model::detail
