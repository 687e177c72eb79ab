#include "magicboot/magic_pages/magic_pfns.h"

#include "magicboot/hypercall/xen.h"

namespace mb::magic {

MagicPfns query_magic_pfns(Hypercalls& h) {
  MagicPfns p;
  struct Query {
    uint32_t index;
    uint64_t MagicPfns::*field;
  };
  static constexpr Query kQueries[] = {
      {HVM_PARAM_CONSOLE_PFN, &MagicPfns::console_pfn},
      {HVM_PARAM_CONSOLE_EVTCHN, &MagicPfns::console_evtchn},
      {HVM_PARAM_STORE_PFN, &MagicPfns::store_pfn},
      {HVM_PARAM_STORE_EVTCHN, &MagicPfns::store_evtchn},
      {HVM_PARAM_CALLBACK_IRQ, &MagicPfns::callback_irq},
  };
  for (const Query& q : kQueries) {
    auto v = xen::get_param(h, q.index);
    if (v.ok()) p.*q.field = *v; else ++p.unreadable;
  }
  return p;
}

}  // namespace mb::magic
