#include "magicboot/pv/grant_table.h"

#include "magicboot/hypercall/xen.h"

namespace mb::pv {
namespace {

static_assert(sizeof(grant_entry_v1_t) == 8, "v1 entries: 512 per frame");
static_assert(offsetof(grant_entry_v1_t, flags) == 0 && offsetof(grant_entry_v1_t, domid) == 2 &&
                  offsetof(grant_entry_v1_t, frame) == 4,
              "flags and domid share the first 32-bit word, flags in its low half");
static_assert(GrantTable::kFirstFree == GNTTAB_NR_RESERVED_ENTRIES);

constexpr uint32_t kBusy = GTF_reading | GTF_writing;

}  // namespace

Res<void> GrantTable::open(PhysRange region, std::span<const PhysRange> ram, unsigned frames) {
  if (frames == 0 || frames > kMaxFrames || region.size < uint64_t{frames} * kPageSize ||
      region.base.value % kPageSize != 0)
    return MB_ERR(ErrorCode::kBadInput, "grant-region", "%u grant frame(s) do not fit [%#lx, +%#lx)", frames,
                  region.base.value, region.size);
  const PhysRange used{region.base, uint64_t{frames} * kPageSize};
  for (const PhysRange& bank : ram)
    if (bank.overlaps(used))
      return MB_ERR(ErrorCode::kOverlap, "grant-region", "grant frames [%#lx, %#lx) would lie in RAM [%#lx, %#lx)",
                    used.base.value, used.end().value, bank.base.value, bank.end().value);
  base_ = region.base.gfn();
  for (unsigned i = 0; i < frames; ++i) {
    auto mapped = xen::add_to_physmap(h_, XENMAPSPACE_grant_table, i, frame_gfn(i));
    if (!mapped.ok()) {
      (void)remove_frames(i);
      return MB_ERR(ErrorCode::kHypercall, "grant-map", "grant frame %u at GFN %#lx: %s", i, frame_gfn(i).value,
                    xen::to_string(mapped.error()));
    }
    ++frames_;
    ++frames_total_;
  }
  return {};
}

Res<GrantRef> GrantTable::grant(uint16_t domid, Gfn frame, bool readonly) {
  const GrantRef limit = frames_ * kEntriesPerFrame;
  for (GrantRef ref = kFirstFree; ref < limit; ++ref) {
    if (used_[ref / 32] & (1u << (ref % 32))) continue;
    if (frame.value > UINT32_MAX)
      return MB_ERR(ErrorCode::kBadInput, "grant-frame", "GFN %#lx does not fit a v1 grant entry", frame.value);
    const uint32_t head = uint32_t{domid} << 16;
    MB_CHECK(mem_.store32(entry(ref) + 4, static_cast<uint32_t>(frame.value)));
    MB_CHECK(mem_.store32(entry(ref), head));
    // Frame and domid before the flags that make the entry valid.
    mem_.barrier();
    MB_CHECK(mem_.store32(entry(ref), head | GTF_permit_access | (readonly ? GTF_readonly : 0)));
    used_[ref / 32] |= 1u << (ref % 32);
    ++active_;
    ++granted_total_;
    return ref;
  }
  return MB_ERR(ErrorCode::kNoMemory, "grant-full", "all %u grant entries in use", limit - kFirstFree);
}

Res<void> GrantTable::end(GrantRef ref) {
  if (ref >= frames_ * kEntriesPerFrame || !(used_[ref / 32] & (1u << (ref % 32))))
    return MB_ERR(ErrorCode::kBadInput, "grant-ref", "grant %u was not handed out", ref);
  uint32_t seen = MB_TRY(mem_.load32(entry(ref)));
  for (;;) {
    if (seen & kBusy)
      return MB_ERR(ErrorCode::kBusy, "grant-in-use", "grant %u (GFN %#x) is still mapped by domain %u (flags %#x)",
                    ref, MB_TRY(mem_.load32(entry(ref) + 4)), seen >> 16, seen & 0xffff);
    const uint32_t found = MB_TRY(mem_.compare_exchange32(entry(ref), seen, seen & 0xffff0000u));
    if (found == seen) break;
    seen = found;  // the backend changed the flags under us: look again
  }
  used_[ref / 32] &= ~(1u << (ref % 32));
  --active_;
  ++ended_total_;
  return {};
}

// From the last frame down; a frame Xen refused to remove stays counted, so
// a second close() (the failed boot's way out) tries it again.
Res<void> GrantTable::remove_frames(unsigned count) {
  Res<void> first{};
  unsigned left = 0;
  for (unsigned i = count; i-- > 0;) {
    auto removed = xen::remove_from_physmap(h_, frame_gfn(i));
    if (removed.ok()) {
      ++removed_total_;
      continue;
    }
    if (left == 0) left = i + 1;
    if (first.ok())
      first = MB_ERR(ErrorCode::kHypercall, "grant-unmap", "grant frame %u at GFN %#lx: %s", i, frame_gfn(i).value,
                     xen::to_string(removed.error()));
  }
  frames_ = left;
  return first;
}

Res<void> GrantTable::close() {
  if (active_ != 0)
    return MB_ERR(ErrorCode::kBusy, "grant-active", "%u grant(s) still active: grant frames at GFN %#lx kept",
                  active_, base_.value);
  return remove_frames(frames_);
}

}  // namespace mb::pv
