// Built with -march=armv8-a+crypto; called only when cpu_has_sha256().
#include <arm_neon.h>

#include "hash_ce.h"

namespace mb::loader::arm64 {
namespace {

alignas(16) constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// Four rounds on W[4i..4i+3] = w (K added here).
inline void rounds4(uint32x4_t& abcd, uint32x4_t& efgh, uint32x4_t w, uint32x4_t k) {
  const uint32x4_t wk = vaddq_u32(w, k);
  const uint32x4_t abcd_in = abcd;
  abcd = vsha256hq_u32(abcd, efgh, wk);
  efgh = vsha256h2q_u32(efgh, abcd_in, wk);
}

// W[t+16..t+19] from W[t..t+15] held in w0..w3.
inline uint32x4_t schedule(uint32x4_t w0, uint32x4_t w1, uint32x4_t w2, uint32x4_t w3) {
  return vsha256su1q_u32(vsha256su0q_u32(w0, w1), w2, w3);
}

inline uint32x4_t load_be(const uint8_t* p) { return vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p))); }

}  // namespace

void sha256_blocks_ce(uint32_t h[8], const uint8_t* p, size_t n) {
  uint32x4_t abcd = vld1q_u32(h), efgh = vld1q_u32(h + 4);
  for (; n > 0; --n, p += 64) {
    const uint32x4_t abcd0 = abcd, efgh0 = efgh;
    uint32x4_t w0 = load_be(p), w1 = load_be(p + 16), w2 = load_be(p + 32), w3 = load_be(p + 48);
    // Rounds 0..47 extend the schedule as they go; 48..63 use the last four.
    for (int i = 0; i < 12; i += 4) {
      rounds4(abcd, efgh, w0, vld1q_u32(kK + 4 * i));
      w0 = schedule(w0, w1, w2, w3);
      rounds4(abcd, efgh, w1, vld1q_u32(kK + 4 * i + 4));
      w1 = schedule(w1, w2, w3, w0);
      rounds4(abcd, efgh, w2, vld1q_u32(kK + 4 * i + 8));
      w2 = schedule(w2, w3, w0, w1);
      rounds4(abcd, efgh, w3, vld1q_u32(kK + 4 * i + 12));
      w3 = schedule(w3, w0, w1, w2);
    }
    rounds4(abcd, efgh, w0, vld1q_u32(kK + 48));
    rounds4(abcd, efgh, w1, vld1q_u32(kK + 52));
    rounds4(abcd, efgh, w2, vld1q_u32(kK + 56));
    rounds4(abcd, efgh, w3, vld1q_u32(kK + 60));
    abcd = vaddq_u32(abcd, abcd0);
    efgh = vaddq_u32(efgh, efgh0);
  }
  vst1q_u32(h, abcd);
  vst1q_u32(h + 4, efgh);
}

}  // namespace mb::loader::arm64
