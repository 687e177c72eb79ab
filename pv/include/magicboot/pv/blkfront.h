// The PV block frontend (xen/io/blkif.h): a disk that dom0's blkback serves,
// read through a shared ring and pages granted to the backend.
//
// connect() finds the vbd under device/vbd/ that the toolstack set up,
// reads what the backend offers (max-ring-page-order,
// feature-max-indirect-segments), plans its pages (plan()), grants the ring
// page(s), data pages and indirect pages, allocates an event channel for the
// backend to bind, publishes them in one transaction (ring-ref, or
// ring-page-order and ring-ref0..N-1), and holds the xenbus handshake
// (Initialised, backend Connected, Connected). read() keeps up to a window
// of data pages in flight: direct requests of up to 11 pages, or
// BLKIF_OP_INDIRECT requests whose segment descriptors lie in an indirect
// page of their own, and waits for their answers without interrupts: it
// asks the backend to signal the last one (rsp_event) and sleeps on the
// port until then (pv::Deadline), or spins where it cannot sleep. Every
// page is granted once, writable (blkif.h note 8), and reused:
// feature-persistent. disconnect() undoes all of it in the protocol's order
// -- Closing, backend Closing; Closed, backend Closed (it has unmapped the
// ring and every persistent grant, and unbound); Initialising, backend
// InitWait -- and only then ends the grants and closes the port, so Linux's
// blkfront finds the device new and its backend ready, and no page of ours
// is still the backend's to write.
#pragma once

#include <cstdint>

#include "magicboot/error.h"
#include "magicboot/hypercall/xen_abi.h"
#include "magicboot/loader/disk/block_device.h"
#include "magicboot/platform.h"
#include "magicboot/pv/grant_table.h"
#include "magicboot/pv/xenstore.h"

namespace mb::pv {

// What the frontend asks for of the features a backend may offer; each is
// used only when the backend offers it, and only as far as it offers. The
// defaults are what bench-boot --disk measured best (see README, PV disk).
struct BlkfrontOptions {
  static constexpr unsigned kMaxRingOrder = 2;          // 4 ring pages, 128 requests
  static constexpr unsigned kMaxInFlight = 64;          // requests on the ring at once
  static constexpr unsigned kMaxIndirectSegments = 256;  // Linux's blkback offers 256
  static constexpr unsigned kMaxDataPages = 704;        // the largest window: 2.75 MiB in flight

  // The defaults fit one grant frame whatever is offered (pages_for() 487):
  // against Linux's blkback, 14 indirect requests of 32 pages in flight; a
  // backend offering a multi-page ring but no indirect requests gets 40
  // direct ones, one offering neither the whole one-page ring, 32.
  unsigned ring_order = 1;         // a ring of 2^order pages (ring-page-order)
  unsigned indirect_segments = 32;  // pages per BLKIF_OP_INDIRECT request; <= 11: direct requests only
  unsigned max_in_flight = 64;     // requests on the ring at once
  unsigned max_data_pages = 448;   // the window: data pages in flight (at most kMaxDataPages)
};

// How connect() lays out its pages: the ring, then the data pages (one
// contiguous window, so a ring-full is visited where it lies), then one
// indirect page per request in flight.
struct BlkfrontLayout {
  unsigned ring_order = 0;
  unsigned ring_pages = 1;
  unsigned slots = 32;        // requests the ring holds
  unsigned segments = 11;     // data pages per request
  bool indirect = false;      // BLKIF_OP_INDIRECT requests
  unsigned in_flight = 1;     // requests per round
  unsigned data_pages = 1;    // the window
  unsigned indirect_pages = 0;
  unsigned pages() const { return ring_pages + data_pages + indirect_pages; }
};

struct BlkfrontStats {
  uint64_t requests = 0;
  uint64_t bytes = 0;
  uint64_t waits = 0;   // pauses waiting for responses (pv::Deadline)
  uint64_t sleeps = 0;  // of them, asleep in Xen until the backend signalled
  unsigned max_in_flight = 0;
  unsigned data_pages = 0;
  unsigned ring_pages = 0;
  unsigned indirect_segments = 0;  // pages per indirect request; 0: direct requests
  unsigned offered_ring_order = 0, offered_indirect_segments = 0;  // what the backend offered
};

class Blkfront final : public loader::BlockDevice {
 public:
  static constexpr unsigned kSegments = BLKIF_MAX_SEGMENTS_PER_REQUEST;  // pages per direct request
  // The pages connect() uses at most: the largest ring, the window, and
  // an indirect page for each request in flight.
  static constexpr unsigned kMaxPages = (1u << BlkfrontOptions::kMaxRingOrder) + BlkfrontOptions::kMaxDataPages +
                                        BlkfrontOptions::kMaxInFlight;
  static constexpr uint32_t kDefaultTimeoutMs = 10000;

