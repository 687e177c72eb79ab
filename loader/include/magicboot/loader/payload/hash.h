// The digests a FIT may carry: crc32 (zlib's), SHA-1 and SHA-256 (our own,
// FIPS 180-4; small, constant memory, no heap, freestanding).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace mb::loader {

// CRC-32 (IEEE, as gzip and FIT use it). Chain by passing the previous value.
uint32_t crc32(const uint8_t* data, size_t len, uint32_t crc = 0);
// The same, four bits per step from a 64-byte table: what crc32() uses in
// the firmware on a CPU without the CRC32 instructions.
uint32_t crc32_nibbles(const uint8_t* data, size_t len, uint32_t crc = 0);

using Sha1Digest = std::array<uint8_t, 20>;
using Sha256Digest = std::array<uint8_t, 32>;

class Sha1 {
 public:
  static constexpr size_t kDigestSize = 20;
  Sha1() { init(); }
  void init();
  void update(const uint8_t* data, size_t len);
  // Pads and returns the digest; call init() before reusing the object.
  Sha1Digest final();

 private:
  void block(const uint8_t* p);
  uint32_t h_[5];
  uint64_t length_;  // bytes hashed so far
  uint8_t buf_[64];
  size_t used_;
};

class Sha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  Sha256() { init(); }
  void init();
  void update(const uint8_t* data, size_t len);
  Sha256Digest final();

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint64_t length_;
  uint8_t buf_[64];
  size_t used_;
};

Sha1Digest sha1(const uint8_t* data, size_t len);
Sha256Digest sha256(const uint8_t* data, size_t len);

}  // namespace mb::loader
