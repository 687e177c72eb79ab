// SHA-256 per FIPS 180-4 section 6.2. Written here because no Debian static
// arm64 library provides it cleanly for a freestanding build. The portable
// block() is the reference; the firmware hands whole blocks to the Armv8
// SHA-2 instructions when the CPU has them (arm64/sha256_ce.cpp).
#include <cstring>

#include "magicboot/loader/payload/hash.h"
#include "sha256_constants.h"

#if defined(MB_PAYLOAD_FIRMWARE)
#include "arm64/hash_ce.h"
#endif

namespace mb::loader {
namespace {

constexpr const uint32_t* kK = sha256_detail::kRoundConstants;

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