  // The layout of `pages` pages for a backend offering `offered_order` and
  // `offered_segments` (0: not offered), as `want` asks: the ring order is
  // the least of the three (and smaller when the pages are few), indirect
  // requests only when both ask for more than 11 segments, and as many
  // requests per round as the ring, the pages and want.max_in_flight allow
  // (at least one). `pages` >= 2.
  static BlkfrontLayout plan(unsigned pages, unsigned offered_order, unsigned offered_segments,
                             const BlkfrontOptions& want);
  // The most pages plan() lays out for `want`, whatever the backend
  // offers (at most kMaxPages): what connect() needs to be given.
  static unsigned pages_for(const BlkfrontOptions& want);
  // Grant-table frames enough for `pages` grants.
  static constexpr unsigned grant_frames_for(unsigned pages) { return GrantTable::frames_for(pages); }
  // Grant-table frames enough for all of them (GrantTable::open).
  static constexpr unsigned kGrantFrames = GrantTable::frames_for(kMaxPages);

  // `shared_info`: where it is mapped, so waits for the backend's answers
  // can sleep on our port (pv::Deadline); 0: they yield and spin.
  Blkfront(Hypercalls& h, GuestMemory& mem, Cpu& cpu, XenStore& xs, GrantTable& gnt, GuestPhys shared_info = {})
      : h_(h), mem_(mem), cpu_(cpu), xs_(xs), gnt_(gnt), shared_info_(shared_info) {}
  Blkfront(const Blkfront&) = delete;
  Blkfront& operator=(const Blkfront&) = delete;

  // `pages`: page-aligned RAM the loader owns, at least 2 pages (the ring,
  // then data pages; at most kMaxPages are used). `vdev`: the device's
  // number under device/vbd/, 0 for the first one there. `want`: the ring
  // order, indirect segments and requests in flight to use as far as the
  // backend offers them. Fails, with everything it opened undone:
  //   "vbd-none"       no such device (no disk = [...] in the config)
  //   "vbd-backend"    the device's backend, backend-id or geometry is unreadable or wrong
  //   "vbd-connect"    the backend did not reach Connected within the timeout
  //   "vbd-pages"      `pages` is too small or not page-aligned
  //   "evtchn-alloc", grant and xenstore errors as they come
  Res<void> connect(PhysRange pages, uint32_t vdev = 0, uint32_t timeout_ms = kDefaultTimeoutMs,
                    const BlkfrontOptions& want = {});
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
  const BlkfrontLayout& layout() const { return layout_; }
  // The grant of page i of `pages` (layout order), for tests.
  GrantRef grant_of(unsigned i) const { return i < granted_ ? grants_[i] : 0; }

 private:
  Res<void> handshake(uint32_t timeout_ms, const BlkfrontOptions& want);
  unsigned offered(const char* key);
  Res<void> publish();
  // Puts the requests for `bytes` on the ring and waits for every answer;
  // the data is then in the window (data_page(0)..).
  Res<void> read_chunk(uint64_t sector512, uint32_t bytes);
  Res<void> end_grants();
  GuestPhys page(unsigned i) const { return pages_.base + uint64_t{i} * kPageSize; }
  unsigned data_index(unsigned i) const { return layout_.ring_pages + i; }
  unsigned indirect_index(unsigned r) const { return layout_.ring_pages + layout_.data_pages + r; }

  Hypercalls& h_;
  GuestMemory& mem_;
  Cpu& cpu_;
  XenStore& xs_;
  GrantTable& gnt_;
  GuestPhys shared_info_;
  PhysRange pages_{};
  BlkfrontLayout layout_{};
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
