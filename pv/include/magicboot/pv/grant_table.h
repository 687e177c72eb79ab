// The domain's own grant table, version 1 (xen/grant_table.h): how the
// loader lets a backend in another domain read or write one of its pages.
//
// The table's frames are Xen's pages. They are mapped (XENMAPSPACE_grant_
// table) at the start of the grant-table region the DT's /hypervisor reg[0]
// names -- outside RAM, never at a RAM GFN -- and removed again by close().
// An entry is published as the protocol requires: frame and domid first, a
// barrier, then the flags that make it valid. end() takes the access back
// with a compare-and-swap of the flags, and refuses while the backend has
// the page mapped (GTF_reading/GTF_writing): the page is still the
// backend's to write. close() refuses while any grant is active, so a frame
// never leaves while an entry in it is live.
#pragma once

#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/platform.h"

namespace mb::pv {

using GrantRef = uint32_t;

class GrantTable {
 public:
  // Entries 0..7 are the toolstack's (console, xenstore): never handed out.
  static constexpr GrantRef kFirstFree = 8;
  static constexpr unsigned kEntriesPerFrame = kPageSize / 8;
  static constexpr unsigned kMaxFrames = 2;
  static constexpr unsigned kMaxEntries = kMaxFrames * kEntriesPerFrame;
  // Frames enough for `grants` entries of ours (after the toolstack's).
  static constexpr unsigned frames_for(unsigned grants) {
    return (grants + kFirstFree + kEntriesPerFrame - 1) / kEntriesPerFrame;
  }

  GrantTable(Hypercalls& h, GuestMemory& mem) : h_(h), mem_(mem) {}
  GrantTable(const GrantTable&) = delete;
  GrantTable& operator=(const GrantTable&) = delete;

  // Maps `frames` frames at the first pages of `region`. Fails:
  //   "grant-region"  region empty, too small, or overlapping `ram`
  //   "grant-map"     Xen refused a frame (the frames mapped before it are
  //                   removed again: nothing is left half-open)
  Res<void> open(PhysRange region, std::span<const PhysRange> ram, unsigned frames);
  bool is_open() const { return frames_ != 0; }

  // Grants `domid` access to the page at `frame`. "grant-full": no free entry.
  Res<GrantRef> grant(uint16_t domid, Gfn frame, bool readonly);
  // Ends the grant. "grant-in-use": the backend still has the page mapped
  // (the entry stays valid; try again after the backend let go).
  Res<void> end(GrantRef ref);
  // Removes every frame. "grant-active": a grant is still valid (nothing
  // removed). "grant-unmap": Xen refused a removal (the rest are still tried).
  Res<void> close();

  unsigned frames() const { return frames_; }
  Gfn frame_gfn(unsigned i) const { return Gfn{base_.value + i}; }
  unsigned active() const { return active_; }
  // Totals, for the report.
  unsigned granted_total() const { return granted_total_; }
  unsigned ended_total() const { return ended_total_; }
  unsigned frames_mapped_total() const { return frames_total_; }
  unsigned frames_removed_total() const { return removed_total_; }

 private:
  GuestPhys entry(GrantRef ref) const { return base_.addr() + uint64_t{ref} * 8; }
  Res<void> remove_frames(unsigned count);

  Hypercalls& h_;
  GuestMemory& mem_;
  Gfn base_{};
  unsigned frames_ = 0;
  unsigned active_ = 0;
  unsigned granted_total_ = 0;
  unsigned ended_total_ = 0;
  unsigned frames_total_ = 0;
  unsigned removed_total_ = 0;
  uint32_t used_[kMaxEntries / 32] = {};  // one bit per entry we handed out
};

}  // namespace mb::pv
