// blkif responses as the fuzz input bends them: each response blkback puts
// on the ring may get another id, operation or status (2 bytes of input per
// response). A read that succeeds must return exactly the disk's bytes; every
// error is named; a clean disconnect leaves nothing behind (pv_fuzz_rig.h).
#include "pv_fuzz_rig.h"

#include <memory>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mb;
  auto input = std::make_shared<fuzz::Bytes>(data, size);
  model::Model m(fuzz::fuzz_domain());
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
  fuzz::run_pv(m, 5);
  return 0;
}
