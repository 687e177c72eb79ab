#include "magicboot/xen_stubs/page_set.h"

#include <algorithm>

namespace mb::model {

PageSet PageSet::inner_pages(PhysRange r) {
  PageSet s;
  uint64_t first = align_up(r.base.value, kPageSize) >> kPageShift;
  uint64_t end = align_down(r.end().value, kPageSize) >> kPageShift;
  if (!r.empty() && end > first) s.runs_.push_back({Gfn{first}, end - first});
  return s;
}

PageSet PageSet::outer_pages(PhysRange r) {
  PageSet s;
  if (!r.empty()) s.runs_.push_back({r.first_gfn(), r.page_count()});
  return s;
}

PageSet PageSet::of_ram(const boards::RamBanks& banks) {
  PageSet s;
  for (unsigned i = 0; i < banks.count && i < 2; ++i) s.add(inner_pages(banks.bank[i]));
  return s;
}

void PageSet::add(GfnRun run) {
  if (run.count == 0) return;
  uint64_t lo = run.first.value, hi = run.end().value;
  // Fast path: pages added in ascending order (the common case) append.
  if (runs_.empty() || runs_.back().end().value < lo) {
    runs_.push_back(run);
    return;
  }
  if (runs_.back().end().value == lo) {
    runs_.back().count += run.count;
    return;
  }
  std::vector<GfnRun> out;
  out.reserve(runs_.size() + 1);
  bool placed = false;
  for (const GfnRun& r : runs_) {
    if (r.end().value < lo) {
      out.push_back(r);
    } else if (r.first.value > hi) {
      if (!placed) out.push_back({Gfn{lo}, hi - lo}), placed = true;
      out.push_back(r);
    } else {  // overlapping or adjacent: merge
      lo = std::min(lo, r.first.value);
      hi = std::max(hi, r.end().value);
    }
  }
  if (!placed) out.push_back({Gfn{lo}, hi - lo});
  runs_ = std::move(out);
}

void PageSet::add(const PageSet& other) {
  for (const GfnRun& r : other.runs_) add(r);
}

void PageSet::remove(GfnRun run) {
  if (run.count == 0) return;
  uint64_t lo = run.first.value, hi = run.end().value;
  std::vector<GfnRun> out;
  out.reserve(runs_.size() + 1);
  for (const GfnRun& r : runs_) {
    uint64_t a = r.first.value, b = r.end().value;
    if (b <= lo || a >= hi) {
      out.push_back(r);
      continue;
    }
    if (a < lo) out.push_back({Gfn{a}, lo - a});
    if (b > hi) out.push_back({Gfn{hi}, b - hi});
  }
  runs_ = std::move(out);
}

void PageSet::remove(const PageSet& other) {
  for (const GfnRun& r : other.runs_) remove(r);
}

bool PageSet::contains(Gfn g) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), g,
                             [](Gfn v, const GfnRun& r) { return v < r.first; });
  if (it == runs_.begin()) return false;
  --it;
  return g < it->end();
}

PageSet PageSet::intersect(GfnRun run) const {
  PageSet s;
  for (const GfnRun& r : runs_) {
    uint64_t a = std::max(r.first.value, run.first.value);
    uint64_t b = std::min(r.end().value, run.end().value);
    if (a < b) s.runs_.push_back({Gfn{a}, b - a});
  }
  return s;
}

uint64_t PageSet::pages() const {
  uint64_t n = 0;
  for (const GfnRun& r : runs_) n += r.count;
  return n;
}

}  // namespace mb::model
