#include "grant_twin.h"

#include <algorithm>
#include <string>

namespace mb::model {
namespace {

constexpr uint16_t kBusy = GTF_reading | GTF_writing;
constexpr uint64_t kFlagsEnd = offsetof(grant_entry_v1_t, domid);  // flags: bytes [0, 2)
static_assert(sizeof(grant_entry_v1_t) == 8 && offsetof(grant_entry_v1_t, frame) == 4);

bool is_permit(uint16_t flags) { return (flags & GTF_type_mask) == GTF_permit_access; }

}  // namespace

GrantTwin::GrantTwin(Model::Impl& m) : m_(m) {}

uint64_t GrantTwin::frame_mfn(uint32_t ref) const { return m_.grant_mfn + ref / kPerFrame; }

uint32_t GrantTwin::entries() const { return m_.grant_nr_frames * kPerFrame; }

grant_entry_v1_t GrantTwin::entry(uint32_t ref) const {
  grant_entry_v1_t e{};
  if (ref < kMaxGrantFrames * kPerFrame) m_.store.read(frame_mfn(ref), frame_offset(ref), &e, sizeof e);
  return e;
}

void GrantTwin::set_flags(uint32_t ref, uint16_t set, uint16_t clear) {
  grant_entry_v1_t e = entry(ref);
  e.flags = static_cast<uint16_t>((e.flags | set) & ~clear);
  m_.store.write(frame_mfn(ref), frame_offset(ref), &e.flags, sizeof e.flags);
}

int16_t GrantTwin::map(uint32_t ref, domid_t dom, bool readonly, Mapped* out) {
  if (ref >= entries()) return GNTST_bad_gntref;
  const grant_entry_v1_t e = entry(ref);
  if (!is_permit(e.flags) || e.domid != dom) return GNTST_general_error;
  if (!readonly && (e.flags & GTF_readonly)) return GNTST_general_error;  // write-pin of a r/o entry
  auto s = m_.p2m.slot(e.frame);
  if (!s || s->hole) return GNTST_bad_page;
  auto f = m_.frames.info(s->mfn);
  if (!f || f->owner != Owner::kGuest || (f->type != PageType::kRamRw && f->type != PageType::kMagic))
    return GNTST_bad_page;
  if (flags_unfenced_[ref]) {
    m_.ring_errors.push_back("grant " + std::to_string(ref) + ": made valid while its frame/domid, written before, " +
                             "were not yet ordered by a barrier (Xen may read the old frame)");
    flags_unfenced_[ref] = false;
  }
  Pin& p = pins_[ref];
  p.page = Mapped{s->mfn, e.frame};
  if (readonly)
    ++p.readers;
  else
    ++p.writers;
  set_flags(ref, static_cast<uint16_t>(GTF_reading | (readonly ? 0 : GTF_writing)), 0);
  if (out) *out = p.page;
  return GNTST_okay;
}

void GrantTwin::unmap(uint32_t ref, bool readonly) {
  auto it = pins_.find(ref);
  if (it == pins_.end()) return;
  Pin& p = it->second;
  unsigned& n = readonly ? p.readers : p.writers;
  if (n == 0) return;
  --n;
  uint16_t clear = 0;
  if (p.writers == 0) clear |= GTF_writing;
  if (p.readers == 0 && p.writers == 0) {
    clear |= GTF_reading;
    pins_.erase(it);
  }
  set_flags(ref, 0, clear);
}

void GrantTwin::restamp_pinned() {
  for (const auto& [ref, p] : pins_)
    if (ref < entries())
      set_flags(ref, static_cast<uint16_t>(GTF_reading | (p.writers ? GTF_writing : 0)), 0);
}

std::vector<GrantInfo> GrantTwin::active(uint32_t first) const {
  std::vector<GrantInfo> out;
  const uint32_t n = entries();
  for (uint32_t frame = first / kPerFrame; frame * kPerFrame < n; ++frame) {
    for (uint32_t ref = std::max(first, frame * kPerFrame); ref < (frame + 1) * kPerFrame; ++ref) {
      const grant_entry_v1_t e = entry(ref);
      if (e.flags & (GTF_permit_access | kBusy)) out.push_back({ref, e.flags, e.domid, e.frame});
    }
  }
  return out;
}

void GrantTwin::seed_toolstack_entries(uint64_t console_gfn, uint64_t xenstore_gfn) {
  const std::pair<uint32_t, uint64_t> seeds[] = {{GNTTAB_RESERVED_CONSOLE, console_gfn},
                                                 {GNTTAB_RESERVED_XENSTORE, xenstore_gfn}};
  for (auto [ref, gfn] : seeds) {
    const grant_entry_v1_t e{GTF_permit_access, 0, static_cast<uint32_t>(gfn)};
    m_.store.write(frame_mfn(ref), frame_offset(ref), &e, sizeof e);
    (void)map(ref, 0, false, nullptr);  // xenconsoled / xenstored map it for good
  }
}

void GrantTwin::note_write(uint64_t mfn, uint64_t offset, uint64_t len) {
  if (mfn < m_.grant_mfn || mfn - m_.grant_mfn >= kMaxGrantFrames || len == 0) return;
  constexpr uint64_t kDomid = offsetof(grant_entry_v1_t, domid), kFrame = offsetof(grant_entry_v1_t, frame);
  const uint32_t base = static_cast<uint32_t>(mfn - m_.grant_mfn) * kPerFrame;
  const uint64_t end = offset + len;
  const uint64_t now = m_.ring_unfenced.barriers;
  for (uint64_t at = offset - offset % sizeof(grant_entry_v1_t); at < end; at += sizeof(grant_entry_v1_t)) {
    const uint32_t ref = base + static_cast<uint32_t>(at / sizeof(grant_entry_v1_t));
    const uint64_t lo = std::max(offset, at) - at, hi = std::min(end, at + sizeof(grant_entry_v1_t)) - at;
    const bool flags = lo < kFlagsEnd, domid = lo < kFrame && hi > kDomid, frame = hi > kFrame;
    Body& b = body_written_[ref];
    if (flags) {
      // Fields this store writes go out with the flags; fields an earlier
      // store wrote need a barrier between.
      flags_unfenced_[ref] = (!frame && b.frame == now) || (!domid && b.domid == now);
      if (frame) b.frame = kNever;
      if (domid) b.domid = kNever;
    } else {
      if (frame) b.frame = now;
      if (domid) b.domid = now;
    }
  }
}

}  // namespace mb::model
