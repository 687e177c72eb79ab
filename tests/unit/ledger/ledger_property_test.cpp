// Random sequences of ledger operations checked against a simple model: an
// array with one owner per 64-byte cell. Every operation must succeed exactly
// when the model says it may (or fail with "ledger-full"), and afterwards the
// ledger must be sorted, disjoint, fully merged, and describe exactly the
// model's cells.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <string>

#include "magicboot/loader/ledger.h"

namespace mb::loader {
namespace {

constexpr uint64_t kBase = 0x40000000;
constexpr uint64_t kCell = 0x40;
constexpr size_t kCells = 1024;

struct Cell {
  int type = -1;  // -1: nothing known
  bool in_ram = false;
  bool operator==(const Cell&) const = default;
};

struct Model {
  std::array<Cell, kCells> cells{};
  uint64_t ram_added = 0;

  bool all(size_t first, size_t count, auto pred) const {
    for (size_t i = first; i < first + count; ++i)
      if (!pred(cells[i])) return false;
    return true;
  }
  void set(size_t first, size_t count, Cell c) {
    for (size_t i = first; i < first + count; ++i) cells[i] = c;
  }
};

PhysRange to_range(size_t first, size_t count) { return PhysRange{GuestPhys{kBase + first * kCell}, count * kCell}; }

bool claimable(RangeType t) {
  return t != RangeType::kFreeRam && t != RangeType::kMagic && t != RangeType::kGrantTable;
}

class Harness {
 public:
  explicit Harness(uint32_t seed) : rng_(seed) {}

  void step() {
    switch (pick(5)) {
      case 0: add_ram(); break;
      case 1: add_outside(); break;
      case 2: claim(); break;
      case 3: release(); break;
      case 4: allocate(); break;
    }
    check();
  }
  size_t successes() const { return ok_; }
  const MemoryLedger& ledger() const { return ledger_; }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  // A random range of cells; often inside an existing ledger range of the
  // given type, so that claims and releases succeed as often as they fail.
  std::pair<size_t, size_t> some_cells(int inside_type) {
    if (inside_type >= 0 && pick(10) < 7) {
      size_t candidates[MemoryLedger::kCapacity];
      size_t n = 0;
      for (size_t i = 0; i < ledger_.ranges().size(); ++i)
        if (static_cast<int>(ledger_.ranges()[i].type) == inside_type) candidates[n++] = i;
      if (n > 0) {
        const PhysRange r = ledger_.ranges()[candidates[pick(n)]].range;
        const size_t first = (r.base.value - kBase) / kCell, count = r.size / kCell;
        const size_t off = pick(count), len = 1 + pick(count - off);
        return {first + off, len};
      }
    }
    const size_t first = pick(kCells);
    const size_t len = 1 + pick(std::min<size_t>(kCells - first, pick(4) == 0 ? kCells : 32));
    return {first, len};
  }

  void expect(const char* what, bool model_ok, const Error* err) {
    if (err == nullptr) {
      ASSERT_TRUE(model_ok) << what << " succeeded where the model forbids it";
      ++ok_;
      return;
    }
    if (err->code == ErrorCode::kNoMemory && std::strcmp(err->check, "ledger-full") == 0) {
      full_ = true;
      return;
    }
    ASSERT_FALSE(model_ok) << what << " failed where the model allows it: " << err->check << ": " << err->detail;
  }
  template <class T>
  const Error* error_of(const Res<T>& r) { return r.ok() ? nullptr : &r.error(); }

  void add_ram() {
    auto [first, count] = some_cells(-1);
    const bool model_ok = model_.all(first, count, [](Cell c) { return c.type < 0; });
    auto r = ledger_.add_ram(to_range(first, count));
    expect("add_ram", model_ok, error_of(r));
    if (r.ok()) {
      model_.set(first, count, Cell{static_cast<int>(RangeType::kFreeRam), true});
      model_.ram_added += count * kCell;
    }
  }

  void add_outside() {
    static constexpr RangeType kTypes[] = {RangeType::kMagic, RangeType::kGrantTable, RangeType::kReserved};
    const RangeType t = kTypes[pick(3)];
    auto [first, count] = some_cells(-1);
    count = std::min<size_t>(count, 8);
    const bool model_ok = model_.all(first, count, [](Cell c) { return c.type < 0; });
    auto r = ledger_.add_outside_ram(to_range(first, count), t);
    expect("add_outside_ram", model_ok, error_of(r));
    if (r.ok()) model_.set(first, count, Cell{static_cast<int>(t), false});
  }

  RangeType claim_type() {
    RangeType t;
    do t = static_cast<RangeType>(pick(kRangeTypeCount));
    while (!claimable(t));
    return t;
  }

  void claim() {
    const RangeType t = claim_type();
    auto [first, count] = some_cells(static_cast<int>(RangeType::kFreeRam));
    const bool model_ok =
        model_.all(first, count, [](Cell c) { return c.type == static_cast<int>(RangeType::kFreeRam); });
    auto r = ledger_.claim(to_range(first, count), t);
    expect("claim", model_ok, error_of(r));
    if (r.ok()) model_.set(first, count, Cell{static_cast<int>(t), true});
  }

