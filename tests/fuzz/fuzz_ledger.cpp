// The ledger on its own: the input is a program of add_ram / add_outside_ram /
// claim / release / allocate operations. After each one the ledger's
// invariants hold, a failed operation leaves the ledger unchanged, and the
// outcome matches a naive reference computed from the ranges before the
// operation (with 128-bit arithmetic for allocate, so no wrap can hide).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>
#include <vector>

#include "fuzz_check.h"

namespace {

using namespace mb;
using namespace mb::loader;
using u128 = unsigned __int128;

// Addresses from a small alphabet so operations collide, plus the edges of
// the address space and raw values.
uint64_t pick_addr(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: case 1: case 2: return uint64_t{in.ConsumeIntegral<uint8_t>()} << 12;
    case 3: return (uint64_t{1} << 32) + (uint64_t{in.ConsumeIntegral<uint8_t>()} << 20);
    case 4: return 0 - (uint64_t{in.ConsumeIntegral<uint8_t>()} << 12);
    default: return in.ConsumeIntegral<uint64_t>();
  }
}
uint64_t pick_size(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: case 1: return uint64_t{in.ConsumeIntegral<uint8_t>()} << 12;
    case 2: return uint64_t{in.ConsumeIntegral<uint8_t>()} << 20;
    case 3: return in.ConsumeIntegral<uint8_t>();
    default: return in.ConsumeIntegral<uint64_t>();
  }
}
RangeType pick_type(FuzzedDataProvider& in) {
  return static_cast<RangeType>(in.ConsumeIntegralInRange<int>(0, kRangeTypeCount - 1));
}

bool well_formed(PhysRange r) { return r.size != 0 && r.base.value + r.size > r.base.value; }
bool claimable(RangeType t) { return t != RangeType::kFreeRam && t != RangeType::kMagic && t != RangeType::kGrantTable; }

bool overlaps_any(std::span<const LedgerRange> rs, PhysRange r) {
  for (const LedgerRange& x : rs)
    if (x.range.overlaps(r)) return true;
  return false;
}
// Inside one range of `type` that is RAM.
bool inside_ram_of(std::span<const LedgerRange> rs, PhysRange r, RangeType type) {
  for (const LedgerRange& x : rs)
    if (x.type == type && x.in_ram && x.range.contains(r)) return true;
  return false;
}

// Every aligned start of `size` bytes in free RAM below `below`: lowest and
// highest over all free ranges. found == false when there is none.
struct Fit {
  bool found = false;
  u128 lowest = 0, highest = 0;
};
Fit best_fit(std::span<const LedgerRange> rs, uint64_t size, uint64_t align, uint64_t below) {
  Fit f;
  for (const LedgerRange& x : rs) {
    if (x.type != RangeType::kFreeRam) continue;
    const u128 b = x.range.base.value, e = b + x.range.size;
    const u128 limit = e < below ? e : u128{below};
    const u128 lo = (b + align - 1) / align * align;
    if (lo + size > limit) continue;  // no aligned start fits here
    const u128 hi = (limit - size) / align * align;
    if (!f.found || lo < f.lowest) f.lowest = lo;
    if (!f.found || hi > f.highest) f.highest = hi;
    f.found = true;
  }
  return f;
}

