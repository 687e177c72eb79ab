#include "magicboot/loader/arch/arm64/mmu.h"

#include "magicboot/loader/arch/arm64/platform_uart.h"
#include "magicboot/loader/arch/arm64/link_layout.h"
#include "magicboot/loader/arch/arm64/sysreg.h"

namespace mb::arm64 {
namespace {

// Descriptor bits (Arm ARM D8.3, 4 KiB granule).
constexpr uint64_t kValid = 1;
constexpr uint64_t kTableOrPage = 3;  // bits[1:0] of a table (L0-L2) or a page (L3)
constexpr uint64_t kBlock = 1;        // bits[1:0] of a block (L1, L2)
constexpr uint64_t kAttrDevice = 0 << 2;  // MAIR index 0
constexpr uint64_t kAttrNormal = 1 << 2;  // MAIR index 1
constexpr uint64_t kInnerShareable = 3 << 8;
constexpr uint64_t kAccessFlag = 1 << 10;
constexpr uint64_t kPxn = uint64_t{1} << 53;
constexpr uint64_t kUxn = uint64_t{1} << 54;
constexpr uint64_t kOutputMask = 0x0000fffffffff000;

constexpr uint64_t kMairDevice_nGnRnE = 0x00;
constexpr uint64_t kMairNormalWriteBack = 0xff;  // inner/outer WB, read/write allocate
constexpr uint64_t kMair = kMairDevice_nGnRnE | (kMairNormalWriteBack << 8);

constexpr unsigned kVaBits = 48;
constexpr uint64_t kTcrT0sz = 64 - kVaBits;
constexpr uint64_t kTcrInnerWbwa = 1 << 8;
constexpr uint64_t kTcrOuterWbwa = 1 << 10;
constexpr uint64_t kTcrInnerShareable = 3 << 12;
constexpr uint64_t kTcrT1sz = (64 - kVaBits) << 16;
constexpr uint64_t kTcrEpd1 = 1 << 23;  // no TTBR1 walks: the upper half is unused

constexpr uint64_t kSctlrM = 1 << 0;
constexpr uint64_t kSctlrA = 1 << 1;
constexpr uint64_t kSctlrC = 1 << 2;
constexpr uint64_t kSctlrI = 1 << 12;

constexpr uint64_t leaf(uint64_t pa, MemType type, unsigned level) {
  uint64_t d = (pa & kOutputMask) | kAccessFlag | (level == 3 ? kTableOrPage : kBlock);
  // Device memory is never executable: no speculative instruction fetch from it.
  return type == MemType::kNormal ? d | kAttrNormal | kInnerShareable | kUxn
                                  : d | kAttrDevice | kPxn | kUxn;
}
static_assert((leaf(0x40000000, MemType::kNormal, 1) & 3) == kBlock);
static_assert((leaf(0x1000, MemType::kDevice, 3) & 3) == kTableOrPage);

constexpr MemType type_of(uint64_t desc) {
  return (desc & (7 << 2)) == kAttrNormal ? MemType::kNormal : MemType::kDevice;
}

// ID_AA64MMFR0_EL1.PARange -> bits.
unsigned pa_range_bits(uint64_t mmfr0, uint64_t* ips) {
  static constexpr unsigned kBits[] = {32, 36, 40, 42, 44, 48};
  uint64_t r = mmfr0 & 0xf;
  if (r > 5) r = 5;  // 52-bit needs the LPA formats; 48 is all we map
  *ips = r;
  return kBits[r];
}

PageTable* table_at(uint64_t desc) {
  return reinterpret_cast<PageTable*>(static_cast<uintptr_t>(desc & kOutputMask));
}

bool all_zero(const PageTable& t) {
  for (uint64_t e : t.entry)
    if (e != 0) return false;
  return true;
}

}  // namespace

IdentityMap::IdentityMap(std::span<PageTable> pool) : pool_(pool) {
  uint64_t ips;
  pa_bits_ = pa_range_bits(MB_READ_SYSREG(id_aa64mmfr0_el1), &ips);
  // Tables are handed out in order and one in use is never all-zero: the
  // first all-zero table after the root ends the used ones. Scanning from
  // the front stops at the first non-zero entry of each used table and reads
  // one free table whole; from the back it read every free table whole
  // (~33 K instructions each time, twice a boot).
  used_ = 1;  // the root
  while (used_ < pool_.size() && !all_zero(pool_[used_])) ++used_;
}

PageTable* IdentityMap::allocate() {
  if (used_ >= pool_.size()) return nullptr;
  return &pool_[used_++];  // zeroed by start.S, never written before
}

IdentityMap::Status IdentityMap::map_level(PageTable& table, unsigned level, uint64_t begin,
                                           uint64_t end, MemType type, bool fill) {
  const unsigned shift = 39 - 9 * level;
  const uint64_t span = uint64_t{1} << shift;
  for (uint64_t va = begin; va < end;) {
    const unsigned idx = static_cast<unsigned>((va >> shift) & 511);
    const uint64_t slot_end = (va & ~(span - 1)) + span;
    const uint64_t next = slot_end < end ? slot_end : end;
    uint64_t e = table.entry[idx];
    if ((e & kValid) == 0) {
      if (level >= 1 && (va & (span - 1)) == 0 && next - va == span) {
        table.entry[idx] = leaf(va, type, level);
        va = next;
        continue;
      }
      PageTable* t = allocate();
      if (t == nullptr) return Status::kNoTables;
      e = reinterpret_cast<uintptr_t>(t) | kTableOrPage;
      table.entry[idx] = e;
    }
    if (level < 3 && (e & 3) == kTableOrPage) {
      Status s = map_level(*table_at(e), level + 1, va, next, type, fill);
      if (s != Status::kOk) return s;
    } else if (type_of(e) != type && !fill) {
      return Status::kConflict;  // never change a live mapping
    }
    va = next;
  }
  return Status::kOk;
}

IdentityMap::Status IdentityMap::map_pages(uint64_t begin, uint64_t end, MemType type, bool fill) {
  begin = align_down(begin, kPageSize);
  end = align_up(end, kPageSize);
  const uint64_t limit = uint64_t{1} << (pa_bits_ < kVaBits ? pa_bits_ : kVaBits);
  if (end < begin || end > limit) return Status::kOutOfRange;
  Status s = map_level(pool_[0], 0, begin, end, type, fill);
  // New entries only (invalid -> valid): no TLB maintenance, just make the
  // writes visible to the table walker before the next access.
  dsb_ishst();
  isb();
  return s;
}

Res<void> IdentityMap::to_res(Status s, PhysRange r, MemType type) const {
  const char* what = type == MemType::kNormal ? "normal" : "device";
  auto b = r.base.value;
  auto e = r.end().value;
  switch (s) {
    case Status::kOk:
      return {};
    case Status::kConflict:
      return MB_ERR(ErrorCode::kOverlap, "mmu-map", "%s [%#lx, %#lx) overlaps a page mapped with the other type",
                    what, b, e);
    case Status::kNoTables:
      return MB_ERR(ErrorCode::kNoMemory, "mmu-tables", "%s [%#lx, %#lx): all %zu translation tables in use",
                    what, b, e, pool_.size());
    case Status::kOutOfRange:
      break;
  }
  return MB_ERR(ErrorCode::kBadInput, "mmu-range", "%s [%#lx, %#lx) beyond the %u-bit physical address space",
                what, b, e, pa_bits_);
}

Res<void> IdentityMap::map(PhysRange range, MemType type) {
  if (range.empty()) return {};
  return to_res(map_pages(range.base.value, range.end().value, type, false), range, type);
}

Res<void> IdentityMap::fill_device(PhysRange range) {
  if (range.empty()) return {};
  return to_res(map_pages(range.base.value, range.end().value, MemType::kDevice, true), range,
                MemType::kDevice);
}

bool IdentityMap::enabled() { return (MB_READ_SYSREG(sctlr_el1) & kSctlrM) != 0; }

void IdentityMap::enable() {
  uint64_t ips;
  pa_range_bits(MB_READ_SYSREG(id_aa64mmfr0_el1), &ips);
  const uint64_t tcr = kTcrT0sz | kTcrInnerWbwa | kTcrOuterWbwa | kTcrInnerShareable | kTcrT1sz |
                       kTcrEpd1 | (ips << 32);
  MB_WRITE_SYSREG(mair_el1, kMair);
  MB_WRITE_SYSREG(tcr_el1, tcr);
  MB_WRITE_SYSREG(ttbr0_el1, reinterpret_cast<uintptr_t>(&pool_[0]));
  isb();
  asm volatile("tlbi vmalle1\n dsb nsh\n isb\n ic iallu\n dsb nsh\n isb" ::: "memory");
  uint64_t sctlr = MB_READ_SYSREG(sctlr_el1);
  sctlr = (sctlr | kSctlrM | kSctlrC | kSctlrI) & ~kSctlrA;
  MB_WRITE_SYSREG(sctlr_el1, sctlr);
  isb();
}

bool IdentityMap::lookup(GuestPhys addr, MemType* type) const {
  const PageTable* t = &pool_[0];
  for (unsigned level = 0; level <= 3; ++level) {
    uint64_t e = t->entry[(addr.value >> (39 - 9 * level)) & 511];
    if ((e & kValid) == 0) return false;
    if (level == 3 || (e & 3) == kBlock) {
      *type = type_of(e);
      return true;
    }
    t = table_at(e);
  }
  return false;
}

void early_identity_map(GuestPhys dtb) {
  IdentityMap map(page_table_pool());
  // The guard page below the stack stays unmapped: an overflow faults.
  const PhysRange below = footprint().before(stack_guard()), above = footprint().after(stack_guard());
  bool ok = map.map_pages(below.base.value, below.end().value, MemType::kNormal, false) == IdentityMap::Status::kOk;
  ok = ok && map.map_pages(above.base.value, above.end().value, MemType::kNormal, false) ==
                 IdentityMap::Status::kOk;
  if (uint32_t size = fdt_total_size_early(dtb); size != 0)
    ok = ok && map.map_pages(dtb.value, dtb.value + size, MemType::kNormal, false) ==
                   IdentityMap::Status::kOk;
  if (!ok) halt();  // nothing to print on yet; cannot happen with the pool sized for this
  map.enable();
}

}  // namespace mb::arm64

extern "C" void mb_arm64_early_mmu(uint64_t dtb) { mb::arm64::early_identity_map(mb::GuestPhys{dtb}); }
