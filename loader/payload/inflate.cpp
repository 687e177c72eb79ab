#include "magicboot/loader/payload/inflate.h"

#include <bit>
#include <cstring>

#include "inflate_tables.h"

namespace mb::loader {
using namespace inflate_detail;

static_assert(std::endian::native == std::endian::little, "the bit reader loads little-endian words");

namespace {

constexpr unsigned kCodelenOrder[kNumCodelen] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// One step of the fast loop refills the bit buffer at most twice, each time
// advancing at most 7 bytes and loading 8; it writes at least one byte and
// at most two literals and a 258-byte match, whose 16-byte copy steps may
// write 15 bytes past it.
constexpr size_t kStepMaxInput = 14;
constexpr size_t kStepMaxOutput = kInflateMaxMatch + 2;
// The loop checks its stops every two steps, and only runs while two more
// steps cannot reach either buffer's end.
constexpr size_t kFastInputSlack = 2 * kStepMaxInput + 8;
constexpr size_t kFastOutputSlack = 2 * kStepMaxOutput + 15;

// What the bit buffer must hold before decoding a distance: 15-bit code
// plus 13 extra bits.
constexpr unsigned kDistanceBits = kMaxCodeBits + 13;

uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

uint64_t low_bits(uint64_t v, unsigned n) { return v & ~(~uint64_t{0} << n); }

// v's low (e mod 64) bits, for a table entry e. On AArch64 the shift takes
// the entry as it is (LSLV uses the low six bits): GCC does not know that
// and would mask it first, one instruction per match of the hot loop.
uint64_t low_entry_bits(uint64_t v, uint32_t e) {
#if defined(__aarch64__)
  uint64_t high;
  asm("lsl %0, %1, %x2" : "=r"(high) : "r"(~uint64_t{0}), "r"(e));  // %x2: e's register as 64 bits
  return v & ~high;
#else
  return low_bits(v, static_cast<unsigned>(e & kEntryBitsMask));
#endif
}

// The extra bits of a length or distance entry: they follow its code.
uint64_t extra_of(uint64_t bitbuf, uint32_t e) { return low_entry_bits(bitbuf, e) >> code_bits(e); }

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

auto invalid_code(const char* which, size_t at) {
  return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt", "invalid %s code at input offset %#zx", which, at);
}

auto distance_too_far(size_t dist, size_t pos, size_t at) {
  return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                "distance %zu at output offset %#zx reaches before the start (input offset %#zx)", dist, pos, at);
}

}  // namespace

Res<RawInflater> RawInflater::create(Arena& arena, const uint8_t* src, size_t len, size_t file_offset) {
  auto* t = static_cast<InflateTables*>(arena.allocate(sizeof(InflateTables), alignof(InflateTables)));
  if (t == nullptr)
    return MB_ERR(ErrorCode::kNoMemory, "gzip-arena", "inflate tables (%zu bytes) do not fit the arena (%zu of %zu used)",
                  sizeof(InflateTables), arena.used(), arena.capacity());
  return RawInflater(t, src, len, file_offset);
}

void RawInflater::refill() {
  if (bitsleft_ > 56) return;
  if (end_ - in_ >= 8) {  // a word at once: the bits above bitsleft_ are 0 or these same bits
    bitbuf_ |= load_le64(in_) << bitsleft_;
    in_ += (63 - bitsleft_) >> 3;
    bitsleft_ |= 56;
    return;
  }
  while (bitsleft_ <= 56) {
    uint64_t byte = 0;
    if (in_ < end_)
      byte = *in_++;
    else
      ++overrun_;
    bitbuf_ |= byte << bitsleft_;
    bitsleft_ += 8;
  }
}

uint32_t RawInflater::take(unsigned n) {
  uint32_t v = static_cast<uint32_t>(low_bits(bitbuf_, n));
  bitbuf_ >>= n;
  bitsleft_ -= n;
  return v;
}

size_t RawInflater::bit_offset() const {
  return (static_cast<size_t>(in_ - src_) + overrun_) * 8 - bitsleft_;
}