// A full ledger may refuse for room; nothing else excuses a refusal.
bool out_of_slots(const Error& e) { return e.code == ErrorCode::kNoMemory && std::strcmp(e.check, "ledger-full") == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  MemoryLedger l;
  std::vector<PhysRange> ram;
  std::vector<LedgerRange> before;
  for (int step = 0; step < 256 && in.remaining_bytes() > 0; ++step) {
    before.assign(l.ranges().begin(), l.ranges().end());
    const uint64_t free_before = l.total(RangeType::kFreeRam);
    const int op = in.ConsumeIntegralInRange<int>(0, 5);
    const PhysRange r{GuestPhys{pick_addr(in)}, pick_size(in)};
    bool ok = false;
    Error err{};
    RangeType type = RangeType::kFreeRam;
    auto record = [&](const auto& res) {
      ok = res.ok();
      if (!ok) err = res.error();
    };
    switch (op) {
      case 0: {  // add_ram
        auto res = l.add_ram(r);
        record(res);
        const bool want = well_formed(r) && !overlaps_any(before, r);
        FUZZ_CHECK(ok == want || (!ok && out_of_slots(err)), "add_ram [%#lx, +%#lx): ok %d, expected %d (%s: %s)",
                   r.base.value, r.size, ok, want, err.check, err.detail);
        if (ok) ram.push_back(r);
        break;
      }
      case 1: {  // add_outside_ram
        type = pick_type(in);
        auto res = l.add_outside_ram(r, type);
        record(res);
        const bool want = (type == RangeType::kMagic || type == RangeType::kGrantTable || type == RangeType::kReserved) &&
                          well_formed(r) && !overlaps_any(before, r);
        FUZZ_CHECK(ok == want || (!ok && out_of_slots(err)), "add_outside_ram %s [%#lx, +%#lx): ok %d, expected %d (%s)",
                   to_string(type), r.base.value, r.size, ok, want, err.detail);
        break;
      }
      case 2: case 3: {  // claim, or claim then release a part of it
        type = pick_type(in);
        auto res = l.claim(r, type);
        record(res);
        const bool want = claimable(type) && well_formed(r) && inside_ram_of(before, r, RangeType::kFreeRam);
        FUZZ_CHECK(ok == want || (!ok && out_of_slots(err)), "claim %s [%#lx, +%#lx): ok %d, expected %d (%s)",
                   to_string(type), r.base.value, r.size, ok, want, err.detail);
        if (ok) {
          FUZZ_CHECK(!l.is_free(r) && l.find(r.base)->type == type && l.find(r.end() + (0 - 1))->type == type,
                     "claimed [%#lx, +%#lx) is not %s", r.base.value, r.size, to_string(type));
          FUZZ_CHECK(l.total(RangeType::kFreeRam) == free_before - r.size, "free RAM did not shrink by the claim");
        }
        break;
      }
      case 4: {  // release
        type = pick_type(in);
        auto res = l.release(r, type);
        record(res);
        const bool want = claimable(type) && well_formed(r) && inside_ram_of(before, r, type);
        FUZZ_CHECK(ok == want || (!ok && out_of_slots(err)), "release %s [%#lx, +%#lx): ok %d, expected %d (%s)",
                   to_string(type), r.base.value, r.size, ok, want, err.detail);
        if (ok) {
          FUZZ_CHECK(l.is_free(r), "released [%#lx, +%#lx) is not free", r.base.value, r.size);
          FUZZ_CHECK(l.total(RangeType::kFreeRam) == free_before + r.size, "free RAM did not grow by the release");
        }
        break;
      }
      default: {  // allocate
        type = pick_type(in);
        const uint64_t align = uint64_t{1} << in.ConsumeIntegralInRange<int>(0, 63);
        const bool odd_align = in.ConsumeBool() && in.ConsumeBool();
        const uint64_t a = odd_align ? align * 3 : align;  // sometimes not a power of two
        const uint64_t below = pick_addr(in);
        const Placement where = in.ConsumeBool() ? Placement::kLowest : Placement::kHighest;
        auto res = l.allocate(r.size, a, GuestPhys{below}, type, where);
        record(res);
        const bool valid = r.size != 0 && is_pow2(a) && claimable(type);
        const Fit fit = valid ? best_fit(before, r.size, a, below) : Fit{};
        FUZZ_CHECK(ok == fit.found || (!ok && out_of_slots(err)),
                   "allocate %#lx align %#lx below %#lx %s: ok %d, a fit %s (%s)", r.size, a, below,
                   to_string(type), ok, fit.found ? "exists" : "does not exist", err.detail);
        if (ok) {
          const u128 got = res->value;
          const u128 want = where == Placement::kLowest ? fit.lowest : fit.highest;
          FUZZ_CHECK(got == want, "allocate %#lx align %#lx below %#lx: got %#lx, best is %#lx", r.size,
                     a, below, res->value, static_cast<uint64_t>(want));
          FUZZ_CHECK(l.find(res.value())->type == type, "allocated range is not %s", to_string(type));
        }
        break;
      }
    }
    if (!ok) {
      const auto now = l.ranges();
      const bool same = now.size() == before.size() && std::equal(now.begin(), now.end(), before.begin());
      if (!same) mb::fuzz::dump_ledger(l);
      FUZZ_CHECK(same, "op %d failed (%s: %s) but changed the ledger", op, err.check, err.detail);
      FUZZ_CHECK(err.check != nullptr && err.check[0] != '\0', "error without a check name");
    }
    mb::fuzz::check_ledger(l, ram);
  }
  return 0;
}
