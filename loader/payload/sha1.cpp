// SHA-1 per FIPS 180-4 section 6.1. Written here because no Debian static
// arm64 library provides it cleanly for a freestanding build.
#include <cstring>

#include "magicboot/loader/payload/hash.h"

namespace mb::loader {
namespace {

constexpr uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

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

void Sha1::init() {
  h_[0] = 0x67452301;
  h_[1] = 0xefcdab89;
  h_[2] = 0x98badcfe;
  h_[3] = 0x10325476;
  h_[4] = 0xc3d2e1f0;
  length_ = 0;
  used_ = 0;
}

void Sha1::block(const uint8_t* p) {
  uint32_t w[80];
  for (int t = 0; t < 16; ++t) w[t] = load_be32(p + 4 * t);
  for (int t = 16; t < 80; ++t) w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (int t = 0; t < 80; ++t) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    uint32_t tmp = rol(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = tmp;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void Sha1::update(const uint8_t* data, size_t len) {
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
  for (; len >= 64; data += 64, len -= 64) block(data);
  std::memcpy(buf_, data, len);
  used_ = len;
}

Sha1Digest Sha1::final() {
  uint64_t bits = length_ * 8;
  static constexpr uint8_t kPad[64] = {0x80};
  // Pad to 56 mod 64, then the 64-bit big-endian bit length.
  size_t pad = used_ < 56 ? 56 - used_ : 120 - used_;
  update(kPad, pad);
  uint8_t len_be[8];
  store_be32(len_be, static_cast<uint32_t>(bits >> 32));
  store_be32(len_be + 4, static_cast<uint32_t>(bits));
  update(len_be, 8);
  Sha1Digest out;
  for (int i = 0; i < 5; ++i) store_be32(out.data() + 4 * i, h_[i]);
  return out;
}

Sha1Digest sha1(const uint8_t* data, size_t len) {
  Sha1 s;
  s.update(data, len);
  return s.final();
}

}  // namespace mb::loader
