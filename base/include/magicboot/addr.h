// Typed guest addresses. A page number (Gfn) can never be passed where a byte
// address (GuestPhys) is expected: conversions are explicit and named.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace mb {

inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;

struct Gfn;

// A guest-physical byte address.
struct GuestPhys {
  uint64_t value = 0;

  constexpr GuestPhys() = default;
  explicit constexpr GuestPhys(uint64_t v) : value(v) {}

  constexpr Gfn gfn() const;  // the page that holds this byte
  constexpr uint64_t page_offset() const { return value & (kPageSize - 1); }
  constexpr bool is_aligned(uint64_t align) const { return (value & (align - 1)) == 0; }

  friend constexpr GuestPhys operator+(GuestPhys a, uint64_t off) { return GuestPhys{a.value + off}; }
  friend constexpr uint64_t operator-(GuestPhys a, GuestPhys b) { return a.value - b.value; }
  friend constexpr auto operator<=>(GuestPhys, GuestPhys) = default;
};

// A guest frame number: a guest-physical page.
struct Gfn {
  uint64_t value = 0;

  constexpr Gfn() = default;
  explicit constexpr Gfn(uint64_t v) : value(v) {}

  constexpr GuestPhys addr() const { return GuestPhys{value << kPageShift}; }

  friend constexpr Gfn operator+(Gfn a, uint64_t n) { return Gfn{a.value + n}; }
  friend constexpr uint64_t operator-(Gfn a, Gfn b) { return a.value - b.value; }
  friend constexpr auto operator<=>(Gfn, Gfn) = default;
};

constexpr Gfn GuestPhys::gfn() const { return Gfn{value >> kPageShift}; }

constexpr uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }
constexpr uint64_t align_down(uint64_t v, uint64_t align) { return v & ~(align - 1); }
constexpr bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// A half-open range [base, base + size) of guest-physical memory.
struct PhysRange {
  GuestPhys base;
  uint64_t size = 0;

  constexpr GuestPhys end() const { return base + size; }
  constexpr bool empty() const { return size == 0; }
  constexpr bool contains(GuestPhys a) const { return a >= base && a - base < size; }
  constexpr bool contains(const PhysRange& r) const {
    return r.base >= base && r.size <= size && r.base - base <= size - r.size;
  }
  constexpr bool overlaps(const PhysRange& r) const {
    return !empty() && !r.empty() && base < r.end() && r.base < end();
  }
  // The parts of this range below and above `hole` (empty when none): what
  // is left of it with the hole taken out.
  constexpr PhysRange before(const PhysRange& hole) const {
    const GuestPhys stop = hole.base < end() ? hole.base : end();
    return stop > base ? PhysRange{base, stop - base} : PhysRange{base, 0};
  }
  constexpr PhysRange after(const PhysRange& hole) const {
    const GuestPhys from = hole.end() > base ? hole.end() : base;
    return from < end() ? PhysRange{from, end() - from} : PhysRange{end(), 0};
  }
  // Pages touched by the range: [first_gfn, first_gfn + page_count).
  constexpr Gfn first_gfn() const { return base.gfn(); }
  constexpr uint64_t page_count() const {
    return empty() ? 0 : (align_up(end().value, kPageSize) >> kPageShift) - base.gfn().value;
  }
  friend constexpr bool operator==(const PhysRange&, const PhysRange&) = default;
};

constexpr PhysRange range_of_pages(Gfn first, uint64_t count) {
  return PhysRange{first.addr(), count << kPageShift};
}

static_assert(PhysRange{GuestPhys{0x1000}, 0x1000}.overlaps(PhysRange{GuestPhys{0x1fff}, 1}));
static_assert(!PhysRange{GuestPhys{0x1000}, 0x1000}.overlaps(PhysRange{GuestPhys{0x2000}, 1}));
static_assert(PhysRange{GuestPhys{0x1ff0}, 0x20}.page_count() == 2);

}  // namespace mb
