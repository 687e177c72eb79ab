#include <cstdint>

#include "hash_ce.h"

namespace mb::loader::arm64 {
namespace {

// Read each time (no cached global): a handful of calls per boot.
uint64_t isar0() {
  uint64_t v;
  asm volatile("mrs %0, id_aa64isar0_el1" : "=r"(v));
  return v;
}

}  // namespace

// ID_AA64ISAR0_EL1.SHA2 (bits 15:12) >= 1: SHA256H, SHA256H2, SHA256SU0/1.
bool cpu_has_sha256() { return ((isar0() >> 12) & 0xf) >= 1; }
// ID_AA64ISAR0_EL1.CRC32 (bits 19:16) == 1: CRC32B/H/W/X.
bool cpu_has_crc32() { return ((isar0() >> 16) & 0xf) >= 1; }

}  // namespace mb::loader::arm64