size_t RawInflater::consumed() const { return (bit_offset() + 7) / 8; }

Res<void> RawInflater::check_not_truncated(const char* what) const {
  if (!overran()) return {};
  return MB_ERR(ErrorCode::kBadInput, "gzip-truncated", "deflate stream ends inside %s: input ends at offset %#zx",
                what, file_offset_ + static_cast<size_t>(end_ - src_));
}

Res<void> RawInflater::read_block_header() {
  const size_t at = file_offset_ + bit_offset() / 8;
  refill();
  const uint32_t header = take(3);
  MB_CHECK(check_not_truncated("a block header"));
  final_block_ = header & 1;
  switch (header >> 1) {
    case 0: {
      take(bitsleft_ & 7);  // stored blocks start on a byte boundary
      const uint32_t len = take(16), nlen = take(16);
      MB_CHECK(check_not_truncated("a stored block's length"));
      if (len != (~nlen & 0xffff))
        return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                      "stored block at input offset %#zx: LEN %#x and NLEN %#x are not complements", at, len, nlen);
      stored_left_ = len;
      mode_ = Mode::kStored;
      return {};
    }
    case 1: {
      uint8_t* lens = tables_->lens;
      std::memset(lens, 8, 144);
      std::memset(lens + 144, 9, 112);
      std::memset(lens + 256, 7, 24);
      std::memset(lens + 280, 8, 8);
      std::memset(lens + kNumLitlen, 5, kNumDist);
      // The fixed code is complete: these cannot fail.
      build_table(CodeKind::kLitlen, lens, kNumLitlen, tables_->litlen);
      build_table(CodeKind::kDist, lens + kNumLitlen, kNumDist, tables_->dist);
      mode_ = Mode::kHuffman;
      return {};
    }
    case 2:
      MB_CHECK(read_dynamic_tables());
      mode_ = Mode::kHuffman;
      return {};
    default:
      return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt", "block at input offset %#zx has the reserved type 3", at);
  }
}

Res<void> RawInflater::read_dynamic_tables() {
  const size_t at = file_offset_ + bit_offset() / 8;
  refill();
  const unsigned nlit = take(5) + 257, ndist = take(5) + 1, ncodelen = take(4) + 4;
  MB_CHECK(check_not_truncated("a block's code counts"));
  if (nlit > 286 || ndist > 30)
    return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                  "dynamic block near input offset %#zx declares %u literal/length and %u distance codes "
                  "(at most 286 and 30)",
                  at, nlit, ndist);
  uint8_t codelen_lens[kNumCodelen] = {};
  for (unsigned i = 0; i < ncodelen; ++i) {
    if (bitsleft_ < 3) refill();  // a refill guarantees 56 bits, and 19 x 3 are 57
    codelen_lens[kCodelenOrder[i]] = static_cast<uint8_t>(take(3));
  }
  MB_CHECK(check_not_truncated("a block's code length code"));
  if (!build_table(CodeKind::kCodelen, codelen_lens, kNumCodelen, tables_->codelen))
    return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                  "dynamic block near input offset %#zx: the code length code is over-subscribed or incomplete", at);

  uint8_t* lens = tables_->lens;
  const unsigned total = nlit + ndist;
  for (unsigned i = 0; i < total;) {
    if (bitsleft_ < kCodelenRootBits + 7) refill();  // a code and the longest repeat count
    const uint32_t e = tables_->codelen[bitbuf_ & ((1u << kCodelenRootBits) - 1)];
    take(entry_bits(e));
    const unsigned sym = codelen_symbol(e);
    if (sym < 16) {
      lens[i++] = static_cast<uint8_t>(sym);
    } else {
      uint8_t value = 0;
      unsigned repeat;
      if (sym == 16) {
        if (i == 0)
          return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                        "dynamic block near input offset %#zx repeats a code length before the first one", at);
        value = lens[i - 1];
        repeat = 3 + take(2);
      } else if (sym == 17) {
        repeat = 3 + take(3);
      } else {
        repeat = 11 + take(7);
      }
      MB_CHECK(check_not_truncated("a block's code lengths"));
      if (repeat > total - i)
        return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                      "dynamic block near input offset %#zx repeats code lengths past its %u codes", at, total);
      std::memset(lens + i, value, repeat);
      i += repeat;
    }
    MB_CHECK(check_not_truncated("a block's code lengths"));
  }
  if (lens[256] == 0)
    return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt", "dynamic block near input offset %#zx has no end-of-block code",
                  at);
  if (!build_table(CodeKind::kLitlen, lens, nlit, tables_->litlen))
    return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                  "dynamic block near input offset %#zx: the literal/length code is over-subscribed or incomplete", at);
  if (!build_table(CodeKind::kDist, lens + nlit, ndist, tables_->dist))
    return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                  "dynamic block near input offset %#zx: the distance code is over-subscribed or incomplete", at);
  return {};
}

