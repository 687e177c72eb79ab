// xenstore replies as the fuzz input bends them: each reply the PV disk's
// connect, read and teardown receive may get another type, request id,
// payload or header length (4 bytes of input per reply: which field, and a
// value; then the payload bytes for a payload). The client must name every
// error and never claim a clean disconnect it did not make (pv_fuzz_rig.h).
#include "pv_fuzz_rig.h"

#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mb;
  auto input = std::make_shared<fuzz::Bytes>(data, size);
  model::Model m(fuzz::fuzz_domain());
  m.set_xenstore_message_filter([input](model::XenstoreMessage& x) {
    if (input->done()) return;
    const uint8_t how = input->next();
    switch (how % 6) {
      case 0: break;  // this reply as it is
      case 1: x.type = input->next() % 32; break;
      case 2: x.req_id ^= input->next(); break;
      case 3: x.len = input->next32() % (2 * XENSTORE_PAYLOAD_MAX); break;
      case 4: {
        const size_t n = input->next();
        std::string p;
        for (size_t i = 0; i < n && !input->done(); ++i) p += static_cast<char>(input->next());
        x.payload = p;
        break;
      }
      case 5: x.type = XS_ERROR; x.payload = std::string("E") + static_cast<char>('A' + input->next() % 26) + '\0'; break;
    }
  });
  fuzz::run_pv(m, 5);
  return 0;
}
