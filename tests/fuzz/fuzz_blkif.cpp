// blkif responses as the fuzz input bends them. The first byte picks what
// blkback offers (ring order 4, 2, 1 or 0; indirect segments 256 or none)
// and what blkfront asks for (everything, the multi-page ring only, indirect
// requests only, or the firmware's defaults); then each response
// blkback puts on the ring may get another id, operation or status (2 bytes
// of input per response). A read that succeeds must return exactly the disk's bytes; every
// error is named; a clean disconnect leaves nothing behind (pv_fuzz_rig.h).
#include "pv_fuzz_rig.h"

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mb;
  auto input = std::make_shared<fuzz::Bytes>(data, size);
  const uint8_t variant = input->next();
  static constexpr unsigned kOrders[] = {4, 2, 1, 0};
  static constexpr pv::BlkfrontOptions kWants[] = {
      fuzz::kAllFeatures,
      {pv::BlkfrontOptions::kMaxRingOrder, 0, pv::BlkfrontOptions::kMaxInFlight, pv::BlkfrontOptions::kMaxDataPages},
      {0, 32, pv::BlkfrontOptions::kMaxInFlight, pv::BlkfrontOptions::kMaxDataPages},
      pv::BlkfrontOptions{},  // the firmware's defaults
  };
  model::Model m(fuzz::fuzz_domain(kOrders[variant & 3], (variant & 4) ? 0 : 256));
  m.set_blkback_response_filter([input](model::BlkbackResponse& r) {
    if (input->done()) return;
    const uint8_t how = input->next();
    const uint8_t v = input->next();
    switch (how % 4) {
      case 0: break;
      case 1: r.id = v; break;
      case 2: r.operation = v; break;
      case 3: r.status = static_cast<int16_t>(static_cast<int8_t>(v)); break;
    }
  });
  fuzz::run_pv(m, 5, kWants[(variant >> 3) & 3]);
  return 0;
}