Res<InflateStop> RawInflater::run_stored(uint8_t* out, size_t& pos, size_t end, size_t pause_at) {
  while (stored_left_ > 0) {
    if (pos >= pause_at) return InflateStop::kPaused;
    if (pos == end) return InflateStop::kFull;
    if (bitsleft_ >= 8) {  // bytes the bit reader had already loaded
      out[pos++] = static_cast<uint8_t>(take(8));
      --stored_left_;
      MB_CHECK(check_not_truncated("a stored block"));
      continue;
    }
    bitbuf_ = 0;  // empty: the bytes it may hold ahead are copied directly now
    size_t n = stored_left_;
    if (n > static_cast<size_t>(end_ - in_)) n = static_cast<size_t>(end_ - in_);
    if (n > end - pos) n = end - pos;
    if (pause_at - pos < n) n = pause_at - pos;
    if (n == 0)
      return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                    "deflate stream ends inside a stored block (%#x bytes short): input ends at offset %#zx",
                    stored_left_, file_offset_ + static_cast<size_t>(end_ - src_));
    std::memcpy(out + pos, in_, n);
    in_ += n;
    pos += n;
    stored_left_ -= static_cast<uint32_t>(n);
  }
  return InflateStop::kEnd;
}

// The fast loop: enough input and output room that no symbol needs a
// bounds check (the caller keeps `stop` kFastOutputSlack short of the
// output's end). Its bit reader differs from the careful one: `in` and
// `used` (bits of *in already consumed) say where the next bit is, and a
// refill reloads the whole word there (five instructions, no merging).
// Without kCheckDistance the caller has made sure that a window's worth of
// output lies before pos, so that no distance can reach before out[0]: two
// instructions less per match. Returns whether the block ended.
template <bool kCheckDistance>
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
  const uintptr_t out_start = reinterpret_cast<uintptr_t>(out);
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
  enum Step { kNext, kBlockEnd, kInvalidLitlen, kInvalidDist, kDistanceTooFar };
  uint64_t far_dist = 0;
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
    // Integer addresses: a source before `out` is the error, not UB.
    const uintptr_t from = reinterpret_cast<uintptr_t>(op) - dist;
    if (kCheckDistance && from < out_start) {
      far_dist = dist;
      return kDistanceTooFar;
    }
    const uint8_t* src = reinterpret_cast<const uint8_t*>(from);
    if (dist >= 16) {  // nearly every match of a kernel image; most are 16 bytes or less
      __builtin_memcpy(op, src, 16);
      if (len > 16) copy_match_fast(op + 16, dist, len - 16);
      op += len;
    } else {
      op = copy_match_fast(op, dist, len);
    }
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
    case kDistanceTooFar: return distance_too_far(far_dist, pos, file_offset_ + bit_offset() / 8);
    case kNext: break;
  }
  return false;
}

