// Built with -march=armv8-a+crypto; called only when cpu_has_sha256().
#include <arm_neon.h>

#include "../sha256_constants.h"
#include "hash_ce.h"

namespace mb::loader::arm64 {
namespace {

constexpr const uint32_t* kK = sha256_detail::kRoundConstants;

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
