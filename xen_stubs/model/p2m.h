// The guest's physical-to-machine map as an interval map: one node per
// stretch of GFNs that maps consecutive MFNs with one type and owner (a RAM
// bank is one node), or that is a hole. A GFN with no node was never mapped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "magicboot/xen_stubs/model.h"

namespace mb::model {

struct P2mSlot {
  bool hole = false;  // mapped once, removed: nothing behind it
  uint64_t mfn = 0;   // of the first GFN of the extent when visiting
  PageType type = PageType::kRamRw;
  Owner owner = Owner::kGuest;
};

class P2m {
 public:
  P2m() = default;
  P2m(const P2m&) = delete;  // the lookup cache points into extents_
  P2m& operator=(const P2m&) = delete;
  // nullopt: never mapped.
  std::optional<P2mSlot> slot(uint64_t gfn) const;
  // Map [gfn, gfn + count) to [mfn, mfn + count).
  void map(uint64_t gfn, uint64_t count, uint64_t mfn, PageType type, Owner owner);
  void make_hole(uint64_t gfn, uint64_t count);

  // Calls fn(first_gfn, count, const P2mSlot* or nullptr if never mapped) for
  // consecutive pieces covering [gfn, gfn + count); for a mapped piece the
  // slot's mfn is that of first_gfn. Stops when fn returns false.
  template <class Fn>
  void visit(uint64_t gfn, uint64_t count, Fn&& fn) const;

  template <class Fn>
  void for_each(Fn&& fn) const {  // fn(first_gfn, count, const P2mSlot&)
    for (const auto& [g, e] : extents_) fn(g, e.count, e.slot);
  }
  size_t extents() const { return extents_.size(); }

 private:
  struct Extent {
    uint64_t count;
    P2mSlot slot;
  };
  void split_at(uint64_t gfn);
  void put(uint64_t gfn, uint64_t count, const P2mSlot& s);
  std::map<uint64_t, Extent> extents_;
  // The extent slot() found last: the validator walks RAM page by page, and
  // a map lookup per page made a 6 GiB domain's check cost 0.1 s.
  mutable uint64_t cached_first_ = 0;
  mutable const Extent* cached_ = nullptr;
};

template <class Fn>
void P2m::visit(uint64_t gfn, uint64_t count, Fn&& fn) const {
  uint64_t end = gfn + count;
  uint64_t cursor = gfn;
  auto it = extents_.upper_bound(gfn);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    if (gfn - prev->first < prev->second.count) it = prev;
  }
  while (cursor < end) {
    if (it == extents_.end() || it->first > cursor) {
      uint64_t stop = (it == extents_.end() || it->first > end) ? end : it->first;
      if (!fn(cursor, stop - cursor, static_cast<const P2mSlot*>(nullptr))) return;
      cursor = stop;
      continue;
    }
    uint64_t ext_end = it->first + it->second.count;
    uint64_t stop = ext_end < end ? ext_end : end;
    P2mSlot s = it->second.slot;
    if (!s.hole) s.mfn += cursor - it->first;
    if (!fn(cursor, stop - cursor, &s)) return;
    cursor = stop;
    ++it;
  }
}

}  // namespace mb::model
