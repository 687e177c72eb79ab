// The PV block frontend (xen/io/blkif.h): a disk that dom0's blkback serves,
// read through a shared ring and pages granted to the backend.
//
// connect() finds the vbd under device/vbd/ that the toolstack set up,
// grants its ring page and data pages, allocates an event channel for the
// backend to bind, publishes them in one transaction, and holds the xenbus
// handshake (Initialised, backend Connected, Connected). read() keeps up to
// kMaxInFlight requests of up to 11 pages each on the ring at once and
// polls for their answers (no interrupts). disconnect() undoes all of it in
// the protocol's order -- Closing, backend Closing; Closed, backend Closed
// (it has unmapped the ring and unbound); Initialising, backend InitWait --
// and only then ends the grants and closes the port, so Linux's blkfront
// finds the device new and its backend ready, and no page of ours is still
// the backend's to write.
#pragma once

#include <cstdint>

#include "magicboot/error.h"
#include "magicboot/hypercall/xen_abi.h"
#include "magicboot/loader/disk/block_device.h"
#include "magicboot/platform.h"
#include "magicboot/pv/grant_table.h"
#include "magicboot/pv/xenstore.h"

namespace mb::pv {

struct BlkfrontStats {
  uint64_t requests = 0;
  uint64_t bytes = 0;
  unsigned max_in_flight = 0;
  unsigned data_pages = 0;
};

class Blkfront final : public loader::BlockDevice {
 public:
  static constexpr unsigned kSegments = BLKIF_MAX_SEGMENTS_PER_REQUEST;  // pages per request
  static constexpr unsigned kRingSlots = 32;                              // one ring page
  static constexpr unsigned kMaxInFlight = 16;  // 32 (the whole ring) measured no faster
  // The pages connect() needs at most: the ring, and the data pages.
  static constexpr unsigned kMaxPages = 1 + kMaxInFlight * kSegments;
  static constexpr uint32_t kDefaultTimeoutMs = 10000;

  Blkfront(Hypercalls& h, GuestMemory& mem, Cpu& cpu, XenStore& xs, GrantTable& gnt)
      : h_(h), mem_(mem), cpu_(cpu), xs_(xs), gnt_(gnt) {}
  Blkfront(const Blkfront&) = delete;
  Blkfront& operator=(const Blkfront&) = delete;

  // `pages`: page-aligned RAM the loader owns, at least 2 pages (the ring,
  // then data pages; at most kMaxPages are used). `vdev`: the device's
  // number under device/vbd/, 0 for the first one there. Fails, with
  // everything it opened undone:
  //   "vbd-none"       no such device (no disk = [...] in the config)
  //   "vbd-backend"    the device's backend, backend-id or geometry is unreadable or wrong
  //   "vbd-connect"    the backend did not reach Connected within the timeout
  //   "vbd-pages"      `pages` is too small or not page-aligned
  //   "evtchn-alloc", grant and xenstore errors as they come
  Res<void> connect(PhysRange pages, uint32_t vdev = 0, uint32_t timeout_ms = kDefaultTimeoutMs);
  bool connected() const { return connected_; }

  uint32_t sector_size() const override { return sector_size_; }
  uint64_t sector_count() const override { return sectors_; }
  // "disk-read": outside the disk, not connected, or the backend answered
  // an error; "blkif-response": a response that answers no request of ours;
  // "vbd-timeout": the backend did not answer in time.
  Res<void> read(uint64_t lba, uint64_t count, uint8_t* buf) override;
  // The same sectors, each ring-full handed to `use` as it lies in the
  // granted pages (valid until the next read): a reader that only looks at
  // the bytes (a hash) needs no buffer and no copy.
  using Visit = Res<void> (*)(void* ctx, const uint8_t* data, size_t len);
  Res<void> read_each(uint64_t lba, uint64_t count, Visit use, void* ctx);

  // Everything connect() opened, closed as the protocol says. Safe to call
  // on a half-connected or closed frontend. "vbd-close": the backend did
  // not follow (what could be undone still was).
  Res<void> disconnect();

  const char* frontend() const { return dir_; }
  const char* backend() const { return backend_; }
  uint16_t backend_id() const { return backend_id_; }
  uint32_t port() const { return port_; }
  unsigned final_backend_state() const { return final_backend_state_; }
  const BlkfrontStats& stats() const { return stats_; }

 private:
  Res<void> handshake(uint32_t timeout_ms);
  Res<void> publish();
  // Puts the requests for `bytes` on the ring and waits for every answer;
  // the data is then in pages 1.. .
  Res<void> read_chunk(uint64_t sector512, uint32_t bytes);
  Res<void> end_grants();
  GuestPhys page(unsigned i) const { return pages_.base + uint64_t{i} * kPageSize; }

  Hypercalls& h_;
  GuestMemory& mem_;
  Cpu& cpu_;
  XenStore& xs_;
  GrantTable& gnt_;
  PhysRange pages_{};
  unsigned data_pages_ = 0;
  GrantRef grants_[kMaxPages] = {};
  unsigned granted_ = 0;  // grants_[0..granted_) are live
  uint32_t port_ = 0;     // 0: none allocated
  bool published_ = false;  // our state is past Initialising
  bool connected_ = false;
  uint32_t timeout_ms_ = kDefaultTimeoutMs;
  uint32_t vdev_ = 0;
  uint16_t backend_id_ = 0;
  uint32_t sector_size_ = 512;
  uint64_t sectors_ = 0;
  uint32_t req_prod_ = 0;
  uint32_t rsp_cons_ = 0;
  unsigned final_backend_state_ = 0;
  BlkfrontStats stats_;
  char dir_[32] = {};
  char backend_[XenStore::kMaxPath] = {};
};

}  // namespace mb::pv