Res<InflateStop> RawInflater::run_huffman(uint8_t* out, size_t& pos, size_t end, size_t pause_at) {
  if (static_cast<size_t>(end_ - in_) > kFastInputSlack && end - pos > kFastOutputSlack && pos < pause_at) {
    const size_t fast_stop = pause_at < end - kFastOutputSlack ? pause_at : end - kFastOutputSlack;
    bool block_done = false;
    if (pos < kInflateWindowBytes)
      block_done = MB_TRY(decode_fast<true>(out, pos, fast_stop < kInflateWindowBytes ? fast_stop : kInflateWindowBytes));
    if (!block_done && pos >= kInflateWindowBytes && pos < fast_stop)
      block_done = MB_TRY(decode_fast<false>(out, pos, fast_stop));
    if (block_done) return InflateStop::kEnd;
  }

  const uint32_t* const lt = tables_->litlen;
  const uint32_t* const dt = tables_->dist;
  constexpr uint64_t kLitMask = (1u << kLitlenRootBits) - 1;
  constexpr uint64_t kDistMask = (1u << kDistRootBits) - 1;
  // The careful loop: every symbol checked against both buffers' ends.
  for (;;) {
    if (pos >= pause_at) return InflateStop::kPaused;
    refill();
    uint32_t e = lt[bitbuf_ & kLitMask];
    if ((e & kSpecial) && (e & kSubtable)) {
      take(entry_bits(e));
      e = lt[subtable_start(e) + low_bits(bitbuf_, subtable_bits(e))];
    }
    if (e & kLiteral) {
      take(entry_bits(e));
      MB_CHECK(check_not_truncated("a literal"));
      if (pos == end) return InflateStop::kFull;
      out[pos++] = static_cast<uint8_t>(literal_of(e));
      continue;
    }
    if ((e & kSpecial) && (e & kInvalid)) {
      take(entry_bits(e));
      MB_CHECK(check_not_truncated("a literal/length code"));
      return invalid_code("literal/length", file_offset_ + bit_offset() / 8);
    }
    if ((e & kSpecial) && (e & kEndOfBlock)) {
      take(entry_bits(e));
      MB_CHECK(check_not_truncated("an end-of-block code"));
      return InflateStop::kEnd;
    }
    const uint32_t len = length_of(e) + ((e & kLengthExtra) ? static_cast<uint32_t>(extra_of(bitbuf_, e)) : 0);
    take(entry_bits(e));
    refill();
    uint32_t d = dt[bitbuf_ & kDistMask];
    if ((d & kDistSpecial) && (d & kSubtable)) {
      take(entry_bits(d));
      d = dt[subtable_start(d) + low_bits(bitbuf_, subtable_bits(d))];
    }
    const uint32_t dist = dist_base(d) + static_cast<uint32_t>(extra_of(bitbuf_, d));
    take(entry_bits(d));
    MB_CHECK(check_not_truncated("a match"));
    if (d & kDistSpecial) return invalid_code("distance", file_offset_ + bit_offset() / 8);
    if (dist > pos) return distance_too_far(dist, pos, file_offset_ + bit_offset() / 8);
    const size_t room = end - pos;
    const size_t n = len < room ? len : room;
    for (size_t k = 0; k < n; ++k, ++pos) out[pos] = out[pos - dist];
    if (n < len) return InflateStop::kFull;
  }
}

Res<InflateStop> RawInflater::run(uint8_t* out, size_t& pos, size_t end, size_t pause_at) {
  for (;;) {
    InflateStop stop = InflateStop::kEnd;
    switch (mode_) {
      case Mode::kDone:
        return InflateStop::kEnd;
      case Mode::kBlockHeader:
        if (pos >= pause_at) return InflateStop::kPaused;
        MB_CHECK(read_block_header());
        continue;
      case Mode::kStored:
        stop = MB_TRY(run_stored(out, pos, end, pause_at));
        break;
      case Mode::kHuffman:
        stop = MB_TRY(run_huffman(out, pos, end, pause_at));
        break;
    }
    if (stop != InflateStop::kEnd) return stop;
    // kEnd from a block: the stream ends with it only if it was the last.
    mode_ = final_block_ ? Mode::kDone : Mode::kBlockHeader;
  }
}

}  // namespace mb::loader
