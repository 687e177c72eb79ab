// What fuzz_xenstore and fuzz_blkif share: an xl domain of the model with a
// 64 KiB disk (blkback offering, as Linux's does, a ring of up to 2^4 pages
// and indirect requests of 256 segments), magicboot's PV layer opened
// against its xenstored and blkback twins, the fuzz input deciding how the twins' answers are bent. The oracle
// holds the client to its promises whatever it was told: every error is
// named, and a disconnect that says it succeeded leaves nothing behind -- no
// valid grant, no connected backend, no loader port bound.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "fuzz_check.h"
#include "magicboot/pv/blkfront.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/wall_clock_cpu.h"

namespace mb::fuzz {

using WallCpu = model::WallClockCpu;

// Reads the fuzz input a byte at a time; zeros once it runs out.
class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  uint8_t next() { return at_ < n_ ? d_[at_++] : 0; }
  uint32_t next32() { return next() | uint32_t{next()} << 8 | uint32_t{next()} << 16 | uint32_t{next()} << 24; }
  bool done() const { return at_ >= n_; }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t at_ = 0;
};

inline std::vector<uint8_t> fuzz_disk() {
  std::vector<uint8_t> d(64 * 1024);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 13 + 5);
  return d;
}

inline model::DomainConfig fuzz_domain(unsigned max_ring_page_order = 4, unsigned max_indirect_segments = 256) {
  model::DomainConfig c;
  c.kind = model::DomainKind::kXl;
  c.ram_bytes = uint64_t{64} << 20;
  model::DiskConfig disk;
  disk.image = fuzz_disk();
  disk.max_ring_page_order = max_ring_page_order;
  disk.max_indirect_segments = max_indirect_segments;
  c.disk = disk;
  return c;
}

// Everything blkfront may use: the largest ring, indirect requests of 32
// pages (a 64 KiB disk is two of them), the most requests in flight.
inline constexpr pv::BlkfrontOptions kAllFeatures{pv::BlkfrontOptions::kMaxRingOrder, 32,
                                                  pv::BlkfrontOptions::kMaxInFlight,
                                                  pv::BlkfrontOptions::kMaxDataPages};

template <class T>
void named(const Res<T>& r, const char* what) {
  if (!r.ok()) FUZZ_CHECK(r.error().check[0] != '\0', "%s failed without a named check", what);
}

// Connect, read the whole disk, disconnect; the oracle on the way.
inline void run_pv(model::Model& m, uint32_t timeout_ms, const pv::BlkfrontOptions& want = kAllFeatures) {
  namespace board = boards::xen_arm64;
  WallCpu cpu;
  GuestMemory& mem = m.memory("loader");
  const boards::RamBanks ram = m.ram();
  auto place = pv::find_xenstore(m.hypercalls(), board::kMagic, {ram.bank, ram.count});
  FUZZ_CHECK(place.ok(), "no xenstore ring in an xl domain");
  pv::XenStore xs(m.hypercalls(), mem, cpu, *place, timeout_ms);
  pv::GrantTable gnt(m.hypercalls(), mem);
  FUZZ_CHECK(gnt.open(board::kGntTab, {ram.bank, ram.count}, pv::Blkfront::kGrantFrames).ok(), "grant frames");
  pv::Blkfront blk(m.hypercalls(), mem, cpu, xs, gnt);
  const uint64_t size = uint64_t{pv::Blkfront::kMaxPages} * kPageSize;
  auto connected =
      blk.connect(PhysRange{GuestPhys{ram.bank[0].base.value + (16u << 20)}, size}, 0, timeout_ms, want);
  named(connected, "connect");
  if (connected.ok()) {
    std::vector<uint8_t> got(blk.sector_count() * blk.sector_size());
    auto read = blk.read(0, blk.sector_count(), got.data());
    named(read, "read");
    if (read.ok() && got.size() == fuzz_disk().size())
      FUZZ_CHECK(got == fuzz_disk(), "a read that succeeded returned other bytes than the disk's");
    auto closed = blk.disconnect();
    named(closed, "disconnect");
    if (closed.ok()) {
      FUZZ_CHECK(m.active_grants().empty(), "disconnect succeeded with %zu grant(s) valid", m.active_grants().size());
      FUZZ_CHECK(!m.backend_connected(), "disconnect succeeded with the backend connected");
      FUZZ_CHECK(m.loader_bound_ports().empty(), "disconnect succeeded with a loader port bound");
    }
  } else {
    // A failed connect undoes itself; whatever it could not undo, it must
    // not have claimed as undone.
    for (const model::GrantInfo& g : m.active_grants())
      FUZZ_CHECK(g.flags & (GTF_reading | GTF_writing), "grant %u left valid though the backend does not hold it",
                 g.ref);
  }
  // Never: a grant whose flags we cleared while the backend held it mapped.
  for (const model::GrantInfo& g : m.active_grants())
    FUZZ_CHECK((g.flags & GTF_permit_access) || !(g.flags & (GTF_reading | GTF_writing)),
               "grant %u ended while still mapped (flags %#x)", g.ref, g.flags);
  auto gone = gnt.close();
  named(gone, "grant close");
}

}  // namespace mb::fuzz
