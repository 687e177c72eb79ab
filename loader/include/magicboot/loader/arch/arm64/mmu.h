// Identity map of the firmware: VA == PA, 4 KiB granule, 48-bit VA.
// RAM (and Xen's magic and grant regions) are Normal write-back, devices
// Device-nGnRnE and never executable. Anything not mapped faults, which the
// fault reporter names.
//
// Mappings are only ever ADDED, never changed: map() fills invalid entries
// and leaves valid ones alone, so it is safe while the MMU is on (no
// break-before-make is ever needed). Hence the order: Normal ranges first,
// then fill_device() for the rest of the device window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/error.h"
#include "magicboot/loader/arch/arm64/layout.h"

namespace mb::arm64 {

enum class MemType : uint8_t { kNormal, kDevice };

class IdentityMap {
 public:
  // Adopts the tables in `pool` as they are: pool[0] is the root (level 0);
  // tables are handed out in order and a table in use is never all-zero, so
  // the state survives from the early map (start.S) to the platform.
  explicit IdentityMap(std::span<PageTable> pool);
  IdentityMap(const IdentityMap&) = delete;
  IdentityMap& operator=(const IdentityMap&) = delete;

  // Maps [range) rounded out to 4 KiB as `type`. Fails (kOverlap) if a page
  // of it is already mapped with the other type, kNoMemory when the table
  // pool is exhausted, kBadInput beyond the 48-bit / PARange limit.
  Res<void> map(PhysRange range, MemType type);
  // Device for every page of [range) that is not mapped yet.
  Res<void> fill_device(PhysRange range);

  // Programs MAIR/TCR/TTBR0 and turns on MMU and caches. MMU must be off;
  // the tables were written with it off (non-cacheable), and start.S
  // invalidated their cache lines.
  void enable();
  static bool enabled();
  // MMU on: first the Normal/Device type of the page holding `addr`, if any.
  bool lookup(GuestPhys addr, MemType* type) const;

  size_t tables_used() const { return used_; }
  size_t tables_capacity() const { return pool_.size(); }
  unsigned pa_bits() const { return pa_bits_; }

 private:
  // The early map runs with the MMU off, where memory is Device: no Error
  // objects (their zeroing may become a memset call) on that path.
  enum class Status : uint8_t { kOk, kConflict, kNoTables, kOutOfRange };
  Status map_pages(uint64_t begin, uint64_t end, MemType type, bool fill);
  Status map_level(PageTable& table, unsigned level, uint64_t begin, uint64_t end, MemType type,
                   bool fill);
  Res<void> to_res(Status s, PhysRange range, MemType type) const;
  friend void early_identity_map(GuestPhys dtb);
  PageTable* allocate();

  std::span<PageTable> pool_;
  size_t used_ = 0;
  unsigned pa_bits_;
};

// Called by start.S with the MMU off: maps the firmware's footprint (minus
// the stack guard page) and the DTB Normal, then enables the MMU, so all C++
// after it runs with caches on and unaligned accesses allowed.
void early_identity_map(GuestPhys dtb);

}  // namespace mb::arm64
