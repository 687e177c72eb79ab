#include "magicboot/pv/deadline.h"

#include <bit>
#include <cstddef>

#include "magicboot/hypercall/xen.h"

namespace mb::pv {

static_assert(std::endian::native == std::endian::little,
              "a port's pending bit is found in the 32-bit half of its xen_ulong_t");

bool Deadline::pause() {
  const uint64_t now = cpu_.counter();
  if (now - start_ >= ticks_) return false;
  ++pauses_;
  if (sleepy_ && ticks_ - (now - start_) > margin_ && sleep()) return true;
  (void)xen::sched_yield(h_);  // a refused yield only makes the wait busier
  return true;
}

// Polls the port until it is raised or the timer fires at the deadline,
// then clears its pending bit -- after the wake, before the caller looks
// again, so an event for what the caller then finds missing still wakes
// the next poll. Any refusal ends sleeping for this wait.
bool Deadline::sleep() {
  if (!cpu_.wake_at(start_ + ticks_)) return sleepy_ = false;
  const bool polled = xen::sched_poll(h_, wake_.port).ok();
  cpu_.cancel_wake();
  if (!polled) return sleepy_ = false;
  ++sleeps_;
  // Xen sets the bit atomically in the same word for other ports too: a
  // compare-and-swap on its 32-bit half takes out this bit alone.
  const GuestPhys word = wake_.shared_info + offsetof(shared_info_t, evtchn_pending) + wake_.port / 32 * 4;
  const uint32_t bit = uint32_t{1} << (wake_.port % 32);
  auto seen = wake_.mem->load32(word);
  if (!seen.ok()) sleepy_ = false;  // a bit we cannot clear would make every poll return at once
  while (seen.ok() && (*seen & bit)) {
    auto found = wake_.mem->compare_exchange32(word, *seen, *seen & ~bit);
    if (!found.ok() || *found == *seen) break;
    seen = found;
  }
  wake_.mem->barrier();  // the bit cleared before the caller looks at the ring
  return true;
}

}  // namespace mb::pv
