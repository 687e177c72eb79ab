// Bounded waiting on another domain. The PV layer takes no interrupts: it
// looks, yields the CPU to the backend (SCHEDOP_yield), and looks again,
// until the backend answers or the deadline passes -- then the caller
// names what did not answer. Nothing waits for ever.
#pragma once

#include <cstdint>

#include "magicboot/platform.h"

namespace mb::pv {

class Deadline {
 public:
  Deadline(Hypercalls& h, Cpu& cpu, uint32_t ms)
      : h_(h), cpu_(cpu), ms_(ms), start_(cpu.counter()), ticks_(cpu.counter_hz() / 1000 * ms) {}
  // Yields once; false (and no yield) once the deadline has passed.
  bool pause();
  uint32_t ms() const { return ms_; }
  uint64_t pauses() const { return pauses_; }

 private:
  Hypercalls& h_;
  Cpu& cpu_;
  uint32_t ms_;
  uint64_t start_;
  uint64_t ticks_;
  uint64_t pauses_ = 0;
};

}  // namespace mb::pv
