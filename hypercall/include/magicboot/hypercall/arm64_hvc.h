// The firmware's backend of the raw seam: the real trap into Xen.
#pragma once

#include "magicboot/platform.h"

namespace mb::xen {

class HvcHypercalls final : public Hypercalls {
 public:
  long call(unsigned op, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) override;
};

}  // namespace mb::xen
