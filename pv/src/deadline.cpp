#include "magicboot/pv/deadline.h"

#include "magicboot/hypercall/xen.h"

namespace mb::pv {

bool Deadline::pause() {
  if (cpu_.counter() - start_ >= ticks_) return false;
  ++pauses_;
  (void)xen::sched_yield(h_);  // a refused yield only makes the wait busier
  return true;
}

}  // namespace mb::pv
