#include "magicboot/pv/blkfront.h"

#include <cstring>

#include "magicboot/format.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/pv/deadline.h"
#include "magicboot/pv/xenbus.h"

namespace mb::pv {
namespace {

using Opt = BlkfrontOptions;
constexpr uint32_t kSector = 512;  // blkif counts 512-byte sectors, whatever the disk's
constexpr uint32_t kReadyWaitMs = 2000;  // for InitWait after our Initialising
constexpr uint32_t kSectorsPerPage = kPageSize / kSector;
constexpr size_t kSlot = sizeof(blkif_sring_entry);
constexpr unsigned kSegsPerIndirectPage = kPageSize / sizeof(blkif_request_segment);

// Requests a ring of 2^order pages holds (__CONST_RING_SIZE: a power of two).
constexpr unsigned ring_slots(unsigned order) { return __CONST_RING_SIZE(blkif, kPageSize << order); }

static_assert(sizeof(blkif_request_t) == 112 && sizeof(blkif_response_t) == 16);
static_assert(sizeof(blkif_request_indirect_t) <= kSlot && sizeof(blkif_request_segment) == 8,
              "arm64's blkif layout: an indirect request fits a slot");
static_assert(offsetof(blkif_sring, ring) == 64, "the shared ring's header");
static_assert(ring_slots(0) == 32 && ring_slots(Opt::kMaxRingOrder) == 32u << Opt::kMaxRingOrder);
static_assert(Opt::kMaxRingOrder <= 4, "XENBUS_MAX_RING_GRANT_ORDER");
static_assert(Opt::kMaxInFlight <= ring_slots(Opt::kMaxRingOrder) && Opt::kMaxInFlight <= 64,
              "requests in flight: within the largest ring, one bit each in read_chunk's answered mask");
static_assert(Opt::kMaxIndirectSegments <= kSegsPerIndirectPage,
              "one indirect page per request (blkif_request_indirect's first indirect_grefs)");
static_assert(Opt::kMaxIndirectSegments > BLKIF_MAX_SEGMENTS_PER_REQUEST &&
              Opt::kMaxIndirectSegments <= Opt::kMaxDataPages);
static_assert(Opt::kMaxIndirectSegments <= UINT16_MAX, "blkif_request_indirect's nr_segments");
static_assert(Blkfront::kGrantFrames <= GrantTable::kMaxFrames,
              "the ring, data and indirect pages' grants fit the grant table");

GuestPhys slot_at(GuestPhys ring, unsigned slots, uint32_t index) {
  return ring + offsetof(blkif_sring, ring) + uint64_t{index % slots} * kSlot;
}

unsigned least(unsigned a, unsigned b) { return a < b ? a : b; }

}  // namespace

BlkfrontLayout Blkfront::plan(unsigned pages, unsigned offered_order, unsigned offered_segments,
                              const BlkfrontOptions& want) {
  BlkfrontLayout l;
  if (pages > kMaxPages) pages = kMaxPages;
  l.ring_order = least(least(want.ring_order, offered_order), Opt::kMaxRingOrder);
  while (l.ring_order > 0 && (1u << l.ring_order) + 1 > pages) --l.ring_order;
  l.ring_pages = 1u << l.ring_order;
  l.slots = ring_slots(l.ring_order);
  const unsigned window = want.max_data_pages == 0 ? 1 : least(want.max_data_pages, Opt::kMaxDataPages);
  const unsigned segs =
      least(least(least(want.indirect_segments, offered_segments), Opt::kMaxIndirectSegments), window);
  l.indirect = segs > kSegments;
  l.segments = l.indirect ? segs : kSegments;
  const unsigned avail = pages > l.ring_pages ? pages - l.ring_pages : 0;
  const unsigned per = l.segments + (l.indirect ? 1 : 0);
  unsigned n = least(least(want.max_in_flight, l.slots), Opt::kMaxInFlight);
  n = least(least(n, avail / per), window / l.segments);
  if (n == 0) {
    // Fewer pages than one whole request: one smaller request.
    n = 1;
    if (l.indirect && avail > kSegments + 1) {
      l.segments = avail - 1;
    } else {
      l.indirect = false;
      l.segments = least(least(kSegments, avail), window);
    }
  }
  l.in_flight = n;
  l.data_pages = n * l.segments;
  l.indirect_pages = l.indirect ? n : 0;
  return l;
}

unsigned Blkfront::pages_for(const BlkfrontOptions& want) {
  // plan() never uses a larger ring, more requests or larger ones than
  // these, whatever is offered.
  const unsigned order = least(want.ring_order, Opt::kMaxRingOrder);
  const unsigned window = want.max_data_pages == 0 ? 1 : least(want.max_data_pages, Opt::kMaxDataPages);
  unsigned n = least(least(want.max_in_flight, Opt::kMaxInFlight), ring_slots(order));
  if (n == 0) n = 1;  // plan() always puts one request in flight
  // Direct requests: whole 11-page ones within the window (or one smaller).
  unsigned pages = (1u << order) + least(least(n, window / kSegments) * kSegments, window);
  if (window < kSegments) pages = (1u << order) + window;
  const unsigned segs = least(least(want.indirect_segments, Opt::kMaxIndirectSegments), window);
  if (segs > kSegments) {
    // Indirect requests of 12..segs pages (as offered): the window, and an
    // indirect page for each request, at most window / 12 of them.
    const unsigned ind = (1u << order) + window + least(n, window / (kSegments + 1));
    if (ind > pages) pages = ind;
  }
  return least(pages, kMaxPages);
}

Res<void> Blkfront::connect(PhysRange pages, uint32_t vdev, uint32_t timeout_ms, const BlkfrontOptions& want) {
  timeout_ms_ = timeout_ms;
  if (pages.base.value % kPageSize != 0 || pages.size < 2 * kPageSize)
    return MB_ERR(ErrorCode::kBadInput, "vbd-pages", "[%#lx, +%#lx) is not 2 or more whole pages", pages.base.value,
                  pages.size);
  pages_ = pages;

  if (vdev == 0) {
    char names[256];
    auto count = xs_.directory("device/vbd", names, sizeof names);
    if (!count.ok() || *count == 0)
      return MB_ERR(ErrorCode::kUnsupported, "vbd-none", "no PV disk: device/vbd %s",
                    count.ok() ? "is empty" : count.error().detail);
    uint64_t v = 0;
    for (const char* p = names; *p; ++p) v = v * 10 + static_cast<unsigned>(*p - '0');
    vdev = static_cast<uint32_t>(v);
  }
  vdev_ = vdev;
  format_to(dir_, sizeof dir_, "device/vbd/%u", vdev);
  char path[XenStore::kMaxPath];
  MB_CHECK(xs_path(path, sizeof path, dir_, "backend"));
  auto backend = xs_.read(path, backend_, sizeof backend_);
  if (!backend.ok())
    return MB_ERR(ErrorCode::kUnsupported, "vbd-none", "no PV disk %u: %s: %s", vdev, path, backend.error().detail);
  MB_CHECK(xs_path(path, sizeof path, dir_, "backend-id"));
  auto id = xs_.read_u64(path);
  if (!id.ok() || *id >= DOMID_FIRST_RESERVED)
    return MB_ERR(ErrorCode::kBadInput, "vbd-backend", "%s: %s", path, id.ok() ? "not a domain" : id.error().detail);
  backend_id_ = static_cast<uint16_t>(*id);

  auto done = handshake(timeout_ms, want);
  if (!done.ok()) (void)disconnect();
  return done;
}

// A feature the backend offers in its directory; absent or unreadable is
// "not offered" (0), as Linux's xenbus_read_unsigned(..., 0) has it.
unsigned Blkfront::offered(const char* key) {
  char path[XenStore::kMaxPath];
  if (!xs_path(path, sizeof path, backend_, key).ok()) return 0;
  auto v = xs_.read_u64(path);
  return v.ok() && *v <= UINT16_MAX ? static_cast<unsigned>(*v) : 0;
}

Res<void> Blkfront::handshake(uint32_t timeout_ms, const BlkfrontOptions& want) {
  // The backend must be waiting for a frontend; a Connected one serves
  // somebody else's ring.
  MB_CHECK(wait_state(xs_, h_, cpu_, backend_, state_bit(XenbusStateInitWait),
                      state_bit(XenbusStateConnected) | state_bit(XenbusStateClosing), timeout_ms, "vbd-connect"));
  // blkback writes its features before it goes InitWait (xen_blkbk_probe).
  stats_.offered_ring_order = offered("max-ring-page-order");
  stats_.offered_indirect_segments = offered("feature-max-indirect-segments");
  layout_ = plan(static_cast<unsigned>(pages_.size / kPageSize), stats_.offered_ring_order,
                 stats_.offered_indirect_segments, want);
  stats_.data_pages = layout_.data_pages;
  stats_.ring_pages = layout_.ring_pages;
  stats_.indirect_segments = layout_.indirect ? layout_.segments : 0;

  // A fresh ring: the indices zero, events wanted from the first response.
  MB_CHECK(mem_.fill(page(0), 0, uint64_t{layout_.ring_pages} * kPageSize));
  MB_CHECK(mem_.store32(page(0) + offsetof(blkif_sring, req_event), 1));
  MB_CHECK(mem_.store32(page(0) + offsetof(blkif_sring, rsp_event), 1));
  mem_.barrier();
  req_prod_ = rsp_cons_ = 0;
  // Every page writable, the indirect ones too: a backend using persistent
  // grants maps them all for writing (blkif.h note 8).
  for (unsigned i = 0; i < layout_.pages(); ++i) {
    grants_[i] = MB_TRY(gnt_.grant(backend_id_, page(i).gfn(), false));
    granted_ = i + 1;
  }
  auto port = xen::evtchn_alloc_unbound(h_, backend_id_);
  if (!port.ok())
    return MB_ERR(ErrorCode::kHypercall, "evtchn-alloc", "a port for domain %u: %s", backend_id_,
                  xen::to_string(port.error()));
  port_ = *port;

  MB_CHECK(publish());
  published_ = true;
  MB_CHECK(switch_state(xs_, dir_, XenbusStateInitialised));
  MB_CHECK(wait_state(xs_, h_, cpu_, backend_, state_bit(XenbusStateConnected),
                      state_bit(XenbusStateClosing) | state_bit(XenbusStateClosed), timeout_ms, "vbd-connect"));

  char path[XenStore::kMaxPath];
  MB_CHECK(xs_path(path, sizeof path, backend_, "sectors"));
  sectors_ = MB_TRY(xs_.read_u64(path));
  MB_CHECK(xs_path(path, sizeof path, backend_, "sector-size"));
  const uint64_t size = MB_TRY(xs_.read_u64(path));
  if (size < 512 || size > loader::kMaxSectorSize || (size & (size - 1)) != 0 || sectors_ == 0 ||
      sectors_ > (UINT64_MAX / size))
    return MB_ERR(ErrorCode::kBadInput, "vbd-backend", "%s: %lu sectors of %lu bytes is not a disk", backend_,
                  sectors_, size);
  sector_size_ = static_cast<uint32_t>(size);
  // blkback reports its size in 512-byte sectors whatever the sector size
  // (Linux's blkfront reads it so too).
  sectors_ = sectors_ * kSector / sector_size_;
  MB_CHECK(switch_state(xs_, dir_, XenbusStateConnected));
  connected_ = true;
  return {};
}

Res<void> Blkfront::publish() {
  for (unsigned attempt = 0;; ++attempt) {
    const uint32_t tx = MB_TRY(xs_.transaction_start());
    char path[XenStore::kMaxPath];
    char value[16];
    auto write = [&](const char* key, const char* v) -> Res<void> {
      MB_CHECK(xs_path(path, sizeof path, dir_, key));
      return xs_.write(path, v, tx);
    };
    Res<void> done;
    if (layout_.ring_order == 0) {
      format_to(value, sizeof value, "%u", grants_[0]);
      done = write("ring-ref", value);
    } else {
      // A multi-page ring: its order, and a ring-ref<i> per page.
      format_to(value, sizeof value, "%u", layout_.ring_order);
      done = write("ring-page-order", value);
      for (unsigned i = 0; done.ok() && i < layout_.ring_pages; ++i) {
        char key[16];
        format_to(key, sizeof key, "ring-ref%u", i);
        format_to(value, sizeof value, "%u", grants_[i]);
        done = write(key, value);
      }
    }
    format_to(value, sizeof value, "%u", port_);
    if (done.ok()) done = write("event-channel", value);
    if (done.ok()) done = write("protocol", XEN_IO_PROTO_ABI_ARM);
    // Our data pages are granted once and reused: blkback may keep them
    // mapped (it unmaps them all when it disconnects) instead of mapping
    // and unmapping each one for every request.
    if (done.ok()) done = write("feature-persistent", "1");
    if (!done.ok()) {
      (void)xs_.transaction_end(tx, false);
      return done;
    }
    if (MB_TRY(xs_.transaction_end(tx, true))) return {};
    if (attempt == 8)
      return MB_ERR(ErrorCode::kBusy, "vbd-publish", "xenstored asked to retry the transaction 9 times");
  }
}

Res<void> Blkfront::read(uint64_t lba, uint64_t count, uint8_t* buf) {
  auto copy = [](void* ctx, const uint8_t* data, size_t len) -> Res<void> {
    auto** at = static_cast<uint8_t**>(ctx);
    memcpy(*at, data, len);
    *at += len;
    return {};
  };
  return read_each(lba, count, copy, &buf);
}

Res<void> Blkfront::read_each(uint64_t lba, uint64_t count, Visit use, void* ctx) {
  if (!connected_) return MB_ERR(ErrorCode::kBadInput, "disk-read", "the PV disk %s is not connected", dir_);
  if (lba > sectors_ || count > sectors_ - lba)
    return MB_ERR(ErrorCode::kBadInput, "disk-read", "sectors [%lu, +%lu) are past the end of %s (%lu sectors)", lba,
                  count, dir_, sectors_);
  uint64_t sector = lba * (sector_size_ / kSector);
  uint64_t bytes = count * sector_size_;
  const uint64_t chunk = uint64_t{layout_.data_pages} * kPageSize;
  while (bytes > 0) {
    const uint32_t n = static_cast<uint32_t>(bytes < chunk ? bytes : chunk);
    MB_CHECK(read_chunk(sector, n));
    // The data where blkback put it: no copy unless the visitor makes one.
    const uint8_t* data = MB_TRY(mem_.view(page(data_index(0)), n));
    MB_CHECK(use(ctx, data, n));
    stats_.bytes += n;
    sector += n / kSector;
    bytes -= n;
  }
  return {};
}

// Up to the window's pages of requests on the ring at once, then their
// answers.
Res<void> Blkfront::read_chunk(uint64_t sector512, uint32_t bytes) {
  const GuestPhys ring = page(0);
  const unsigned slots = layout_.slots;
  const unsigned segs = layout_.segments;
  const unsigned pages = (bytes + kPageSize - 1) / kPageSize;
  const unsigned requests = (pages + segs - 1) / segs;
  auto segment = [&](unsigned p) -> blkif_request_segment {
    const uint32_t in_page = p + 1 < pages ? kPageSize : bytes - p * kPageSize;
    return {grants_[data_index(p)], 0, static_cast<uint8_t>(in_page / kSector - 1)};
  };
  for (unsigned r = 0; r < requests; ++r) {
    const unsigned first = r * segs;
    const unsigned last = first + segs < pages ? first + segs : pages;
    const uint64_t sector = sector512 + uint64_t{first} * kSectorsPerPage;
    if (!layout_.indirect) {
      blkif_request_t req{};
      req.operation = BLKIF_OP_READ;
      req.handle = static_cast<blkif_vdev_t>(vdev_);
      req.id = r;
      req.sector_number = sector;
      req.nr_segments = static_cast<uint8_t>(last - first);
      for (unsigned p = first; p < last; ++p) req.seg[p - first] = segment(p);
      MB_CHECK(mem_.write(slot_at(ring, slots, req_prod_ + r), &req, sizeof req));
      continue;
    }
    // The segments in this request's own indirect page, the request naming it.
    blkif_request_segment list[Opt::kMaxIndirectSegments];
    for (unsigned p = first; p < last; ++p) list[p - first] = segment(p);
    MB_CHECK(mem_.write(page(indirect_index(r)), list, (last - first) * sizeof list[0]));
    blkif_request_indirect_t req{};
    req.operation = BLKIF_OP_INDIRECT;
    req.indirect_op = BLKIF_OP_READ;
    req.nr_segments = static_cast<uint16_t>(last - first);
    req.id = r;
    req.sector_number = sector;
    req.handle = static_cast<blkif_vdev_t>(vdev_);
    req.indirect_grefs[0] = grants_[indirect_index(r)];
    MB_CHECK(mem_.write(slot_at(ring, slots, req_prod_ + r), &req, sizeof req));
  }
  // One event when the last of them is answered: we look at nothing
  // before that. Set before the requests are published, so no answer can
  // come ahead of it.
  MB_CHECK(mem_.store32(ring + offsetof(blkif_sring, rsp_event), req_prod_ + requests));
  mem_.barrier();  // the requests (and indirect pages) before the index that publishes them
  req_prod_ += requests;
  MB_CHECK(mem_.store32(ring + offsetof(blkif_sring, req_prod), req_prod_));
  (void)xen::evtchn_send(h_, port_);
  stats_.requests += requests;
  if (requests > stats_.max_in_flight) stats_.max_in_flight = requests;

  uint64_t answered = 0;  // bit r: request r answered
  Deadline wait(h_, cpu_, timeout_ms_, WakePort{&mem_, shared_info_, port_});
  for (unsigned done = 0; done < requests;) {
    const uint32_t prod = MB_TRY(mem_.load32(ring + offsetof(blkif_sring, rsp_prod)));
    if (prod - rsp_cons_ > requests - done)
      return MB_ERR(ErrorCode::kBadInput, "blkif-response", "rsp_prod %u: %u responses for %u outstanding requests",
                    prod, prod - rsp_cons_, requests - done);
    if (prod == rsp_cons_) {
      ++stats_.waits;
      if (!wait.pause())
        return MB_ERR(ErrorCode::kHypercall, "vbd-timeout", "%s: %u of %u requests unanswered after %u ms", dir_,
                      requests - done, requests, timeout_ms_);
      continue;
    }
    mem_.barrier();  // the index before the responses it publishes
    for (; rsp_cons_ != prod; ++rsp_cons_, ++done) {
      blkif_response_t rsp;
      MB_CHECK(mem_.read(slot_at(ring, slots, rsp_cons_), &rsp, sizeof rsp));
      // blkback answers an indirect read as a read; Linux's blkfront also
      // takes BLKIF_OP_INDIRECT for one.
      const bool op_ok = rsp.operation == BLKIF_OP_READ || (layout_.indirect && rsp.operation == BLKIF_OP_INDIRECT);
      if (rsp.id >= requests || (answered & (uint64_t{1} << rsp.id)) || !op_ok)
        return MB_ERR(ErrorCode::kBadInput, "blkif-response", "response id %lu, operation %u answers no request",
                      rsp.id, rsp.operation);
      answered |= uint64_t{1} << rsp.id;
      if (rsp.status != BLKIF_RSP_OKAY)
        return MB_ERR(ErrorCode::kHypercall, "disk-read", "%s: reading sector %lu: backend status %d", dir_,
                      sector512 + rsp.id * segs * kSectorsPerPage, rsp.status);
    }
  }
  stats_.sleeps += wait.sleeps();
  return {};
}

Res<void> Blkfront::end_grants() {
  Deadline wait(h_, cpu_, timeout_ms_);
  while (granted_ > 0) {
    auto ended = gnt_.end(grants_[granted_ - 1]);
    if (ended.ok()) {
      --granted_;
      continue;
    }
    // A backend still unmapping: give it the rest of the time.
    if (strcmp(ended.error().check, "grant-in-use") == 0 && wait.pause()) continue;
    return ended;
  }
  return {};
}

Res<void> Blkfront::disconnect() {
  FirstFailure first;
  auto keep = [&first](const auto& r) { first.keep(r); };
  if (published_) {
    // Closing, then Closed: blkback unmaps the ring and unbinds when it sees
    // Closed, and says so by going Closed itself.
    constexpr uint32_t kGone = state_bit(XenbusStateClosing) | state_bit(XenbusStateClosed);
    keep(switch_state(xs_, dir_, XenbusStateClosing));
    auto s = wait_state(xs_, h_, cpu_, backend_, kGone | state_bit(XenbusStateInitWait), 0, timeout_ms_, "vbd-close");
    keep(s);
    keep(switch_state(xs_, dir_, XenbusStateClosed));
    s = wait_state(xs_, h_, cpu_, backend_, state_bit(XenbusStateClosed) | state_bit(XenbusStateInitWait), 0,
                   timeout_ms_, "vbd-close");
    keep(s);
    // Initialising: Linux's xenbus probes only a device in that state, and
    // blkback answers it with InitWait -- ready for the next frontend.
    // A backend that stays Closed (one that is not Linux's) is accepted
    // after a short look: the next frontend starts it again itself.
    keep(switch_state(xs_, dir_, XenbusStateInitialising));
    s = wait_state(xs_, h_, cpu_, backend_, state_bit(XenbusStateInitWait), 0,
                   timeout_ms_ < kReadyWaitMs ? timeout_ms_ : kReadyWaitMs, "vbd-close");
    if (!s.ok()) s = read_state(xs_, backend_);
    if (s.ok()) final_backend_state_ = *s;
    if (s.ok() && *s != XenbusStateInitWait && *s != XenbusStateClosed)
      keep(MB_ERR(ErrorCode::kHypercall, "vbd-close", "%s/state is %u (%s) after our Initialising", backend_, *s,
                  xenbus_state_name(*s)));
    keep(s);
    // What we published goes: the device's directory is as the toolstack made it.
    char path[XenStore::kMaxPath];
    for (const char* key : {"event-channel", "protocol", "feature-persistent"})
      if (xs_path(path, sizeof path, dir_, key).ok()) keep(xs_.remove(path));
    if (layout_.ring_order == 0) {
      if (xs_path(path, sizeof path, dir_, "ring-ref").ok()) keep(xs_.remove(path));
    } else {
      char key[16];
      for (unsigned i = 0; i < layout_.ring_pages; ++i) {
        format_to(key, sizeof key, "ring-ref%u", i);
        if (xs_path(path, sizeof path, dir_, key).ok()) keep(xs_.remove(path));
      }
      if (xs_path(path, sizeof path, dir_, "ring-page-order").ok()) keep(xs_.remove(path));
    }
    published_ = false;
  }
  connected_ = false;
  keep(end_grants());
  if (port_ != 0) {
    auto closed = xen::evtchn_close(h_, port_);
    if (closed.ok())
      port_ = 0;
    else
      keep(MB_ERR(ErrorCode::kHypercall, "evtchn-close", "port %u: %s", port_, xen::to_string(closed.error())));
  }
  return first.result();
}

}  // namespace mb::pv
