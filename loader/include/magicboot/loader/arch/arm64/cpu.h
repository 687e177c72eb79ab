// mb::Cpu for the arm64 firmware: the counter, cache maintenance by VA, and
// the jump (clean, MMU and caches off, x0 = DTB, x1..x3 = 0, D/A/I/F masked).
#pragma once

#include "magicboot/arena.h"
#include "magicboot/config.h"
#include "magicboot/platform.h"

namespace mb::arm64 {

class Arm64Cpu final : public Cpu {
 public:
  // `own` is the firmware's footprint: jump() cleans it too, so no dirty line
  // of the loader's stack or heap can be written back over the next stage's
  // memory after it took over.
  explicit Arm64Cpu(PhysRange own) : own_(own) {}
  // The arena over the heap at the end of `own`: jump() then cleans the
  // heap only up to the arena's peak (the rest was never written by us).
  void set_heap(PhysRange heap, const Arena* arena) {
    heap_ = heap;
    arena_ = arena;
  }

  uint64_t counter() override;  // CNTVCT_EL0
  uint64_t counter_hz() const override;  // CNTFRQ_EL0
  // Clean and invalidate to PoC, by VA.
  void clean_to_poc(PhysRange range) override;
  // Never returns.
  void jump(const Handover& h) override;
#if defined(CONFIG_PV_BLOCK) || defined(CONFIG_FIRMWARE_PROBE)
  // CNTV_CVAL_EL0 = at, CNTV_CTL_EL0 enabled and unmasked; cancel: disabled.
  // Only the PV layer sleeps (and the probe tests the sleep under real
  // Xen): an image without either keeps Cpu's "no timer".
  bool wake_at(uint64_t at) override;
  void cancel_wake() override;
#endif

 private:
  PhysRange own_;
  PhysRange heap_{};
  const Arena* arena_ = nullptr;
};

}  // namespace mb::arm64
