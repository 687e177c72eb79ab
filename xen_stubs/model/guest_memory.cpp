// Guest-physical access through the P2M, as one accessor sees it.
#include <algorithm>
#include <cstring>

#include "model_impl.h"

namespace mb::model {
namespace {

constexpr size_t kMaxView = size_t{1} << 30;  // a snapshot bigger than this is a bug
constexpr size_t kCopyChunk = size_t{1} << 20;

const char* why(FaultKind k) {
  switch (k) {
    case FaultKind::kHole: return "hole: mapping removed, nothing behind it";
    case FaultKind::kUnmapped: return "never mapped";
    case FaultKind::kReadOnly: return "write to a read-only page";
    case FaultKind::kBusy: return "held by another accessor";
  }
  return "?";
}

// Calls fn(mfn, page_offset, length, offset_in_access) for each page piece
// of [base, base + len). The range was checked: every page is mapped.
template <class Fn>
void for_each_piece(const P2m& p2m, GuestPhys base, size_t len, Fn&& fn) {
  uint64_t first = base.gfn().value;
  uint64_t count = PhysRange{base, len}.page_count();
  p2m.visit(first, count, [&](uint64_t g, uint64_t n, const P2mSlot* s) {
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t page_addr = (g + i) << kPageShift;
      uint64_t lo = std::max(page_addr, base.value);
      uint64_t hi = std::min(page_addr + kPageSize, base.value + len);
      fn(s->mfn + i, lo - page_addr, hi - lo, lo - base.value);
    }
    return true;
  });
}

}  // namespace

Res<void> AccessorMemory::check(GuestPhys base, size_t len, bool write) {
  if (len == 0) return {};
  auto fault = [&](FaultKind kind, uint64_t gfn) -> Res<void> {
    m_.faults.push_back(Fault{kind, Gfn{gfn}, name_, write});
    if (kind == FaultKind::kBusy)
      return MB_ERR(ErrorCode::kBusy, "guest-memory-busy", "%s %s GFN %#lx [%#lx, +%#zx): %s", name_.c_str(),
                    write ? "write" : "read", gfn,
                    base.value, len, why(kind));
    return MB_ERR(ErrorCode::kMemoryFault, "guest-memory-fault", "%s %s GFN %#lx [%#lx, +%#zx): %s",
                  name_.c_str(), write ? "write" : "read", gfn,
                  base.value, len, why(kind));
  };
  if (len > UINT64_MAX - base.value || base.gfn().value + PhysRange{base, len}.page_count() > Model::Impl::kMaxGfn)
    return fault(FaultKind::kUnmapped, std::max(base.gfn().value, Model::Impl::kMaxGfn));

  PhysRange range{base, len};
  for (const auto& h : m_.holds)
    if (h.accessor != name_ && h.range.overlaps(range))
      return fault(FaultKind::kBusy, std::max(h.range.base, base).gfn().value);

  std::optional<std::pair<FaultKind, uint64_t>> bad;
  m_.p2m.visit(base.gfn().value, range.page_count(), [&](uint64_t g, uint64_t, const P2mSlot* s) {
    if (!s) bad = {FaultKind::kUnmapped, g};
    else if (s->hole) bad = {FaultKind::kHole, g};
    else if (write && s->type == PageType::kRamRo) bad = {FaultKind::kReadOnly, g};
    return !bad;
  });
  if (bad) return fault(bad->first, bad->second);
  return {};
}

Res<void> AccessorMemory::read(GuestPhys src, void* dst, size_t len) {
  MB_CHECK(check(src, len, false));
  auto* out = static_cast<uint8_t*>(dst);
  for_each_piece(m_.p2m, src, len, [&](uint64_t mfn, uint64_t off, uint64_t n, uint64_t at) {
    m_.store.read(mfn, off, out + at, n);
  });
  return {};
}

Res<void> AccessorMemory::write(GuestPhys dst, const void* src, size_t len) {
  MB_CHECK(check(dst, len, true));
  const auto* in = static_cast<const uint8_t*>(src);
  for_each_piece(m_.p2m, dst, len, [&](uint64_t mfn, uint64_t off, uint64_t n, uint64_t at) {
    m_.note_write(mfn, off, n);
    m_.store.write(mfn, off, in + at, n);
  });
  return {};
}

void AccessorMemory::barrier() { m_.ring_unfenced = false; }

Res<void> AccessorMemory::fill(GuestPhys dst, uint8_t byte, size_t len) {
  MB_CHECK(check(dst, len, true));
  // Whole pages go in as fill runs, one per P2M extent: a fill of all RAM
  // costs a few map nodes.
  uint64_t first = dst.gfn().value;
  uint64_t count = PhysRange{dst, len}.page_count();
  uint64_t end = dst.value + len;
  m_.p2m.visit(first, count, [&](uint64_t g, uint64_t n, const P2mSlot* s) {
    uint64_t lo = std::max(g << kPageShift, dst.value);
    uint64_t hi = std::min((g + n) << kPageShift, end);
    while (lo < hi) {
      uint64_t pg = lo >> kPageShift;
      uint64_t off = lo & (kPageSize - 1);
      uint64_t mfn = s->mfn + (pg - g);
      if (off == 0 && hi - lo >= kPageSize) {
        uint64_t pages = (hi - lo) >> kPageShift;
        m_.store.fill_pages(mfn, pages, byte);
        lo += pages << kPageShift;
      } else {
        uint64_t stop = std::min(hi, (pg + 1) << kPageShift);
        m_.store.fill(mfn, off, byte, stop - lo);
        lo = stop;
      }
    }
    return true;
  });
  return {};
}

Res<void> AccessorMemory::copy(GuestPhys dst, GuestPhys src, size_t len) {
  MB_CHECK(check(src, len, false));
  MB_CHECK(check(dst, len, true));
  if (len == 0 || dst == src) return {};
  // memmove: when dst lies above an overlapping src, go from the end.
  std::vector<uint8_t> buf(std::min(len, kCopyChunk));
  bool backwards = dst > src && dst - src < len;
  for (size_t done = 0; done < len;) {
    size_t n = std::min(len - done, buf.size());
    size_t at = backwards ? len - done - n : done;
    for_each_piece(m_.p2m, src + at, n, [&](uint64_t mfn, uint64_t off, uint64_t k, uint64_t b) {
      m_.store.read(mfn, off, buf.data() + b, k);
    });
    for_each_piece(m_.p2m, dst + at, n, [&](uint64_t mfn, uint64_t off, uint64_t k, uint64_t b) {
      m_.store.write(mfn, off, buf.data() + b, k);
    });
    done += n;
  }
  return {};
}

Res<const uint8_t*> AccessorMemory::view(GuestPhys base, size_t len) {
  if (len > kMaxView)
    return MB_ERR(ErrorCode::kNoMemory, "guest-memory-view", "%s view [%#lx, +%#zx) larger than the model's %#zx",
                  name_.c_str(), base.value, len, kMaxView);
  MB_CHECK(check(base, len, false));
  auto& snap = views_.emplace_back(std::max<size_t>(len, 1));
  for_each_piece(m_.p2m, base, len, [&](uint64_t mfn, uint64_t off, uint64_t n, uint64_t at) {
    m_.store.read(mfn, off, snap.data() + at, n);
  });
  return static_cast<const uint8_t*>(snap.data());
}

}  // namespace mb::model