  void release() {
    const RangeType t = claim_type();
    auto [first, count] = some_cells(static_cast<int>(t));
    const bool model_ok =
        model_.all(first, count, [t](Cell c) { return c.type == static_cast<int>(t) && c.in_ram; });
    auto r = ledger_.release(to_range(first, count), t);
    expect("release", model_ok, error_of(r));
    if (r.ok()) model_.set(first, count, Cell{static_cast<int>(RangeType::kFreeRam), true});
  }

  void allocate() {
    const RangeType t = claim_type();
    const size_t count = 1 + pick(pick(3) == 0 ? 256 : 16);
    const uint64_t align = kCell << pick(7);
    const uint64_t below = kBase + pick(kCells + 1) * kCell + (pick(2) ? 0 : pick(kCell));
    const Placement where = pick(2) ? Placement::kLowest : Placement::kHighest;

    // Brute force over the model: every aligned start whose cells are free.
    bool model_ok = false;
    uint64_t expected = 0;
    for (size_t first = 0; first + count <= kCells; ++first) {
      const uint64_t addr = kBase + first * kCell;
      if (addr % align != 0 || addr + count * kCell > below) continue;
      if (!model_.all(first, count, [](Cell c) { return c.type == static_cast<int>(RangeType::kFreeRam); }))
        continue;
      if (!model_ok || where == Placement::kHighest) expected = addr;
      model_ok = true;
      if (where == Placement::kLowest) break;
    }
    auto r = ledger_.allocate(count * kCell, align, GuestPhys{below}, t, where);
    expect("allocate", model_ok, error_of(r));
    if (r.ok()) {
      ASSERT_EQ(r->value, expected) << "allocate did not pick the " << (where == Placement::kLowest ? "lowest" : "highest")
                                    << " fit";
      ASSERT_TRUE(r->is_aligned(align));
      ASSERT_LE(r->value + count * kCell, below);
      model_.set((r->value - kBase) / kCell, count, Cell{static_cast<int>(t), true});
    }
  }

  void check() {
    if (::testing::Test::HasFatalFailure()) return;
    const auto ranges = ledger_.ranges();
    std::array<Cell, kCells> seen{};
    uint64_t totals[kRangeTypeCount] = {};
    for (size_t i = 0; i < ranges.size(); ++i) {
      const LedgerRange& r = ranges[i];
      ASSERT_GT(r.range.size, 0u);
      ASSERT_EQ(r.range.base.value % kCell, 0u);
      ASSERT_EQ(r.range.size % kCell, 0u);
      if (r.type == RangeType::kFreeRam) {
        ASSERT_TRUE(r.in_ram);
      }
      if (r.type == RangeType::kMagic || r.type == RangeType::kGrantTable) {
        ASSERT_FALSE(r.in_ram);
      }
      if (i > 0) {
        const LedgerRange& p = ranges[i - 1];
        ASSERT_LE(p.range.end(), r.range.base) << "ranges out of order or overlapping at " << i;
        ASSERT_FALSE(p.range.end() == r.range.base && p.type == r.type && p.in_ram == r.in_ram)
            << "unmerged neighbours at " << i;
      }
      totals[static_cast<size_t>(r.type)] += r.range.size;
      for (uint64_t a = r.range.base.value; a < r.range.end().value; a += kCell)
        seen[(a - kBase) / kCell] = Cell{static_cast<int>(r.type), r.in_ram};
    }
    for (size_t i = 0; i < kCells; ++i) ASSERT_EQ(seen[i], model_.cells[i]) << "cell " << i;
    for (size_t t = 0; t < kRangeTypeCount; ++t) ASSERT_EQ(ledger_.total(static_cast<RangeType>(t)), totals[t]);
    ASSERT_EQ(ledger_.total_ram(), model_.ram_added) << "RAM not conserved";
    const size_t probe = pick(kCells);
    const LedgerRange* f = ledger_.find(GuestPhys{kBase + probe * kCell + pick(kCell)});
    if (model_.cells[probe].type < 0) {
      ASSERT_EQ(f, nullptr);
    } else {
      ASSERT_NE(f, nullptr);
      ASSERT_EQ(static_cast<int>(f->type), model_.cells[probe].type);
    }
  }

  std::mt19937 rng_;
  MemoryLedger ledger_;
  Model model_;
  size_t ok_ = 0;
  bool full_ = false;
};

TEST(LedgerPropertyTest, RandomOperationsKeepTheLedgerExact) {
  size_t steps = 0, successes = 0;
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    Harness h(seed);
    for (int i = 0; i < 150; ++i) {
      h.step();
      ++steps;
      if (::testing::Test::HasFatalFailure()) {
        char buf[8192];
        h.ledger().format(buf, sizeof buf);
        FAIL() << "seed " << seed << " step " << i << "\n" << buf;
      }
    }
    successes += h.successes();
  }
  // The generator must exercise success paths, not only errors.
  EXPECT_GT(successes, steps / 4);
  RecordProperty("steps", static_cast<int>(steps));
  RecordProperty("successes", static_cast<int>(successes));
}

}  // namespace
}  // namespace mb::loader
