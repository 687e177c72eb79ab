// mb::GuestMemory for the firmware: guest-physical == the firmware's own
// address (identity map), so every access is a plain memory operation.
// There is nothing to validate against (a bad address faults and the fault
// reporter names it); zero-length operations never touch memory.
#pragma once

#include "magicboot/platform.h"

namespace mb::arm64 {

class IdentityMemory final : public GuestMemory {
 public:
  Res<void> read(GuestPhys src, void* dst, size_t len) override;
  Res<void> write(GuestPhys dst, const void* src, size_t len) override;
  Res<void> copy(GuestPhys dst, GuestPhys src, size_t len) override;
  Res<void> fill(GuestPhys dst, uint8_t byte, size_t len) override;
  Res<const uint8_t*> view(GuestPhys base, size_t len) override;
  Res<uint8_t*> writable(GuestPhys base, size_t len) override;
  Res<uint32_t> load32(GuestPhys at) override;
  Res<void> store32(GuestPhys at, uint32_t v) override;
  Res<uint32_t> compare_exchange32(GuestPhys at, uint32_t expected, uint32_t desired) override;
  void barrier() override;
};

}  // namespace mb::arm64
