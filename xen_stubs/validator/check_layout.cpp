// image-outside-free-ram and addressable-layout: where things lie in the map
// the kernel is handed.
#include "findings.h"

namespace mb::model {

using detail::add_page;
using detail::add_run;
using detail::hex;

// The loader's (and a hypervisor's) own image, stack and heap may lie in told
// RAM only if reserved: otherwise Linux hands them out as free pages.
std::vector<Finding> check_image_outside_free_ram(const Model&, const HandoverView& h) {
  static const std::string kName = "image-outside-free-ram";
  std::vector<Finding> out;
  PageSet free = detail::told_unreserved(h);
  for (const auto& [name, range] : h.own_ranges) {
    if (range.empty()) continue;
    PageSet exposed = free.intersect(GfnRun{range.first_gfn(), range.page_count()});
    for (const GfnRun& run : exposed.runs())
      add_run(out, kName, run, "linux (free RAM)", "loader (" + name + ")",
              "the loader's " + name + " lies in RAM handed out as free and is not reserved");
  }
  return out;
}

namespace {

// Stated here again, not taken from loader/boot_protocol.h: the validator is
// the loader's independent judge, so a rule the loader got wrong must not be
// a rule the validator agrees with.
constexpr uint64_t k2MiB = uint64_t{2} << 20;
constexpr uint64_t kVaLimit = uint64_t{1} << 48;

bool inside_one_bank(const boards::RamBanks& ram, PhysRange r) {
  for (unsigned i = 0; i < ram.count && i < 2; ++i)
    if (ram.bank[i].contains(r)) return true;
  return false;
}

}  // namespace

// arm64 booting.rst: the kernel at a 2 MiB-aligned base + text_offset, below
// what a 48-bit VA/idmap can reach; DTB 8-byte aligned and at most 2 MiB;
// kernel, DTB and initrd in told RAM, disjoint, and not in reserved memory.
std::vector<Finding> check_addressable_layout(const Model&, const HandoverView& h) {
  static const std::string kName = "addressable-layout";
  std::vector<Finding> out;
  auto flag = [&](const char* who, PhysRange r, const std::string& other, const std::string& why) {
    Gfn g = r.base.gfn();
    add_run(out, kName, GfnRun{g, r.empty() ? 1 : r.page_count()}, who, other, why);
  };

  const PhysRange& k = h.kernel;
  if (k.empty()) {
    flag("linux (kernel)", k, "-", "no kernel image handed over");
  } else {
    if (k.end().value > kVaLimit || k.end() < k.base)
      flag("linux (kernel)", k, "arm64 48-bit VA/idmap",
           "kernel ends at " + hex(k.end().value) + ", above 2^48: the idmap cannot reach it");
    if (k.base.value < h.kernel_text_offset || !GuestPhys{k.base.value - h.kernel_text_offset}.is_aligned(k2MiB))
      flag("linux (kernel)", k, "arm64 boot protocol",
           "kernel at " + hex(k.base.value) + " is not a 2 MiB-aligned base + text_offset " +
               hex(h.kernel_text_offset));
    if (h.kernel_entry != k.base)
      flag("linux (kernel)", k, "arm64 boot protocol",
           "entry " + hex(h.kernel_entry.value) + " is not the image start " + hex(k.base.value));
  }

  const PhysRange& d = h.dtb;
  if (d.empty()) {
    flag("linux (dtb)", d, "-", "no DTB handed over");
  } else {
    if (!d.base.is_aligned(8))
      flag("linux (dtb)", d, "arm64 boot protocol", "DTB at " + hex(d.base.value) + " is not 8-byte aligned");
    if (d.size > k2MiB)
      flag("linux (dtb)", d, "arm64 boot protocol",
           "DTB is " + hex(d.size) + " bytes, over the 2 MiB Linux maps for it");
  }

  struct Piece {
    const char* name;
    PhysRange r;
  };
  const Piece pieces[] = {{"linux (kernel)", k}, {"linux (dtb)", d}, {"linux (initrd)", h.initrd}};
  for (const Piece& p : pieces) {
    if (p.r.empty()) continue;
    if (!inside_one_bank(h.ram, p.r))
      flag(p.name, p.r, "told RAM", std::string(p.name) + " is not inside one told RAM bank");
    for (const PhysRange& res : h.reserved)
      if (p.r.overlaps(res))
        flag(p.name, p.r, "reserved " + hex(res.base.value),
             std::string(p.name) + " overlaps reserved memory at " + hex(res.base.value));
  }
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = i + 1; j < 3; ++j)
      if (pieces[i].r.overlaps(pieces[j].r))
        flag(pieces[i].name, pieces[i].r, pieces[j].name,
             std::string(pieces[i].name) + " and " + pieces[j].name + " overlap");
  return out;
}

}  // namespace mb::model
