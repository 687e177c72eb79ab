// SHA-256 and CRC-32 with the Armv8 SHA-2 and CRC32 instructions (firmware
// only). A FIT's kernel is hashed twice (crc32 and sha256 nodes) over ~27 MB:
// the portable SHA-256 costs ~55 instructions a byte under emulation, the
// SHA256H/SHA256H2 version ~2, and CRC32X 8 bytes per instruction. The
// portable code stays the reference (host tests) and the fallback for a CPU
// without the extensions (ID_AA64ISAR0_EL1 says which).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb::loader::arm64 {

bool cpu_has_sha256();
bool cpu_has_crc32();

// Compresses n 64-byte blocks into state h (FIPS 180-4 6.2.2).
void sha256_blocks_ce(uint32_t h[8], const uint8_t* p, size_t n);

// zlib-compatible crc32: crc is the previous result (0 to start).
uint32_t crc32_ce(const uint8_t* p, size_t len, uint32_t crc);

}  // namespace mb::loader::arm64
