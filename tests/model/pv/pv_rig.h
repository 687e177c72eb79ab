// The model test rig for the PV layer: an xl domain with a disk, and the
// xenstore client and grant table opened the way PvDisk opens them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "magicboot/pv/blkfront.h"
#include "magicboot/pv/xenbus.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/wall_clock_cpu.h"
#include "pattern_disk.h"

namespace mb::pv::test {

namespace board = boards::xen_arm64;
using model::DiskConfig;
using model::DomainConfig;
using model::DomainKind;
using model::Model;

using TestCpu = model::WallClockCpu;

inline DomainConfig xl_with_disk(size_t bytes = 3u << 20) {
  DomainConfig c;
  c.kind = DomainKind::kXl;
  c.ram_bytes = uint64_t{256} << 20;
  DiskConfig d;
  d.image = pattern_disk(bytes);
  c.disk = d;
  return c;
}

// Everything one test needs, opened the way PvDisk opens it.
struct Rig {
  explicit Rig(const DomainConfig& c, uint32_t timeout_ms = 2000)
      : m(c), mem(m.memory("loader")), ram(m.ram()) {
    auto place = find_xenstore(m.hypercalls(), board::kMagic, {ram.bank, ram.count});
    EXPECT_TRUE(place.ok()) << (place.ok() ? "" : place.error().detail);
    xs.emplace(m.hypercalls(), mem, cpu, place.ok() ? *place : RingPlace{}, timeout_ms);
    gnt.emplace(m.hypercalls(), mem);
  }
  PhysRange pages() const {
    // The top of RAM bank 0: loader RAM, as PvDisk takes it from the ledger.
    const uint64_t size = uint64_t{Blkfront::kMaxPages} * kPageSize;
    return PhysRange{GuestPhys{ram.bank[0].end().value - size}, size};
  }
  Res<void> open_grants() { return gnt->open(board::kGntTab, {ram.bank, ram.count}, Blkfront::kGrantFrames); }

  Model m;
  GuestMemory& mem;
  boards::RamBanks ram;
  TestCpu cpu;
  std::optional<XenStore> xs;
  std::optional<GrantTable> gnt;
};

inline std::string detail(const Res<void>& r) { return r.ok() ? "" : std::string(r.error().check) + ": " + r.error().detail; }

}  // namespace mb::pv::test
