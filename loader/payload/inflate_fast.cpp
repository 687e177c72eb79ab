// The fast loop of RawInflater (inflate.h): the whole cost of a gzip boot,
// so this file alone is optimised for speed (see CMakeLists.txt).
#include <bit>

#include "inflate_bits.h"
#include "inflate_tables.h"
#include "magicboot/loader/payload/inflate.h"

namespace mb::loader {
using namespace inflate_detail;

namespace {

// Copies a match whose source starts dist bytes back, where writing up to
// kFastOutputSlack bytes from dst is allowed. Overlapping copies must see
// the bytes they produce, so steps never exceed dist.
// Returns the end of the match.
inline uint8_t* copy_match_fast(uint8_t* dst, size_t dist, size_t len) {
  const uint8_t* src = dst - dist;
  uint8_t* const stop = dst + len;
  if (dist >= 16) {  // nearly every match of a kernel image, and most are 16 bytes or less
    __builtin_memcpy(dst, src, 16);
    while (len > 16 && (dst += 16) < stop) {
      src += 16;
      __builtin_memcpy(dst, src, 16);
    }
  } else if (dist == 1) {
    // Runs of one byte (the zero padding of a kernel image) as stores.
    const uint64_t v = src[0] * 0x0101010101010101ull;
    do {
      __builtin_memcpy(dst, &v, 8);
      __builtin_memcpy(dst + 8, &v, 8);
      dst += 16;
    } while (dst < stop);
  } else if (dist >= 8) {
    do {
      __builtin_memcpy(dst, src, 8);
      dst += 8;
      src += 8;
    } while (dst < stop);
  } else {
    do *dst++ = *src++;
    while (dst < stop);
  }
  return stop;
}

}  // namespace

// The fast loop: enough input and output room that no symbol needs a
// bounds check (the caller keeps `stop` kFastOutputSlack short of the
// output's end). Its bit reader differs from the careful one: `in` and
// `used` (bits of *in already consumed) say where the next bit is, and a
// refill reloads the whole word there (five instructions, no merging).
// The caller has made sure that a window's worth of output lies before pos,
// so that no distance can reach before out[0]: no distance check, two
// instructions less per match. Returns whether the block ended.
Res<bool> RawInflater::decode_fast(uint8_t* out, size_t& pos, size_t stop) {
  const uint32_t* const lt = tables_->litlen;
  const uint32_t* const dt = tables_->dist;
  constexpr uint64_t kLitMask = (1u << kLitlenRootBits) - 1;
  constexpr uint64_t kDistMask = (1u << kDistRootBits) - 1;
  const size_t start_bit = bit_offset();
  const uint8_t* in = src_ + start_bit / 8;
  // Only the low byte counts (at most 63): consuming adds whole entries,
  // whose bits 6-7 are 0 and whose upper bits only add garbage above it
  // (one instruction less per symbol than masking).
  uint32_t used = start_bit % 8;
  uint64_t bitbuf = load_le64(in) >> used;  // 64 - used bits valid
  uint8_t* op = out + pos;
  const uint8_t* const in_stop = end_ - kFastInputSlack;
  uint8_t* const out_stop = out + stop;
  // Afterwards at least 57 bits are valid.
  auto refill_word = [&] {
    in += (used >> 3) & 31;
    used &= 7;
    bitbuf = load_le64(in) >> used;
  };
  auto consume = [&](uint32_t e) {
    bitbuf >>= (e & 63);
    used += e;
  };
  // Back to the careful reader's state: nothing loaded ahead.
  auto save = [&] {
    in_ = in + ((used & 0xff) >> 3);
    bitbuf_ = 0;
    bitsleft_ = 0;
    pos = static_cast<size_t>(op - out);
    if (used & 7) {
      refill();
      take(used & 7);
    }
  };
  // One symbol, or up to three literals; the loop below runs two a trip.
  enum Step { kNext, kBlockEnd, kInvalidLitlen, kInvalidDist };
  // Inlined twice into the loop: a call would keep the decoder state in memory.
  auto step = [&]() __attribute__((always_inline)) -> Step {
    uint32_t e = lt[bitbuf & kLitMask];
    if (e & kLiteral) {
      // Up to three literals per refill (3 x 11 bits of the 57),
      // stored at offsets from op and op moved once.
      consume(e);
      op[0] = static_cast<uint8_t>(e >> 8);
      e = lt[bitbuf & kLitMask];
      if (e & kLiteral) {
        consume(e);
        op[1] = static_cast<uint8_t>(e >> 8);
        e = lt[bitbuf & kLitMask];
        if (e & kLiteral) {
          consume(e);
          op[2] = static_cast<uint8_t>(e >> 8);
          op += 3;
          refill_word();
          return kNext;
        }
        op += 2;
      } else {
        op += 1;
      }
    }
    // At least 24 bits left: a subtable step and a length with its
    // extra bits (at most 11 + 4 + 5) fit.
    uint32_t len;
    if (!(e & kSpecial)) {
      len = e >> 16;
      consume(e);
    } else {
      if (e & kSubtable) {
        consume(e);
        e = lt[subtable_start(e) + low_bits(bitbuf, subtable_bits(e))];
        if (e & kLiteral) {
          consume(e);
          *op++ = static_cast<uint8_t>(e >> 8);
          refill_word();
          return kNext;
        }
      }
      if (e & (kEndOfBlock | kInvalid)) {
        if (e & kInvalid) return kInvalidLitlen;
        consume(e);
        return kBlockEnd;
      }
      len = length_of(e) + ((e & kLengthExtra) ? static_cast<uint32_t>(extra_of(bitbuf, e)) : 0);
      consume(e);
    }
    // 32 bits or more used (the low byte is at most 63) leaves 32 or
    // fewer: refill for the distance's up to kDistanceBits. One bit test.
    static_assert(kDistanceBits <= 32);
    if (used & 32) refill_word();
    uint32_t d = dt[bitbuf & kDistMask];
    if (d & kDistSpecial) {
      if (d & kSubtable) {
        consume(d);
        d = dt[subtable_start(d) + low_bits(bitbuf, subtable_bits(d))];
      }
      if (d & kDistSpecial) return kInvalidDist;
    }
    const uint64_t dist = (uint64_t{d} >> 16) + extra_of(bitbuf, d);
    consume(d);
    refill_word();
    uint8_t* const match_end = op + len;
    if (dist >= 16) {  // nearly every match of a kernel image; most are 16 bytes or less
      __builtin_memcpy(op, op - dist, 16);
      if (len > 16) copy_match_fast(op + 16, dist, len - 16);
    } else {
      copy_match_fast(op, dist, len);
    }
    op = match_end;
    return kNext;
  };
  Step r = kNext;
  while (r == kNext) {
    // A stretch of steps that cannot pass either stop.
    const size_t in_room = in < in_stop ? static_cast<size_t>(in_stop - in) / kStepMaxInput : 0;
    const size_t out_room = op < out_stop ? static_cast<size_t>(out_stop - op) : 0;
    const size_t room = in_room < out_room ? in_room : out_room;
    if (room == 0) break;
    uint8_t* const stretch_end = op + room;
    do {
      if ((r = step()) != kNext || (r = step()) != kNext) break;
    } while (op < stretch_end);
  }
  save();
  switch (r) {
    case kBlockEnd: return true;
    case kInvalidLitlen: return invalid_code("literal/length", file_offset_ + bit_offset() / 8);
    case kInvalidDist: return invalid_code("distance", file_offset_ + bit_offset() / 8);
    case kNext: break;
  }
  return false;
}

}  // namespace mb::loader
