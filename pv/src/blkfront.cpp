#include "magicboot/pv/blkfront.h"

#include <cstring>

#include "magicboot/format.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/pv/deadline.h"
#include "magicboot/pv/xenbus.h"

namespace mb::pv {
namespace {

constexpr uint32_t kSector = 512;
constexpr uint32_t kReadyWaitMs = 2000;  // for InitWait after our Initialising  // blkif counts 512-byte sectors, whatever the disk's
constexpr uint32_t kSectorsPerPage = kPageSize / kSector;
static_assert(sizeof(blkif_request_t) == 112 && sizeof(blkif_response_t) == 16);
static_assert(offsetof(blkif_sring, ring) == 64, "the shared ring's header");
static_assert(__CONST_RING_SIZE(blkif, kPageSize) == Blkfront::kRingSlots);
static_assert(Blkfront::kMaxInFlight <= Blkfront::kRingSlots);
static_assert(Blkfront::kMaxPages + GrantTable::kFirstFree <= GrantTable::kEntriesPerFrame,
              "the ring and data pages' grants fit one grant frame");

constexpr size_t kSlot = sizeof(blkif_sring_entry);
GuestPhys slot_at(GuestPhys ring, uint32_t index) {
  return ring + offsetof(blkif_sring, ring) + uint64_t{index % Blkfront::kRingSlots} * kSlot;
}

}  // namespace

Res<void> Blkfront::connect(PhysRange pages, uint32_t vdev, uint32_t timeout_ms) {
  timeout_ms_ = timeout_ms;
  if (pages.base.value % kPageSize != 0 || pages.size < 2 * kPageSize)
    return MB_ERR(ErrorCode::kBadInput, "vbd-pages", "[%#lx, +%#lx) is not 2 or more whole pages", pages.base.value,
                  pages.size);
  pages_ = pages;
  const uint64_t have = pages.size / kPageSize - 1;
  data_pages_ = static_cast<unsigned>(have < kMaxPages - 1 ? have : kMaxPages - 1);
  stats_.data_pages = data_pages_;

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

  auto done = handshake(timeout_ms);
  if (!done.ok()) (void)disconnect();
  return done;
}

Res<void> Blkfront::handshake(uint32_t timeout_ms) {
  // The backend must be waiting for a frontend; a Connected one serves
  // somebody else's ring.
  MB_CHECK(wait_state(xs_, h_, cpu_, backend_, state_bit(XenbusStateInitWait),
                      state_bit(XenbusStateConnected) | state_bit(XenbusStateClosing), timeout_ms, "vbd-connect"));

  // A fresh ring: the indices zero, events wanted from the first response.
  MB_CHECK(mem_.fill(page(0), 0, kPageSize));
  MB_CHECK(mem_.store32(page(0) + offsetof(blkif_sring, req_event), 1));
  MB_CHECK(mem_.store32(page(0) + offsetof(blkif_sring, rsp_event), 1));
  mem_.barrier();
  req_prod_ = rsp_cons_ = 0;
  for (unsigned i = 0; i <= data_pages_; ++i) {
    grants_[i] = MB_TRY(gnt_.grant(backend_id_, (pages_.base + uint64_t{i} * kPageSize).gfn(), false));
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
    format_to(value, sizeof value, "%u", grants_[0]);
    auto done = write("ring-ref", value);
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
  const uint64_t chunk = uint64_t{data_pages_} * kPageSize;
  while (bytes > 0) {
    const uint32_t n = static_cast<uint32_t>(bytes < chunk ? bytes : chunk);
    MB_CHECK(read_chunk(sector, n));
    // The data where blkback put it: no copy unless the visitor makes one.
    const uint8_t* data = MB_TRY(mem_.view(page(1), n));
    MB_CHECK(use(ctx, data, n));
    stats_.bytes += n;
    sector += n / kSector;
    bytes -= n;
  }
  return {};
}

// Up to data_pages_ pages of requests on the ring at once, then their answers.
Res<void> Blkfront::read_chunk(uint64_t sector512, uint32_t bytes) {
  const GuestPhys ring = page(0);
  const unsigned pages = (bytes + kPageSize - 1) / kPageSize;
  const unsigned requests = (pages + kSegments - 1) / kSegments;
  for (unsigned r = 0; r < requests; ++r) {
    blkif_request_t req{};
    req.operation = BLKIF_OP_READ;
    req.handle = static_cast<blkif_vdev_t>(vdev_);
    req.id = r;
    req.sector_number = sector512 + uint64_t{r} * kSegments * kSectorsPerPage;
    const unsigned first = r * kSegments;
    const unsigned last = first + kSegments < pages ? first + kSegments : pages;
    req.nr_segments = static_cast<uint8_t>(last - first);
    for (unsigned p = first; p < last; ++p) {
      const uint32_t in_page = p + 1 < pages ? kPageSize : bytes - p * kPageSize;
      req.seg[p - first] = {grants_[1 + p], 0, static_cast<uint8_t>(in_page / kSector - 1)};
    }
    MB_CHECK(mem_.write(slot_at(ring, req_prod_ + r), &req, sizeof req));
  }
  mem_.barrier();  // the requests before the index that publishes them
  req_prod_ += requests;
  MB_CHECK(mem_.store32(ring + offsetof(blkif_sring, req_prod), req_prod_));
  (void)xen::evtchn_send(h_, port_);
  stats_.requests += requests;
  if (requests > stats_.max_in_flight) stats_.max_in_flight = requests;

  uint32_t answered = 0;  // bit r: request r answered
  Deadline wait(h_, cpu_, timeout_ms_);
  for (unsigned done = 0; done < requests;) {
    const uint32_t prod = MB_TRY(mem_.load32(ring + offsetof(blkif_sring, rsp_prod)));
    if (prod - rsp_cons_ > requests - done)
      return MB_ERR(ErrorCode::kBadInput, "blkif-response", "rsp_prod %u: %u responses for %u outstanding requests",
                    prod, prod - rsp_cons_, requests - done);
    if (prod == rsp_cons_) {
      if (!wait.pause())
        return MB_ERR(ErrorCode::kHypercall, "vbd-timeout", "%s: %u of %u requests unanswered after %u ms", dir_,
                      requests - done, requests, timeout_ms_);
      continue;
    }
    mem_.barrier();  // the index before the responses it publishes
    for (; rsp_cons_ != prod; ++rsp_cons_, ++done) {
      blkif_response_t rsp;
      MB_CHECK(mem_.read(slot_at(ring, rsp_cons_), &rsp, sizeof rsp));
      if (rsp.id >= requests || (answered & (1u << rsp.id)) || rsp.operation != BLKIF_OP_READ)
        return MB_ERR(ErrorCode::kBadInput, "blkif-response", "response id %lu, operation %u answers no request",
                      rsp.id, rsp.operation);
      answered |= 1u << rsp.id;
      if (rsp.status != BLKIF_RSP_OKAY)
        return MB_ERR(ErrorCode::kHypercall, "disk-read", "%s: reading sector %lu: backend status %d", dir_,
                      sector512 + rsp.id * kSegments * kSectorsPerPage, rsp.status);
    }
    // Responses read before their slots are given back; ask to be told of
    // the next one (we poll, but the protocol's bookkeeping stays true).
    mem_.barrier();
    MB_CHECK(mem_.store32(ring + offsetof(blkif_sring, rsp_event), rsp_cons_ + 1));
  }
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
    for (const char* key : {"ring-ref", "event-channel", "protocol", "feature-persistent"})
      if (xs_path(path, sizeof path, dir_, key).ok()) keep(xs_.remove(path));
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
