// The domain's own grant table (v1) as Xen uses it when another domain maps
// one of its grants: gnttab_map_grant_ref / gnttab_unmap_grant_ref seen from
// the granting side. The table lives in Xen's grant frames (Model::Impl's
// grant_mfn), whether or not the guest has them mapped at a GFN: the guest
// writes entries through the GFN it chose, Xen and dom0's backends read them
// here.
//
// A map checks what Xen 4.17's _set_status_v1 and get_paged_frame check, in
// that order: the reference is inside the table (GNTST_bad_gntref); the
// entry's type is exactly GTF_permit_access and its domid is the mapping
// domain, and a writable map of a GTF_readonly entry is refused
// (GNTST_general_error); the frame is a GFN backed by a page of the guest's
// own RAM (GNTST_bad_page). A map sets GTF_reading, and GTF_writing unless it
// is read-only; the unmap of the last writable mapping clears GTF_writing,
// of the last mapping GTF_reading (Xen's pin counts). A mapping holds the
// machine page, not the GFN: it stays valid whatever the guest does to its
// P2M or to the entry afterwards.
//
// The model also checks the guest's side: an entry made valid (its flags
// written with GTF_permit_access) while its frame or domid, written by an
// earlier store, is not yet ordered by GuestMemory::barrier() is a protocol
// error, recorded when the entry is mapped.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "model_impl.h"

namespace mb::model {

class GrantTwin {
 public:
  explicit GrantTwin(Model::Impl& m);

  struct Mapped {
    uint64_t mfn = 0;  // the machine page the grant names
    uint64_t gfn = 0;  // the GFN the entry named when it was mapped
  };
  // gnttab_map_grant_ref by domain `dom`: GNTST_okay with the page in `out`,
  // or the GNTST_ error Xen would give (nothing changes then).
  int16_t map(uint32_t ref, domid_t dom, bool readonly, Mapped* out);
  // gnttab_unmap_grant_ref of one mapping made by map(ref, .., readonly).
  void unmap(uint32_t ref, bool readonly);

  grant_entry_v1_t entry(uint32_t ref) const;
  uint32_t entries() const;  // v1 entries in the table's current frames
  // Entries from `first` on with any of GTF_permit_access (a bit of the
  // type: transitive grants too), GTF_reading or GTF_writing set.
  std::vector<GrantInfo> active(uint32_t first) const;
  // Mappings held now (ref -> pins), for the tick and the introspection API.
  struct Pin {
    unsigned readers = 0;  // read-only mappings
    unsigned writers = 0;  // writable mappings
    Mapped page;
  };
  const std::map<uint32_t, Pin>& pins() const { return pins_; }

  // xc_dom_gnttab_seed: the toolstack grants the console and xenstore rings
  // to dom0 (GNTTAB_RESERVED_CONSOLE/XENSTORE), and xenconsoled and
  // xenstored keep them mapped.
  void seed_toolstack_entries(uint64_t console_gfn, uint64_t xenstore_gfn);
  // Time passes: the flags of every entry a domain holds mapped are
  // written again (GTF_reading, and GTF_writing for a writable pin), as
  // Xen does while they are in use -- and only those; a page over the
  // frame that is not Xen's anymore sees those writes land.
  void restamp_pinned();

  // A guest write to machine page `mfn` (for the barrier check).
  void note_write(uint64_t mfn, uint64_t offset, uint64_t len);

 private:
  static constexpr uint32_t kPerFrame = kPageSize / sizeof(grant_entry_v1_t);
  uint64_t frame_mfn(uint32_t ref) const;
  static size_t frame_offset(uint32_t ref) { return (ref % kPerFrame) * sizeof(grant_entry_v1_t); }
  void set_flags(uint32_t ref, uint16_t set, uint16_t clear);

  Model::Impl& m_;
  std::map<uint32_t, Pin> pins_;
  // The barrier epoch (Impl::ring_unfenced.barriers) in which an entry's
  // frame and domid were last written by a store that did not also write
  // its flags.
  static constexpr uint64_t kNever = ~uint64_t{0};
  struct Body {
    uint64_t frame = kNever;
    uint64_t domid = kNever;
  };
  std::map<uint32_t, Body> body_written_;
  // Entries whose flags were last written while their body was unfenced.
  std::map<uint32_t, bool> flags_unfenced_;
};

}  // namespace mb::model
