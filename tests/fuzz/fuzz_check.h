// What every fuzz target shares: a check that aborts with a message (so
// libFuzzer records a crash and keeps the input), and the ledger's
// invariants, checked from the outside through ranges().
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/loader/ledger.h"

namespace mb::fuzz {

[[noreturn, gnu::format(printf, 3, 4)]] inline void fail_check(const char* file, int line, const char* fmt, ...) {
  std::fprintf(stderr, "FUZZ CHECK FAILED at %s:%d: ", file, line);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) ::mb::fuzz::fail_check(__FILE__, __LINE__, __VA_ARGS__);  \
  } while (0)


inline void dump_ledger(const loader::MemoryLedger& l) {
  char buf[8192];
  l.format(buf, sizeof buf);
  std::fprintf(stderr, "ledger:\n%s", buf);
}

// True when all of `r` lies in the union of the disjoint banks `ram`
// (adjacent banks merge in the ledger, so one range may span several).
inline bool inside_ram(std::span<const PhysRange> ram, PhysRange r) {
  GuestPhys at = r.base;
  const GuestPhys end = r.end();
  while (at < end) {
    const PhysRange* next = nullptr;
    for (const PhysRange& b : ram)
      if (b.contains(at)) next = &b;
    if (next == nullptr) return false;
    if (next->end() >= end || next->end() <= at) return next->end() >= end;
    at = next->end();
  }
  return true;
}
inline bool touches_any(std::span<const PhysRange> ram, PhysRange r) {
  for (const PhysRange& b : ram)
    if (b.overlaps(r)) return true;
  return false;
}

// The ledger's documented invariants. `ram` is every bank added with
// add_ram(): in-RAM ranges lie inside them, outside-RAM ranges touch none,
// and the in-RAM bytes add up to them.
inline void check_ledger(const loader::MemoryLedger& l, std::span<const PhysRange> ram) {
  using loader::RangeType;
  const auto rs = l.ranges();
  FUZZ_CHECK(rs.size() <= loader::MemoryLedger::kCapacity, "%zu ranges", rs.size());
  uint64_t ram_bytes = 0;
  for (size_t i = 0; i < rs.size(); ++i) {
    const loader::LedgerRange& r = rs[i];
    const bool bad = r.range.size == 0 || r.range.base.value + r.range.size <= r.range.base.value;
    if (bad) dump_ledger(l);
    FUZZ_CHECK(!bad, "range %zu [%#lx, +%#lx) is empty or wraps", i, r.range.base.value, r.range.size);
    if (i > 0) {
      const loader::LedgerRange& p = rs[i - 1];
      if (p.range.end() > r.range.base) dump_ledger(l);
      FUZZ_CHECK(p.range.end() <= r.range.base, "ranges %zu and %zu out of order or overlapping", i - 1, i);
      const bool unmerged = p.range.end() == r.range.base && p.type == r.type && p.in_ram == r.in_ram;
      if (unmerged) dump_ledger(l);
      FUZZ_CHECK(!unmerged, "ranges %zu and %zu are adjacent, same type, not merged", i - 1, i);
    }
    if (r.type == RangeType::kFreeRam) FUZZ_CHECK(r.in_ram, "free RAM marked not-RAM");
    if (r.type == RangeType::kMagic || r.type == RangeType::kGrantTable)
      FUZZ_CHECK(!r.in_ram, "%s in RAM at %#lx", loader::to_string(r.type), r.range.base.value);
    if (!r.in_ram)
      FUZZ_CHECK(r.type == RangeType::kMagic || r.type == RangeType::kGrantTable || r.type == RangeType::kReserved,
                 "%s outside RAM", loader::to_string(r.type));
    if (r.in_ram) {
      if (!inside_ram(ram, r.range)) dump_ledger(l);
      FUZZ_CHECK(inside_ram(ram, r.range), "%s [%#lx, %#lx) claimed outside RAM", loader::to_string(r.type),
                 r.range.base.value, r.range.end().value);
      ram_bytes += r.range.size;
    } else {
      FUZZ_CHECK(!touches_any(ram, r.range), "not-RAM %s [%#lx, %#lx) overlaps a RAM bank",
                 loader::to_string(r.type), r.range.base.value, r.range.end().value);
    }
  }
  uint64_t banks = 0;
  for (const PhysRange& b : ram) banks += b.size;
  FUZZ_CHECK(ram_bytes == banks, "ledger holds %#lx bytes of RAM, banks %#lx", ram_bytes, banks);
  FUZZ_CHECK(l.total_ram() == banks, "total_ram %#lx, banks %#lx", l.total_ram(), banks);
  // The printer: the length it reports does not depend on the room given.
  char small[16], big[8192];
  const size_t need_small = l.format(small, sizeof small);
  const size_t need_big = l.format(big, sizeof big);
  FUZZ_CHECK(need_small == need_big, "format needs %zu then %zu", need_small, need_big);
}

}  // namespace mb::fuzz
