#include <cstring>

#include "magicboot/format.h"
#include "magicboot/loader/ledger.h"

namespace mb::loader {
namespace {


// Ranges ending exactly at 2^64 are refused too: end() would wrap to 0.
bool well_formed(PhysRange r) { return r.size != 0 && r.base.value + r.size > r.base.value; }

bool claimable(RangeType t) {
  return t != RangeType::kFreeRam && t != RangeType::kMagic && t != RangeType::kGrantTable;
}

const char* label(const LedgerRange& r) {
  return (r.type == RangeType::kReserved && !r.in_ram) ? "reserved (not RAM)" : to_string(r.type);
}

uint64_t lo(PhysRange r) { return r.base.value; }
uint64_t hi(PhysRange r) { return r.end().value; }

}  // namespace

size_t MemoryLedger::lower_bound(GuestPhys addr) const {
  size_t i = 0;
  while (i < count_ && ranges_[i].range.end() <= addr) ++i;
  return i;
}

Res<void> MemoryLedger::insert(size_t at, LedgerRange r) {
  if (count_ == kCapacity)
    return MB_ERR(ErrorCode::kNoMemory, "ledger-full", "no slot for %s [%#lx, %#lx): %zu ranges in use",
                  label(r), lo(r.range), hi(r.range), count_);
  memmove(&ranges_[at + 1], &ranges_[at], (count_ - at) * sizeof(LedgerRange));
  ranges_[at] = r;
  ++count_;
  return {};
}

void MemoryLedger::erase(size_t i) {
  memmove(&ranges_[i], &ranges_[i + 1], (count_ - i - 1) * sizeof(LedgerRange));
  --count_;
}

void MemoryLedger::merge_around(size_t i) {
  auto mergeable = [](const LedgerRange& a, const LedgerRange& b) {
    return a.type == b.type && a.in_ram == b.in_ram && a.range.end() == b.range.base;
  };
  if (i + 1 < count_ && mergeable(ranges_[i], ranges_[i + 1])) {
    ranges_[i].range.size += ranges_[i + 1].range.size;
    erase(i + 1);
  }
  if (i > 0 && mergeable(ranges_[i - 1], ranges_[i])) {
    ranges_[i - 1].range.size += ranges_[i].range.size;
    erase(i);
  }
}

Res<void> MemoryLedger::retype(size_t i, PhysRange sub, RangeType type, bool in_ram) {
  const LedgerRange whole = ranges_[i];
  const PhysRange left{whole.range.base, sub.base - whole.range.base};
  const PhysRange right{sub.end(), whole.range.end() - sub.end()};
  const size_t extra = (left.empty() ? 0 : 1) + (right.empty() ? 0 : 1);
  if (count_ + extra > kCapacity)
    return MB_ERR(ErrorCode::kNoMemory, "ledger-full", "no slot to split %s [%#lx, %#lx) for %s [%#lx, %#lx)",
                  label(whole), lo(whole.range), hi(whole.range), to_string(type), lo(sub), hi(sub));
  size_t mid = i;
  if (!left.empty()) {
    ranges_[i].range = left;
    mid = i + 1;
    MB_CHECK(insert(mid, LedgerRange{sub, type, in_ram}));
  } else {
    ranges_[i] = LedgerRange{sub, type, in_ram};
  }
  if (!right.empty()) MB_CHECK(insert(mid + 1, LedgerRange{right, whole.type, whole.in_ram}));
  merge_around(mid);
  return {};
}

Res<void> MemoryLedger::add_ram(PhysRange bank) {
  if (!well_formed(bank))
    return MB_ERR(ErrorCode::kBadInput, "ledger-add-ram", "RAM bank [%#lx, +%#lx) is empty or wraps", lo(bank),
                  bank.size);
  const size_t i = lower_bound(bank.base);
  if (i < count_ && ranges_[i].range.overlaps(bank))
    return MB_ERR(ErrorCode::kOverlap, "ledger-add-ram", "RAM bank [%#lx, %#lx) overlaps %s [%#lx, %#lx)",
                  lo(bank), hi(bank), label(ranges_[i]), lo(ranges_[i].range), hi(ranges_[i].range));
  MB_CHECK(insert(i, LedgerRange{bank, RangeType::kFreeRam, true}));
  merge_around(i);
  return {};
}

Res<void> MemoryLedger::add_outside_ram(PhysRange range, RangeType type) {
  if (type != RangeType::kMagic && type != RangeType::kGrantTable && type != RangeType::kReserved)
    return MB_ERR(ErrorCode::kBadInput, "ledger-add-outside-ram", "%s [%#lx, %#lx) cannot lie outside RAM",
                  to_string(type), lo(range), hi(range));
  if (!well_formed(range))
    return MB_ERR(ErrorCode::kBadInput, "ledger-add-outside-ram", "%s [%#lx, +%#lx) is empty or wraps",
                  to_string(type), lo(range), range.size);
  const size_t i = lower_bound(range.base);
  if (i < count_ && ranges_[i].range.overlaps(range))
    return MB_ERR(ErrorCode::kOverlap, "ledger-add-outside-ram", "%s [%#lx, %#lx) overlaps %s [%#lx, %#lx)",
                  to_string(type), lo(range), hi(range), label(ranges_[i]), lo(ranges_[i].range),
                  hi(ranges_[i].range));
  MB_CHECK(insert(i, LedgerRange{range, type, false}));
  merge_around(i);
  return {};
}

Res<void> MemoryLedger::claim(PhysRange range, RangeType type) {
  if (!claimable(type))
    return MB_ERR(ErrorCode::kBadInput, "ledger-claim", "%s [%#lx, %#lx) cannot be claimed out of RAM",
                  to_string(type), lo(range), hi(range));
  if (!well_formed(range))
    return MB_ERR(ErrorCode::kBadInput, "ledger-claim", "%s [%#lx, +%#lx) is empty or wraps", to_string(type),
                  lo(range), range.size);
  const size_t i = lower_bound(range.base);
  if (i < count_ && ranges_[i].type == RangeType::kFreeRam && ranges_[i].range.contains(range))
    return retype(i, range, type, true);
  return conflict("ledger-claim", range, type, RangeType::kFreeRam);
}

Res<void> MemoryLedger::release(PhysRange range, RangeType expected) {
  if (!claimable(expected))
    return MB_ERR(ErrorCode::kBadInput, "ledger-release", "%s [%#lx, %#lx) cannot be released to free RAM",
                  to_string(expected), lo(range), hi(range));
  if (!well_formed(range))
    return MB_ERR(ErrorCode::kBadInput, "ledger-release", "%s [%#lx, +%#lx) is empty or wraps",
                  to_string(expected), lo(range), range.size);
  const size_t i = lower_bound(range.base);
  if (i < count_ && ranges_[i].type == expected && ranges_[i].in_ram && ranges_[i].range.contains(range))
    return retype(i, range, RangeType::kFreeRam, true);
  return conflict("ledger-release", range, expected, expected);
}

Failure MemoryLedger::conflict(const char* check, PhysRange range, RangeType subject, RangeType want) const {
  // Same-type neighbours merge, so a range not inside one range of type
  // `want` meets something else: walk up from its base to name the first.
  GuestPhys at = range.base;
  for (size_t j = lower_bound(range.base); at < range.end(); ++j) {
    if (j == count_ || ranges_[j].range.base > at) {
      const GuestPhys stop =
          (j == count_ || ranges_[j].range.base > range.end()) ? range.end() : ranges_[j].range.base;
      return MB_ERR(ErrorCode::kOverlap, check, "%s [%#lx, %#lx) is not RAM at [%#lx, %#lx)",
                         to_string(subject), lo(range), hi(range), at.value,
                         stop.value);
    }
    const LedgerRange& r = ranges_[j];
    if (r.type != want || !r.in_ram)
      return MB_ERR(ErrorCode::kOverlap, check, "%s [%#lx, %#lx) overlaps %s [%#lx, %#lx)",
                         to_string(subject), lo(range), hi(range), label(r), lo(r.range), hi(r.range));
    at = r.range.end();
  }
  return MB_ERR(ErrorCode::kInvariant, check, "%s [%#lx, %#lx): no conflict found, ledger out of order",
                     to_string(subject), lo(range), hi(range));
}

Res<GuestPhys> MemoryLedger::allocate(uint64_t size, uint64_t align, GuestPhys below, RangeType type,
                                      Placement where) {
  if (size == 0 || !is_pow2(align))
    return MB_ERR(ErrorCode::kBadInput, "ledger-allocate", "%s: size %#lx, alignment %#lx (need size > 0, "
                  "alignment a power of two)", to_string(type), size, align);
  if (!claimable(type))
    return MB_ERR(ErrorCode::kBadInput, "ledger-allocate", "%s cannot be allocated out of RAM", to_string(type));

  bool found = false;
  GuestPhys at;
  for (size_t k = 0; k < count_ && !found; ++k) {
    const size_t i = where == Placement::kLowest ? k : count_ - 1 - k;
    const LedgerRange& r = ranges_[i];
    if (r.type != RangeType::kFreeRam) continue;
    const uint64_t limit = r.range.end() < below ? r.range.end().value : below.value;
    if (where == Placement::kLowest) {
      if (r.range.base.value > UINT64_MAX - (align - 1)) continue;
      const uint64_t start = align_up(r.range.base.value, align);
      if (start <= limit && limit - start >= size) {
        at = GuestPhys{start};
        found = true;
      }
    } else {
      if (limit < size) continue;
      const uint64_t start = align_down(limit - size, align);
      if (start >= r.range.base.value) {
        at = GuestPhys{start};
        found = true;
      }
    }
  }
  if (!found)
    return MB_ERR(ErrorCode::kNoMemory, "ledger-allocate",
                  "no %#lx bytes of free RAM aligned to %#lx below %#lx for %s (%#lx bytes free)",
                  size, align, below.value, to_string(type),
                  total(RangeType::kFreeRam));
  MB_CHECK(claim(PhysRange{at, size}, type));
  return at;
}

const LedgerRange* MemoryLedger::find(GuestPhys addr) const {
  const size_t i = lower_bound(addr);
  return (i < count_ && ranges_[i].range.contains(addr)) ? &ranges_[i] : nullptr;
}

bool MemoryLedger::is_free(PhysRange range) const {
  if (!well_formed(range)) return false;
  const size_t i = lower_bound(range.base);
  return i < count_ && ranges_[i].type == RangeType::kFreeRam && ranges_[i].range.contains(range);
}

uint64_t MemoryLedger::total(RangeType type) const {
  uint64_t t = 0;
  for (size_t i = 0; i < count_; ++i)
    if (ranges_[i].type == type) t += ranges_[i].range.size;
  return t;
}

uint64_t MemoryLedger::total_ram() const {
  uint64_t t = 0;
  for (size_t i = 0; i < count_; ++i)
    if (ranges_[i].in_ram) t += ranges_[i].range.size;
  return t;
}

size_t format_ledger_range(char* buf, size_t cap, const LedgerRange& r) {
  const int n = format_to(buf, cap, "  [0x%016lx, 0x%016lx) %-9s %s", lo(r.range), hi(r.range),
                          human_size(r.range.size).text, label(r));
  return n < 0 ? 0 : static_cast<size_t>(n);
}

size_t MemoryLedger::format(char* buf, size_t cap) const {
  size_t need = 0;
  auto append = [&](const char* text, size_t len) {
    if (need + 1 < cap) {
      const size_t n = len < cap - 1 - need ? len : cap - 1 - need;
      memcpy(buf + need, text, n);
      buf[need + n] = '\0';
    }
    need += len;
  };
  if (cap > 0) buf[0] = '\0';
  for (size_t i = 0; i < count_; ++i) {
    char line[128];
    const size_t n = format_ledger_range(line, sizeof line, ranges_[i]);
    append(line, n < sizeof line ? n : sizeof line - 1);
    append("\n", 1);
  }
  return need;
}

}  // namespace mb::loader
