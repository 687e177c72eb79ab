// dom0's blkback serving the domain's vbd, as Linux 6.1's
// drivers/block/xen-blkback (xenbus.c, blkback.c) does over xenstore, the
// guest's grants and an event channel:
//
// * setup: libxl writes the frontend and backend directories (the backend
//   readable by the guest); blkback's probe offers its features
//   (feature-max-indirect-segments, max-ring-page-order when configured,
//   multi-queue-max-queues 1), watches <frontend>/state and goes InitWait.
// * frontend_changed, on every write of <frontend>/state, one dom0 turn later
//   as a watch is: Initialised or Connected while not Connected -> connect
//   the ring: read protocol (absent or "arm-abi"; anything else is fatal),
//   multi-queue-num-queues (1), event-channel, ring-page-order and
//   ring-ref0..N or ring-ref; map the ring grant(s) (refused: fatal);
//   attach at the ring's rsp_prod (more requests than fit: fatal); bind the
//   guest's port, which must be unbound with dom0 as remote (else fatal);
//   then write sectors, info, sector-size, physical-sector-size,
//   feature-flush-cache, feature-barrier, feature-persistent and go
//   Connected. Closing -> Closing. Closed -> disconnect (unbind: the guest's
//   port is unbound again; unmap every grant) and Closed, staying online.
//   Initialising while Closed -> InitWait. Unknown (the key gone) -> the
//   device goes away (Closed, no more reactions). Any other state -> fatal.
//   A fatal error writes "<errno> <message>" to
//   /local/domain/0/error/backend/vbd/<domid>/<vdev>/error and goes Closing
//   (xenbus_dev_fatal).
// * the ring, on a notify of the bound port and on a yield: requests from
//   req_cons to req_prod (more than a ring ahead: the ring is halted, as
//   blkback's "bogus ring requests"), each answered before the next: READ
//   with 1..11 segments, or BLKIF_OP_INDIRECT (when offered) of up to the
//   offered segments in indirect pages mapped read-only; every segment
//   within its page (first_sect <= last_sect <= 7); the sectors inside the
//   disk; a 4 KiB-sector disk's I/O aligned; all grants mapped before any
//   data moves (one refused: nothing is written, BLKIF_RSP_ERROR), each
//   page written, then unmapped, unless the frontend asked for persistent
//   grants (feature-persistent), which stay mapped until disconnect. WRITE,
//   FLUSH, BARRIER, DISCARD on the read-only disk and anything malformed
//   are BLKIF_RSP_ERROR, other operations BLKIF_RSP_EOPNOTSUPP. Each
//   response is pushed as RING_PUSH_RESPONSES_AND_CHECK_NOTIFY does
//   (rsp_event decides the notify); req_event is set as
//   RING_FINAL_CHECK_FOR_REQUESTS does.
// * the guest's side is checked: req_prod published over request slots not
//   yet ordered by GuestMemory::barrier() is a protocol error (the ring is
//   halted).
// * tick (time passes): a connected backend writes a late response on its
//   ring; every page granted to dom0 writable (and every page it holds
//   mapped) gets a sector's worth of a DMA that was in flight.
//
// Not modelled: multi-queue (one ring), writes (the disk is read-only),
// discard, the asynchrony of real I/O (a request is answered in the turn
// that reads it), the persistent-grant limit and purge, the x86 protocols.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "grant_twin.h"
#include "model_impl.h"
#include "xenstore_twin.h"

namespace mb::model {

class BlkbackTwin {
 public:
  BlkbackTwin(Model::Impl& m, XenstoreTwin& xs, GrantTwin& gnt, const DiskConfig& disk);

  void run();   // dom0's turn
  void tick();  // Xen time passes
  void note_write(uint64_t mfn, uint64_t offset, uint64_t len);

  int state() const;  // the backend's state key
  bool connected() const { return conn_.has_value(); }
  std::optional<uint64_t> ring_gfn() const;
  std::vector<uint64_t> writable_gfns() const;  // the ring, and pages held or granted writable
  std::vector<uint32_t> bound_ports() const;
  uint64_t requests() const { return requests_; }
  unsigned max_in_flight() const { return max_in_flight_; }

  std::function<void(BlkbackResponse&)> response_filter;

 private:
  struct Conn {
    std::vector<uint32_t> ring_refs;
    std::vector<GrantTwin::Mapped> ring;  // the ring's pages, in order
    uint32_t slots = 0;
    uint32_t port = 0;
    uint32_t req_cons = 0;
    uint32_t rsp_prod_pvt = 0;
    bool halted = false;
    bool persistent = false;
    std::map<uint32_t, GrantTwin::Mapped> pgrants;  // persistent grants, by ref
    uint64_t slots_written = ~uint64_t{0};           // barrier epoch of the last request-slot write
  };
  struct Segment {
    uint32_t gref;
    uint8_t first, last;
  };

  void frontend_changed(int fe);
  void switch_state(int s);
  void fatal(int err, const std::string& what);
  bool connect_ring();
  void connect();
  void disconnect();
  void serve();
  int16_t dispatch(const blkif_request_t& req, uint8_t& op);
  int16_t read_segments(uint64_t sector, const std::vector<Segment>& segs);
  std::optional<GrantTwin::Mapped> map_data(uint32_t ref, bool& transient);
  void make_response(uint64_t id, uint8_t op, int16_t status, bool filter = true);
  void ring_read(uint64_t at, void* dst, size_t len) const;
  void ring_write(uint64_t at, const void* src, size_t len);
  std::optional<std::string> fe_read(const std::string& key) const;
  std::optional<unsigned> fe_uint(const std::string& key) const;
  bool bound() const;

  Model::Impl& m_;
  XenstoreTwin& xs_;
  GrantTwin& gnt_;
  DiskConfig disk_;
  std::string fe_, be_, error_path_;
  int state_ = XenbusStateInitialising;  // blkback's own idea (xenbus's dev->state)
  bool gone_ = false;                    // unregistered: reacts to nothing any more
  std::optional<Conn> conn_;
  uint64_t requests_ = 0;
  unsigned max_in_flight_ = 0;
};

}  // namespace mb::model
