// dom0's side of the PV protocols, in the model: xenstored serving the
// domain's store ring, and blkback serving its vbd through grants. Each
// follows what Linux's dom0 does (xenstored's wire protocol, xen-blkback's
// xenbus state machine and ring handling), so the loader's pv/ code runs
// against the same answers it gets under real xl. They run when the guest
// gives dom0 a chance: an event channel send and SCHEDOP_yield; blkback
// reacts to the frontend's state on its turn, not during the write, as a
// watch in another domain would.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "magicboot/xen_stubs/model.h"

namespace mb::model {

struct Backends {
  // --- xenstored --------------------------------------------------------------
  std::map<std::string, std::string> tree;
  uint64_t store_mfn = 0;
  std::string pending_reply;  // bytes not yet put on the full reply ring
  bool store_broken = false;
  uint32_t next_tx = 1;
  std::function<void(uint32_t, std::string&)> reply_filter;

  // --- blkback ----------------------------------------------------------------
  std::string fe, be;  // the vbd's frontend and backend directories ("" without a disk)
  bool connected = false;
  uint32_t ring_ref = 0;
  uint64_t ring_gfn = 0;
  uint32_t port = 0;  // the guest's port blkback bound
  uint32_t rsp_prod = 0, req_cons = 0;
  uint64_t requests = 0;
  unsigned max_in_flight = 0;
  std::function<void(BlkbackResponse&)> response_filter;
};

void backends_init(Model::Impl& m);
// dom0's turn: xenstored answers what is on the ring, blkback follows the
// frontend's state and serves its ring.
void backends_run(Model::Impl& m);
// Time passes for a connected blkback: a late response on its ring, and a
// write into every page still granted to it writable (a DMA in flight).
void backends_tick(Model::Impl& m);

}  // namespace mb::model
