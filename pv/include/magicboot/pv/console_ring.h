// The frontend half of Xen's PV console (xen/io/console.h): the ring page
// the toolstack put at HVM_PARAM_CONSOLE_PFN, read by xenconsoled in dom0,
// which `xl console` shows. We write out[] and out_prod; the backend
// advances out_cons and is woken through HVM_PARAM_CONSOLE_EVTCHN. Input
// (in[], keys typed at the console) is read only by read_key(), for the
// boot menu.
//
// Batched: write() gathers text and publishes it a line (or a full buffer)
// at a time, one event per publication, so a line costs one hypercall, not
// a trap per character. The ring is consistent after every publication
// (data, barrier, then out_prod), so whoever takes the ring over next --
// Linux's hvc_xen -- continues from out_prod with nothing half-written.
//
// Never blocks the boot for ever: when the ring is full it yields to the
// backend a bounded number of times, then declares the ring stalled and
// drops (and counts) what it cannot place. A backend that then drains it
// is used again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/addr.h"
#include "magicboot/error.h"
#include "magicboot/platform.h"
#include "magicboot/pv/ring_place.h"

namespace mb::pv {

using ConsoleRingPlace = RingPlace;

// The domain's PV console from the two HVM params. Fails, and the ring is
// then not to be used:
//   "console-ring-none"     a param is 0 or refused (dom0less: no toolstack)
//   "console-ring-placement" the PFN lies outside `magic` or inside `ram`
//                            (writing it would scribble on RAM; never done)
Res<ConsoleRingPlace> find_console_ring(Hypercalls& h, PhysRange magic, std::span<const PhysRange> ram);

class ConsoleRing final : public Console {
 public:
  // Yields to the backend while the ring stays full, at most this often in
  // a row, before the ring counts as stalled.
  static constexpr unsigned kDefaultMaxYields = 10000;

  ConsoleRing(Hypercalls& h, GuestMemory& mem, ConsoleRingPlace place,
              unsigned max_yields = kDefaultMaxYields)
      : h_(h), mem_(mem), place_(place), max_yields_(max_yields) {}
  ConsoleRing(const ConsoleRing&) = delete;
  ConsoleRing& operator=(const ConsoleRing&) = delete;

  // Buffers; publishes at each newline and whenever the buffer fills.
  void write(const char* s, size_t len) override;
  // Publishes whatever is buffered (e.g. a prompt with no newline, or
  // before the jump).
  void flush();

  // The backend has read everything published (out_cons == out_prod); a
  // stalled ring that drained takes output again. For a writer that must
  // not lose lines (the conformance probe): wait for this before writing.
  bool drained();

  // One byte typed at `xl console` (the backend's in[] ring), or -1 when
  // none is there -- after yielding once, so a caller polling in a loop
  // lets xenconsoled run.
  int read_key();
  ConsoleRingPlace place() const { return place_; }
  // The backend did not make room within max_yields; output is dropped
  // until it does.
  bool stalled() const { return stalled_; }
  // The indices were inconsistent (out_prod - out_cons beyond the ring):
  // the ring is not written again.
  bool broken() const { return broken_; }
  uint64_t bytes_published() const { return published_; }
  uint64_t bytes_dropped() const { return dropped_; }
  uint64_t notifies() const { return notifies_; }

 private:
  void publish(const char* s, size_t len);
  // Room the backend has left us, from the indices (0 when full); false
  // when the ring cannot be used (read failed, indices inconsistent).
  bool room(uint32_t& prod, uint32_t& free);

  Hypercalls& h_;
  GuestMemory& mem_;
  ConsoleRingPlace place_;
  unsigned max_yields_;
  bool stalled_ = false;
  bool broken_ = false;
  uint64_t published_ = 0;
  uint64_t dropped_ = 0;
  uint64_t notifies_ = 0;
  size_t buffered_ = 0;
  char buf_[256];
};

}  // namespace mb::pv
