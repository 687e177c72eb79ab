#include "p2m.h"

namespace mb::model {

std::optional<P2mSlot> P2m::slot(uint64_t gfn) const {
  if (cached_ == nullptr || gfn < cached_first_ || gfn - cached_first_ >= cached_->count) {
    auto it = extents_.upper_bound(gfn);
    if (it == extents_.begin()) return std::nullopt;
    --it;
    if (gfn - it->first >= it->second.count) return std::nullopt;
    cached_first_ = it->first;
    cached_ = &it->second;
  }
  P2mSlot s = cached_->slot;
  if (!s.hole) s.mfn += gfn - cached_first_;
  return s;
}

void P2m::split_at(uint64_t gfn) {
  auto it = extents_.upper_bound(gfn);
  if (it == extents_.begin()) return;
  --it;
  uint64_t start = it->first;
  Extent e = it->second;
  if (gfn <= start || gfn - start >= e.count) return;
  it->second.count = gfn - start;
  Extent tail = e;
  tail.count = e.count - (gfn - start);
  if (!tail.slot.hole) tail.slot.mfn += gfn - start;
  extents_.emplace(gfn, tail);
}

void P2m::put(uint64_t gfn, uint64_t count, const P2mSlot& s) {
  if (count == 0) return;
  cached_ = nullptr;
  split_at(gfn);
  split_at(gfn + count);
  extents_.erase(extents_.lower_bound(gfn), extents_.lower_bound(gfn + count));
  extents_.emplace(gfn, Extent{count, s});
}

void P2m::map(uint64_t gfn, uint64_t count, uint64_t mfn, PageType type, Owner owner) {
  put(gfn, count, P2mSlot{false, mfn, type, owner});
}

void P2m::make_hole(uint64_t gfn, uint64_t count) { put(gfn, count, P2mSlot{true, 0, PageType::kRamRw, Owner::kGuest}); }

}  // namespace mb::model
