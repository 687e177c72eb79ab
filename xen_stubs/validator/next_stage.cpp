// The Linux-like next stage: what a real kernel does to the memory it is
// handed, enough to expose a page shared with Xen or a hole.
#include <algorithm>
#include <array>
#include <cstring>

#include "findings.h"
#include "magicboot/hypercall/xen.h"

namespace mb::model {

namespace {

using detail::add_page;
using detail::hex;

// Linux's pattern: one byte per 2 MiB block of GFNs. Whole-block fills keep
// the model's pages uniform (compact), so a 4 GiB guest costs a few thousand
// runs, not a million pages; neighbouring blocks differ, so a page that is
// also reachable from another block shows; never 0 (an untouched page reads 0).
constexpr uint64_t kBlockPages = 512;
uint8_t pattern(Gfn g) { return static_cast<uint8_t>((g.value / kBlockPages) % 251 + 1); }

Res<void> fill_page(GuestMemory& mem, Gfn g, uint8_t byte) { return mem.fill(g.addr(), byte, kPageSize); }

// Linux's page allocator, reduced to "take the lowest free page".
std::optional<Gfn> take_page(PageSet& free) {
  if (free.empty()) return std::nullopt;
  Gfn g = free.runs().front().first;
  free.remove(GfnRun{g, 1});
  return g;
}

struct Stage {
  Model& m;
  GuestMemory& mem;
  NextStageResult r;

  void fault(Gfn g, const Error& e, const char* doing) {
    if (e.code == ErrorCode::kBusy)
      add_page(r.faults, "exclusive-access", g, "linux (" + std::string(doing) + ")", detail::owner_of(m, g),
               std::string("Linux touched a range another accessor holds: EBUSY -> would hang or crash"));
    else
      add_page(r.faults, "no-ram-hole", g, "linux (" + std::string(doing) + ")", detail::owner_of(m, g),
               std::string("Linux touched this GFN: ") + e.check + " -> data abort, would crash");
  }

  // xen_guest_init: get_zeroed_page() then add_to_physmap(shared_info) there.
  std::optional<Gfn> map_shared_info(PageSet& free) {
    auto g = take_page(free);
    if (!g) {
      r.bug = "xen_guest_init: no free page for shared_info";
      return std::nullopt;
    }
    if (auto z = fill_page(mem, *g, 0); !z.ok()) {
      fault(*g, z.error(), "get_zeroed_page");
      r.bug = "xen_guest_init: get_zeroed_page() at GFN " + hex(g->value) + " faulted: Linux oopses";
      return std::nullopt;
    }
    auto rc = xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_shared_info, 0, *g);
    if (!rc.ok()) {
      r.bug = std::string("xen_guest_init: add_to_physmap(shared_info, GFN ") + hex(g->value) + ") -> " +
              xen::to_string(rc.error()) + ": Linux BUG()s";
      free.add(GfnRun{*g, 1});  // still an ordinary RAM page
      return std::nullopt;
    }
    r.xen_guest_init_ok = true;
    return g;
  }

  // xen_starting_cpu: register each vCPU's vcpu_info in a per-cpu page.
  void register_vcpus(PageSet& free, std::vector<Gfn>& own_xen_pages) {
    for (unsigned v = 0; v < m.config().vcpus; ++v) {
      auto g = take_page(free);
      if (!g) return;
      if (auto z = fill_page(mem, *g, 0); !z.ok()) {
        fault(*g, z.error(), "per-cpu alloc");
        continue;
      }
      auto rc = xen::register_vcpu_info(m.hypercalls(), v, *g, 0);
      if (!rc.ok()) {
        if (r.bug.empty())
          r.bug = "xen_starting_cpu: VCPUOP_register_vcpu_info(vcpu " + std::to_string(v) + ") -> " +
                  xen::to_string(rc.error()) + ": Linux BUG_ON()s";
        free.add(GfnRun{*g, 1});
        continue;
      }
      own_xen_pages.push_back(*g);
    }
  }

  // Checks every written page holds its pattern. The model answers which
  // pages of a block are not uniformly the pattern in time proportional to
  // what was touched; only those are read back to describe the damage.
  void verify(const PageSet& written) {
    std::array<uint8_t, kPageSize> page{};
    for (const GfnRun& run : written.runs()) {
      for (Gfn b = run.first; b < run.end();) {
        uint64_t n = std::min(run.end().value, align_down(b.value, kBlockPages) + kBlockPages) - b.value;
        uint8_t want = pattern(b);
        r.pages_verified += n;
        for (Gfn g : m.pages_not_filled_with(range_of_pages(b, n), want, n)) {
          if (auto rd = mem.read(g.addr(), page.data(), kPageSize); !rd.ok()) {
            fault(g, rd.error(), "verify");
            continue;
          }
          size_t at = 0, differ = 0;
          for (size_t i = 0; i < kPageSize; ++i)
            if (page[i] != want && differ++ == 0) at = i;
          add_page(r.corruption, "corruption", g, "linux (free RAM)", detail::owner_of(m, g),
                   "the page changed behind Linux's back after Xen ticked (" + std::to_string(differ) +
                       " bytes differ, the first at offset " + hex(at) + ")");
        }
        b = b + n;
      }
    }
  }

  // The other direction: Linux's pattern found inside a page Xen writes.
  void check_xen_pages(const PageSet& written) {
    std::array<uint8_t, kPageSize> page{};
    for (Gfn g : m.xen_written_gfns()) {
      if (!written.contains(g)) continue;
      auto e = m.lookup(g);
      if (!e) continue;
      m.read_mfn(e->mfn, 0, page.data(), page.size());
      size_t hits = static_cast<size_t>(std::count(page.begin(), page.end(), pattern(g)));
      if (hits == 0) continue;
      add_page(r.corruption, "corruption", g, "linux (pattern write)", detail::owner_of(m, g),
               "Linux's write landed in Xen's page (" + std::to_string(hits) + " of 4096 bytes hold its pattern)");
    }
  }
};

}  // namespace

NextStageResult run_next_stage(Model& m, const HandoverView& h) {
  Stage s{m, m.memory("linux"), {}};

  // What Linux believes free: told RAM minus reserved, kernel, DTB, initrd.
  PageSet free = detail::told_unreserved(h);
  free.remove_touched(h.kernel);
  free.remove_touched(h.dtb);
  free.remove_touched(h.initrd);

  std::vector<Gfn> own_xen_pages;
  if (auto si = s.map_shared_info(free)) own_xen_pages.push_back(*si);
  s.register_vcpus(free, own_xen_pages);

  // Block by block; a block that faults is redone page by page, which is
  // how the faulting GFNs are found (a failed fill changes nothing).
  PageSet written;
  for (const GfnRun& run : free.runs()) {
    for (Gfn b = run.first; b < run.end();) {
      uint64_t n = std::min(run.end().value, align_down(b.value, kBlockPages) + kBlockPages) - b.value;
      if (s.mem.fill(b.addr(), pattern(b), n * kPageSize).ok()) {
        written.add(GfnRun{b, n});
        s.r.pages_written += n;
      } else {
        for (Gfn g = b; g < b + n; g = g + 1) {
          if (auto w = fill_page(s.mem, g, pattern(g)); !w.ok()) {
            s.fault(g, w.error(), "page fill");
            continue;
          }
          written.add(GfnRun{g, 1});
          ++s.r.pages_written;
        }
      }
      b = b + n;
    }
  }

  m.tick();
  s.verify(written);
  s.check_xen_pages(written);
  return std::move(s.r);
}

}  // namespace mb::model
