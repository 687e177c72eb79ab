#include "magicboot/pv/console_ring.h"

#include <cstring>

#include "magicboot/hypercall/xen.h"

namespace mb::pv {
namespace {

using Ring = xencons_interface;
constexpr uint32_t kOutSize = sizeof(Ring::out);
constexpr uint32_t kInSize = sizeof(Ring::in);
static_assert((kOutSize & (kOutSize - 1)) == 0, "the ring index masks with size - 1");
static_assert((kInSize & (kInSize - 1)) == 0, "the ring index masks with size - 1");


}  // namespace

Res<ConsoleRingPlace> find_console_ring(Hypercalls& h, PhysRange magic, std::span<const PhysRange> ram) {
  static constexpr RingParams kConsole{HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN, "PV console",
                                       "console-ring-none", "console-ring-placement"};
  return find_ring(h, kConsole, magic, ram);
}

void ConsoleRing::write(const char* s, size_t len) {
  while (len > 0) {
    size_t n = 0;
    bool line = false;
    while (n < len && buffered_ + n < sizeof buf_) {
      if (s[n++] == '\n') {
        line = true;
        break;
      }
    }
    std::memcpy(buf_ + buffered_, s, n);
    buffered_ += n;
    s += n;
    len -= n;
    if (line || buffered_ == sizeof buf_) flush();
  }
}

void ConsoleRing::flush() {
  if (buffered_ == 0) return;
  publish(buf_, buffered_);
  buffered_ = 0;
}

bool ConsoleRing::drained() {
  uint32_t prod = 0, free = 0;
  if (!room(prod, free)) return false;
  if (free != kOutSize) return false;
  stalled_ = false;
  return true;
}

bool ConsoleRing::room(uint32_t& prod, uint32_t& free) {
  auto cons = mem_.load32(ring_field(place_, offsetof(Ring, out_cons)));
  auto p = mem_.load32(ring_field(place_, offsetof(Ring, out_prod)));
  if (!cons.ok() || !p.ok()) return false;
  // The indices before the slots: what the backend consumed is read before
  // we overwrite it.
  mem_.barrier();
  uint32_t used = *p - *cons;
  if (used > kOutSize) return false;
  prod = *p;
  free = kOutSize - used;
  return true;
}

void ConsoleRing::publish(const char* s, size_t len) {
  unsigned yields = 0;
  while (len > 0 && !broken_) {
    uint32_t prod = 0, free = 0;
    if (!room(prod, free)) {
      broken_ = true;
      break;
    }
    if (free == 0) {
      if (stalled_ || yields == max_yields_) {
        stalled_ = true;
        break;
      }
      ++yields;
      (void)xen::sched_yield(h_);
      continue;
    }
    stalled_ = false;
    uint32_t n = len < free ? static_cast<uint32_t>(len) : free;
    uint32_t at = prod & (kOutSize - 1);
    uint32_t first = n < kOutSize - at ? n : kOutSize - at;
    bool ok = mem_.write(ring_field(place_, offsetof(Ring, out) + at), s, first).ok() &&
              mem_.write(ring_field(place_, offsetof(Ring, out)), s + first, n - first).ok();
    // The text before the index that publishes it.
    mem_.barrier();
    if (!ok || !mem_.store32(ring_field(place_, offsetof(Ring, out_prod)), prod + n).ok()) {
      broken_ = true;
      break;
    }
    (void)xen::evtchn_send(h_, place_.port);
    ++notifies_;
    published_ += n;
    s += n;
    len -= n;
  }
  dropped_ += len;
}

int ConsoleRing::read_key() {
  if (broken_) return -1;
  auto cons = mem_.load32(ring_field(place_, offsetof(Ring, in_cons)));
  auto prod = mem_.load32(ring_field(place_, offsetof(Ring, in_prod)));
  if (!cons.ok() || !prod.ok() || *prod - *cons > kInSize) return -1;
  if (*cons == *prod) {
    (void)xen::sched_yield(h_);  // the backend runs; the caller looks again
    return -1;
  }
  // The index that published the byte before the byte.
  mem_.barrier();
  uint8_t c = 0;
  if (!mem_.read(ring_field(place_, offsetof(Ring, in) + (*cons & (kInSize - 1))), &c, 1).ok()) return -1;
  // The byte read before the slot is given back.
  mem_.barrier();
  if (!mem_.store32(ring_field(place_, offsetof(Ring, in_cons)), *cons + 1).ok()) return -1;
  (void)xen::evtchn_send(h_, place_.port);
  return c;
}

}  // namespace mb::pv
