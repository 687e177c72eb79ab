// A Cpu for host runs of the loader's code: its counter is the host's
// steady clock in nanoseconds, so the PV layer's bounded waits (pv::Deadline)
// last real time. Caches and the jump do nothing here (the sim records them
// itself); a wake is armed in name only (see wake_at).
#pragma once

#include <chrono>
#include <cstdint>

#include "magicboot/platform.h"

namespace mb::model {

inline uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

class WallClockCpu : public Cpu {
 public:
  uint64_t counter() override { return wall_clock_ns(); }
  uint64_t counter_hz() const override { return 1'000'000'000; }
  void clean_to_poc(PhysRange) override {}
  void jump(const Handover&) override {}
  // The model's SCHEDOP_poll never blocks (dom0 takes its turn and the call
  // returns, as a timer wake would), so a wake is always there.
  bool wake_at(uint64_t) override {
    armed = true;
    return true;
  }
  void cancel_wake() override { armed = false; }
  bool armed = false;
};

}  // namespace mb::model
