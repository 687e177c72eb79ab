// Bounded waiting on another domain. The PV layer takes no interrupts: it
// looks, pauses, and looks again, until the other end answers or the
// deadline passes -- then the caller names what did not answer. Nothing
// waits for ever.
//
// A pause sleeps in Xen when it can: given a port whose event the other
// end promises (a blkif response it was asked to signal) and shared_info to
// clear that port's pending bit in, it polls the port (SCHEDOP_poll) with
// the vCPU's virtual timer armed at the deadline, so the backend has the
// CPU to itself until it signals or time is up. Otherwise -- no port, no
// shared_info, no timer, Xen refused the poll, or too little time left to
// arm a timer safely -- it yields (SCHEDOP_yield) and the wait spins.
#pragma once

#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/platform.h"

namespace mb::pv {

// An event channel a wait may sleep on: the port, and where Xen keeps its
// pending bit (shared_info, mapped; 0: not mapped, so no sleeping).
struct WakePort {
  GuestMemory* mem = nullptr;
  GuestPhys shared_info{};
  uint32_t port = 0;
  bool usable() const { return mem != nullptr && shared_info.value != 0 && port != 0; }
};

class Deadline {
 public:
  Deadline(Hypercalls& h, Cpu& cpu, uint32_t ms, const WakePort& wake = {})
      : h_(h),
        cpu_(cpu),
        wake_(wake),
        ms_(ms),
        start_(cpu.counter()),
        ticks_(cpu.counter_hz() / 1000 * ms),
        margin_(cpu.counter_hz() / 1000 * kMarginMs),
        sleepy_(wake.usable()) {}
  // Sleeps or yields once; false (and no pause) once the deadline has passed.
  bool pause();
  uint32_t ms() const { return ms_; }
  uint64_t pauses() const { return pauses_; }
  uint64_t sleeps() const { return sleeps_; }  // pauses spent asleep in Xen

  // A poll sleeps only while at least this much of the wait is left: the
  // timer must not expire between our look at the clock and the poll, or
  // only the port could wake us.
  static constexpr uint32_t kMarginMs = 20;

 private:
  bool sleep();
  Hypercalls& h_;
  Cpu& cpu_;
  WakePort wake_;
  uint32_t ms_;
  uint64_t start_;
  uint64_t ticks_;
  uint64_t margin_;
  bool sleepy_;
  uint64_t pauses_ = 0;
  uint64_t sleeps_ = 0;
};

}  // namespace mb::pv
