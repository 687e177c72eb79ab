#include "page_store.h"

#include <algorithm>
#include <cstring>

#include "magicboot/addr.h"

namespace mb::model {
namespace {

bool all_bytes(const uint8_t* p, size_t len, uint8_t byte) {
  for (size_t i = 0; i < len; ++i)
    if (p[i] != byte) return false;
  return true;
}

}  // namespace

uint8_t PageStore::run_byte(uint64_t mfn) const {
  auto it = runs_.upper_bound(mfn);
  if (it == runs_.begin()) return 0;
  --it;
  return mfn - it->first < it->second.count ? it->second.byte : 0;
}

void PageStore::read(uint64_t mfn, size_t off, void* dst, size_t len) const {
  if (auto it = pages_.find(mfn); it != pages_.end()) {
    std::memcpy(dst, it->second.get() + off, len);
    return;
  }
  std::memset(dst, run_byte(mfn), len);
}

uint8_t* PageStore::materialise(uint64_t mfn) {
  if (auto it = pages_.find(mfn); it != pages_.end()) return it->second.get();
  auto page = std::make_unique<uint8_t[]>(kPageSize);
  std::memset(page.get(), run_byte(mfn), kPageSize);
  uint8_t* p = page.get();
  pages_.emplace(mfn, std::move(page));
  return p;
}

void PageStore::compact(uint64_t mfn) {
  auto it = pages_.find(mfn);
  if (it == pages_.end()) return;
  uint8_t first = it->second[0];
  if (!all_bytes(it->second.get(), kPageSize, first)) return;
  set_run(mfn, 1, first);  // also drops the materialised page
}

void PageStore::write(uint64_t mfn, size_t off, const void* src, size_t len) {
  if (len == 0) return;
  const auto* s = static_cast<const uint8_t*>(src);
  if (len == kPageSize && all_bytes(s, len, s[0])) {
    set_run(mfn, 1, s[0]);
    return;
  }
  if (!pages_.count(mfn) && all_bytes(s, len, run_byte(mfn))) return;  // no change
  std::memcpy(materialise(mfn) + off, src, len);
  if (len == kPageSize) compact(mfn);
}

void PageStore::fill(uint64_t mfn, size_t off, uint8_t byte, size_t len) {
  if (len == 0) return;
  if (len == kPageSize) {
    set_run(mfn, 1, byte);
    return;
  }
  if (!pages_.count(mfn) && run_byte(mfn) == byte) return;  // already so
  std::memset(materialise(mfn) + off, byte, len);
}

void PageStore::fill_pages(uint64_t mfn, uint64_t count, uint8_t byte) {
  if (count) set_run(mfn, count, byte);
}

void PageStore::split_run_at(uint64_t mfn) {
  auto it = runs_.upper_bound(mfn);
  if (it == runs_.begin()) return;
  --it;
  uint64_t start = it->first;
  Run run = it->second;
  if (mfn <= start || mfn - start >= run.count) return;
  it->second.count = mfn - start;
  runs_.emplace(mfn, Run{run.count - (mfn - start), run.byte});
}

void PageStore::set_run(uint64_t mfn, uint64_t count, uint8_t byte) {
  uint64_t end = mfn + count;
  split_run_at(mfn);
  split_run_at(end);
  runs_.erase(runs_.lower_bound(mfn), runs_.lower_bound(end));
  pages_.erase(pages_.lower_bound(mfn), pages_.lower_bound(end));
  if (byte == 0) return;
  auto it = runs_.emplace(mfn, Run{count, byte}).first;
  // Merge with neighbours of the same byte so repeated fills stay one run.
  if (auto next = std::next(it); next != runs_.end() && next->first == end && next->second.byte == byte) {
    it->second.count += next->second.count;
    runs_.erase(next);
  }
  if (it != runs_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.count == mfn && prev->second.byte == byte) {
      prev->second.count += it->second.count;
      runs_.erase(it);
    }
  }
}

void PageStore::pages_not_filled_with(uint64_t mfn, uint64_t count, uint8_t byte, size_t limit,
                                      std::vector<uint64_t>& out) const {
  uint64_t end = mfn + count;
  std::vector<uint64_t> found;
  auto add = [&](uint64_t m) { found.push_back(m); };
  // Pages not materialised: their byte comes from the runs (0 between runs).
  // Walk the segments [cursor, next boundary) with one byte each.
  auto not_materialised = [&](uint64_t a, uint64_t b) {
    // Every non-materialised page in [a, b) mismatches; stop early at limit.
    auto p = pages_.lower_bound(a);
    for (uint64_t m = a; m < b && found.size() < limit; ++m) {
      while (p != pages_.end() && p->first < m) ++p;
      if (p != pages_.end() && p->first == m) {
        // Skip a materialised stretch quickly.
        continue;
      }
      add(m);
    }
  };
  uint64_t cursor = mfn;
  auto it = runs_.upper_bound(mfn);
  if (it != runs_.begin()) {
    auto prev = std::prev(it);
    if (mfn - prev->first < prev->second.count) it = prev;
  }
  while (cursor < end && found.size() < limit) {
    uint64_t seg_end = end;
    uint8_t seg_byte = 0;
    if (it != runs_.end() && it->first <= cursor) {
      seg_end = std::min(end, it->first + it->second.count);
      seg_byte = it->second.byte;
      ++it;
    } else if (it != runs_.end()) {
      seg_end = std::min(end, it->first);
    }
    if (seg_byte != byte) not_materialised(cursor, seg_end);
    cursor = seg_end;
  }
  for (auto p = pages_.lower_bound(mfn); p != pages_.end() && p->first < end; ++p)
    if (!all_bytes(p->second.get(), kPageSize, byte)) add(p->first);
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  if (found.size() > limit) found.resize(limit);
  out.insert(out.end(), found.begin(), found.end());
}

}  // namespace mb::model
