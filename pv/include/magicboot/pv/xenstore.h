// A xenstore client on the domain's ring (xen/io/xs_wire.h): the page at
// HVM_PARAM_STORE_PFN, notified through HVM_PARAM_STORE_EVTCHN, served by
// xenstored in dom0. One request at a time; every reply is checked (its id,
// its type, its length against XENSTORE_PAYLOAD_MAX and the caller's
// buffer) before it is believed, and every wait is bounded.
//
// The ring is the toolstack's, and so is its event channel: both are used,
// never closed, and the ring is left consistent after every call (a reply
// refused for its contents is still consumed whole), so Linux's xenbus
// carries on from where we stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/error.h"
#include "magicboot/platform.h"
#include "magicboot/pv/ring_place.h"

namespace mb::pv {

// The xenstore ring from its params: "xenstore-none" (dom0less: no
// toolstack) or "xenstore-placement".
Res<RingPlace> find_xenstore(Hypercalls& h, PhysRange magic, std::span<const PhysRange> ram);

class XenStore {
 public:
  static constexpr size_t kMaxPath = 128;
  static constexpr uint32_t kDefaultTimeoutMs = 5000;

  XenStore(Hypercalls& h, GuestMemory& mem, Cpu& cpu, RingPlace place, uint32_t timeout_ms = kDefaultTimeoutMs)
      : h_(h), mem_(mem), cpu_(cpu), place_(place), timeout_ms_(timeout_ms) {}
  XenStore(const XenStore&) = delete;
  XenStore& operator=(const XenStore&) = delete;

  // The value at `path` into out (NUL-terminated); its length.
  Res<size_t> read(const char* path, char* out, size_t cap, uint32_t tx = 0);
  // A decimal value. "xenstore-value": not a number.
  Res<uint64_t> read_u64(const char* path, uint32_t tx = 0);
  Res<void> write(const char* path, const char* value, uint32_t tx = 0);
  Res<void> remove(const char* path, uint32_t tx = 0);
  // The children of `path` into out, each NUL-terminated; their count.
  Res<size_t> directory(const char* path, char* out, size_t cap, size_t* bytes = nullptr);
  Res<uint32_t> transaction_start();
  // Commit (or abort). Returns false when xenstored asks for a retry (EAGAIN).
  Res<bool> transaction_end(uint32_t tx, bool commit);

  RingPlace place() const { return place_; }
  uint64_t requests() const { return requests_; }

  // Errors, by check:
  //   "xenstore-timeout"  xenstored did not take the request or answer in time
  //   "xenstore-ring"     the ring's indices are inconsistent (not used again)
  //   "xenstore-reply"    a reply with another id or type, or over-long
  //   "xenstore-error"    xenstored answered XS_ERROR (the errno it named)
  //   "xenstore-size"     the reply does not fit the caller's buffer
  //   "xenstore-request"  a path or value too long to send
 private:
  // Sends one request of `type` (parts concatenated) and reads the reply's
  // payload into out (cap bytes; the rest is consumed and refused; out ==
  // nullptr: the payload, "OK", is consumed and not kept).
  Res<size_t> call(uint32_t type, uint32_t tx, std::span<const std::span<const char>> parts, char* out, size_t cap);
  Res<void> put(const void* src, uint32_t len, class Deadline& wait);
  Res<void> get(void* dst, uint32_t len, Deadline& wait);

  Hypercalls& h_;
  GuestMemory& mem_;
  Cpu& cpu_;
  RingPlace place_;
  uint32_t timeout_ms_;
  uint32_t next_id_ = 1;
  uint64_t requests_ = 0;
  bool broken_ = false;
};

}  // namespace mb::pv
