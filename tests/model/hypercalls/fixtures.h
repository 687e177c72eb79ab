// Shared helpers for the model's hypercall tests.
#pragma once

#include <gtest/gtest.h>

#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/xen_stubs/model.h"

namespace mb::model::testing {

namespace board = boards::xen_arm64;

inline DomainConfig dom0less(uint64_t ram = uint64_t{1} << 30) {
  DomainConfig c;
  c.kind = DomainKind::kDom0less;
  c.ram_bytes = ram;
  return c;
}
inline DomainConfig xl(uint64_t ram = uint64_t{1} << 30) {
  DomainConfig c = dom0less(ram);
  c.kind = DomainKind::kXl;
  return c;
}

inline Gfn ram_gfn(uint64_t page) { return board::kRam0.base.gfn() + page; }
inline Gfn slot_gfn() { return Model::magic_gfn(board::kMagicSharedInfoDefault); }

inline uint32_t read_wc_version(GuestMemory& mem, Gfn gfn) {
  uint32_t v = 0;
  EXPECT_TRUE(mem.read(gfn.addr() + offsetof(shared_info_t, wc_version), &v, sizeof v).ok());
  return v;
}

template <class T>
xen::Errno error_of(const xen::XenResult<T>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? xen::Errno{0} : r.error();
}

}  // namespace mb::model::testing
