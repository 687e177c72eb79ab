// A set of guest pages as sorted, disjoint, half-open GFN runs. The
// validator and the next stage reason about "told RAM minus reserved minus
// kernel ..." on a 6 GiB guest: runs keep that to a handful of entries
// instead of a bit per page. Host only.
#pragma once

#include <cstdint>
#include <vector>

#include "magicboot/addr.h"
#include "magicboot/boards/region.h"

namespace mb::model {

struct GfnRun {
  Gfn first;
  uint64_t count = 0;
  Gfn end() const { return first + count; }
  friend bool operator==(const GfnRun&, const GfnRun&) = default;
};

class PageSet {
 public:
  PageSet() = default;

  // Pages wholly inside `r` (RAM: a partial page is not usable RAM).
  static PageSet inner_pages(PhysRange r);
  // Pages touched by `r` (a reservation: a partial page is reserved whole).
  static PageSet outer_pages(PhysRange r);
  static PageSet of_ram(const boards::RamBanks& banks);

  void add(GfnRun run);
  void add(const PageSet& other);
  void remove(GfnRun run);
  void remove(const PageSet& other);
  void remove_touched(PhysRange r) { remove(outer_pages(r)); }

  bool contains(Gfn g) const;
  // The part of `run` inside this set.
  PageSet intersect(GfnRun run) const;
  uint64_t pages() const;
  bool empty() const { return runs_.empty(); }
  const std::vector<GfnRun>& runs() const { return runs_; }

 private:
  std::vector<GfnRun> runs_;  // sorted by first, disjoint, non-adjacent
};

}  // namespace mb::model
