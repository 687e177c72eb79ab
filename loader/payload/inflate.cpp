#include "magicboot/loader/payload/inflate.h"

#include <bit>
#include <cstring>

#include "inflate_bits.h"
#include "inflate_tables.h"

namespace mb::loader {
using namespace inflate_detail;

static_assert(std::endian::native == std::endian::little, "the bit reader loads little-endian words");

namespace {

constexpr unsigned kCodelenOrder[kNumCodelen] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

}  // namespace

Failure inflate_detail::invalid_code(const char* which, size_t at) {
  return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt", "invalid %s code at input offset %#zx", which, at);
}

namespace {

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

Failure RawInflater::truncated(const char* what) const {
  return MB_ERR(ErrorCode::kBadInput, "gzip-truncated", "deflate stream ends inside %s: input ends at offset %#zx",
                what, file_offset_ + static_cast<size_t>(end_ - src_));
}

Res<void> RawInflater::read_block_header() {
  const size_t at = file_offset_ + bit_offset() / 8;
  refill();
  const uint32_t header = take(3);
  if (overran()) return truncated("a block header");
  final_block_ = header & 1;
  switch (header >> 1) {
    case 0: {
      take(bitsleft_ & 7);  // stored blocks start on a byte boundary
      const uint32_t len = take(16), nlen = take(16);
      if (overran()) return truncated("a stored block's length");
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
  if (overran()) return truncated("a block's code counts");
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
  if (overran()) return truncated("a block's code length code");
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
      if (overran()) return truncated("a block's code lengths");
      if (repeat > total - i)
        return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                      "dynamic block near input offset %#zx repeats code lengths past its %u codes", at, total);
      std::memset(lens + i, value, repeat);
      i += repeat;
    }
    if (overran()) return truncated("a block's code lengths");
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
      if (overran()) return truncated("a stored block");
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

Res<InflateStop> RawInflater::run_huffman(uint8_t* out, size_t& pos, size_t end, size_t pause_at) {
  const uint32_t* const lt = tables_->litlen;
  const uint32_t* const dt = tables_->dist;
  constexpr uint64_t kLitMask = (1u << kLitlenRootBits) - 1;
  constexpr uint64_t kDistMask = (1u << kDistRootBits) - 1;
  // The careful loop: every symbol checked against both buffers' ends and
  // every distance against the output's start. It hands over to the fast
  // loop once a window of output exists (the first 32 KiB of an output are
  // ~0.2% of a kernel's: one fast loop without a distance check is smaller).
  for (;;) {
    if (pos >= kInflateWindowBytes && pos < pause_at && static_cast<size_t>(end_ - in_) > kFastInputSlack &&
        end - pos > kFastOutputSlack) {
      const size_t fast_stop = pause_at < end - kFastOutputSlack ? pause_at : end - kFastOutputSlack;
      if (MB_TRY(decode_fast(out, pos, fast_stop))) return InflateStop::kEnd;
    }
    if (pos >= pause_at) return InflateStop::kPaused;
    refill();
    uint32_t e = lt[bitbuf_ & kLitMask];
    if ((e & kSpecial) && (e & kSubtable)) {
      take(entry_bits(e));
      e = lt[subtable_start(e) + low_bits(bitbuf_, subtable_bits(e))];
    }
    if (e & kLiteral) {
      take(entry_bits(e));
      if (overran()) return truncated("a literal");
      if (pos == end) return InflateStop::kFull;
      out[pos++] = static_cast<uint8_t>(literal_of(e));
      continue;
    }
    if ((e & kSpecial) && (e & kInvalid)) {
      take(entry_bits(e));
      if (overran()) return truncated("a literal/length code");
      return invalid_code("literal/length", file_offset_ + bit_offset() / 8);
    }
    if ((e & kSpecial) && (e & kEndOfBlock)) {
      take(entry_bits(e));
      if (overran()) return truncated("an end-of-block code");
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
    if (overran()) return truncated("a match");
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
