// The memory ledger: every guest-physical range the loader knows about, with
// its owner. Modelled on Fuchsia's memalloc::Pool: one enum of range types,
// disjoint ranges kept sorted by address, adjacent ranges of the same type
// merged, and a printer the tests compare whole.
//
// Fixed capacity, no heap: the same object runs in the firmware and on the
// host. The ledger only records addresses; it never touches the memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"

namespace mb::loader {

// Who owns a range. The allowed overlaps (everything else is a hard error):
//   kFreeRam      created only by add_ram() and release(); RAM nobody owns.
//   kLoaderImage .. kOutgoingDt, kReserved
//                 claimed out of kFreeRam only: claim() over anything else
//                 (another owner, a gap, a region outside RAM) fails.
//   kMagic, kGrantTable
//                 Xen's regions, never RAM: added with add_outside_ram(),
//                 may overlap nothing. claim() refuses them, so no ledger
//                 can say that a Xen page lies in RAM.
//   kReserved     may also be added outside RAM (add_outside_ram), e.g. a
//                 /reserved-memory node that describes a device window.
// Nothing ever overlaps anything: "overlap" above means "carved out of".
enum class RangeType : uint8_t {
  kFreeRam,
  kLoaderImage,
  kLoaderStack,
  kLoaderHeap,
  kIncomingDt,
  kPayload,
  kKernel,
  kInitrd,
  kOutgoingDt,
  kReserved,
  kMagic,
  kGrantTable,
};
inline constexpr size_t kRangeTypeCount = 12;

const char* to_string(RangeType type);

// Where allocate() looks first.
enum class Placement : uint8_t { kLowest, kHighest };

struct LedgerRange {
  PhysRange range;
  RangeType type = RangeType::kFreeRam;
  // False for ranges added with add_outside_ram(): they are not RAM and can
  // never become free RAM. Always true for kFreeRam, false for kMagic and
  // kGrantTable.
  bool in_ram = true;

  friend constexpr bool operator==(const LedgerRange&, const LedgerRange&) = default;
};

class MemoryLedger {
 public:
  static constexpr size_t kCapacity = 64;

  // A RAM bank becomes free RAM. Fails (kOverlap, "ledger-add-ram") if it
  // overlaps anything already in the ledger; kBadInput for an empty or
  // wrapping range; kNoMemory ("ledger-full") when out of slots.
  Res<void> add_ram(PhysRange bank);

  // A region that is not RAM (kMagic, kGrantTable or kReserved). Fails if it
  // overlaps anything already in the ledger (RAM included), or for any other
  // type.
  Res<void> add_outside_ram(PhysRange range, RangeType type);

  // Takes `range` out of free RAM for `type`. The whole range must be free
  // RAM; otherwise the error (kOverlap, "ledger-claim") names the first
  // conflicting range: its owner and addresses, or the gap that is not RAM.
  // kFreeRam, kMagic and kGrantTable cannot be claimed (kBadInput).
  Res<void> claim(PhysRange range, RangeType type);

  // Gives a claimed range (or part of one) back to free RAM, e.g. the payload
  // once it has been copied out. The whole range must be in RAM and owned by
  // `expected`; otherwise kOverlap ("ledger-release") names what is there.
  Res<void> release(PhysRange range, RangeType expected);

  // Finds `size` bytes of free RAM at an `align`-aligned address, entirely
  // below `below` (result + size <= below), and claims them for `type`.
  // kLowest returns the lowest such address, kHighest the highest.
  // kNoMemory ("ledger-allocate") when nothing fits; kBadInput for size 0 or
  // an alignment that is not a power of two.
  Res<GuestPhys> allocate(uint64_t size, uint64_t align, GuestPhys below, RangeType type,
                          Placement where = Placement::kLowest);

  std::span<const LedgerRange> ranges() const { return {ranges_, count_}; }
  // The range holding `addr`, or nullptr when the ledger knows nothing there.
  const LedgerRange* find(GuestPhys addr) const;
  // True when all of `range` (non-empty) is free RAM.
  bool is_free(PhysRange range) const;
  // Bytes of the given type (outside-RAM ranges included).
  uint64_t total(RangeType type) const;
  // Bytes of RAM (every in_ram range, free or claimed).
  uint64_t total_ram() const;

  // One line per range, e.g.
  //   "  [0x0000000040000000, 0x0000000040200000) 2 MiB   loader image\n"
  // Writes at most cap bytes, always NUL-terminated when cap > 0; returns
  // the length the whole text needs (as snprintf does), so a result >= cap
  // means it was cut short.
  size_t format(char* buf, size_t cap) const;

 private:
  // Index of the first range whose end is above `addr`.
  size_t lower_bound(GuestPhys addr) const;
  // Replaces the part `sub` of ranges_[i] (which contains it) by `type`.
  Res<void> retype(size_t i, PhysRange sub, RangeType type, bool in_ram);
  Res<void> insert(size_t at, LedgerRange r);
  void merge_around(size_t i);
  void erase(size_t i);
  // The error for `subject` on `range`: the first part of it that is not a
  // RAM range of type `want` (another owner, or a gap).
  Failure conflict(const char* check, PhysRange range, RangeType subject, RangeType want) const;

  LedgerRange ranges_[kCapacity];
  size_t count_ = 0;
};

// "  [0x..., 0x...) 2 MiB     loader image" without the newline; the size as
// human_size() prints it ("2 MiB" exact, "96.8 MiB" rounded). Returns what
// snprintf does.
size_t format_ledger_range(char* buf, size_t cap, const LedgerRange& r);

}  // namespace mb::loader
