// SHA-256 per FIPS 180-4 section 6.2. Written here because no Debian static
// arm64 library provides it cleanly for a freestanding build. The portable
// block() is the reference; the firmware hands whole blocks to the Armv8
// SHA-2 instructions when the CPU has them (arm64/sha256_ce.cpp).
#include <cstring>

#include "magicboot/loader/payload/hash.h"

#if defined(MB_PAYLOAD_FIRMWARE)
#include "arm64/hash_ce.h"
#endif

namespace mb::loader {
namespace {

constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

constexpr uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

void Sha256::init() {
  static constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::memcpy(h_, kInit, sizeof(h_));
  length_ = 0;
  used_ = 0;
}

void Sha256::block(const uint8_t* p) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t) w[t] = load_be32(p + 4 * t);
  for (int t = 16; t < 64; ++t) {
    uint32_t s0 = ror(w[t - 15], 7) ^ ror(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = ror(w[t - 2], 17) ^ ror(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int t = 0; t < 64; ++t) {
    uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + kK[t] + w[t];
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const uint8_t* data, size_t len) {
  if (len == 0) return;
  length_ += len;
  if (used_ > 0) {
    size_t n = len < 64 - used_ ? len : 64 - used_;
    std::memcpy(buf_ + used_, data, n);
    used_ += n;
    data += n;
    len -= n;
    if (used_ < 64) return;
    block(buf_);
    used_ = 0;
  }
  if (len >= 64) {
    size_t n = len / 64;
#if defined(MB_PAYLOAD_FIRMWARE)
    if (arm64::cpu_has_sha256()) {
      arm64::sha256_blocks_ce(h_, data, n);
      n = 0;
    }
#endif
    for (size_t i = 0; i < n; ++i) block(data + 64 * i);
    data += len / 64 * 64;
    len %= 64;
  }
  std::memcpy(buf_, data, len);
  used_ = len;
}

Sha256Digest Sha256::final() {
  uint64_t bits = length_ * 8;
  static constexpr uint8_t kPad[64] = {0x80};
  size_t pad = used_ < 56 ? 56 - used_ : 120 - used_;
  update(kPad, pad);
  uint8_t len_be[8];
  store_be32(len_be, static_cast<uint32_t>(bits >> 32));
  store_be32(len_be + 4, static_cast<uint32_t>(bits));
  update(len_be, 8);
  Sha256Digest out;
  for (int i = 0; i < 8; ++i) store_be32(out.data() + 4 * i, h_[i]);
  return out;
}

Sha256Digest sha256(const uint8_t* data, size_t len) {
  Sha256 s;
  s.update(data, len);
  return s.final();
}

}  // namespace mb::loader
