// Raw deflate (RFC 1951) decoding: magicboot's own inflater, one for every
// user (firmware one-shot into guest RAM, the model's chunked writes, the
// Image-header prefix). Why our own and not zlib or libdeflate: in the
// firmware, inflating Debian's 27 MB arm64 Image is the one long loop of a
// gzip boot, and it is counted in guest instructions. zlib's streaming
// inflate costs 14.4 per output byte there and libdeflate's one-shot
// decoder 8.0; this one 5.4 (its tables decode lengths with their extra
// bits, a word reload refills the bit buffer, matches copy 16 bytes at a
// time and the loop checks its bounds every two symbols; figures in the
// README's Performance section). It also names the exact input offset of
// every fault, which libdeflate cannot, and replaces both libraries in the
// firmware image.
//
// Accepts exactly what zlib's inflate accepts (the gzip fuzz target holds it
// to that): over-subscribed and incomplete codes are refused, except the
// single one-bit code RFC 1951 allows; a distance may not reach before the
// first output byte.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/arena.h"
#include "magicboot/error.h"

namespace mb::loader {

// How far back a deflate distance can reach.
inline constexpr size_t kInflateWindowBytes = 32768;
// The longest match: one symbol never writes more.
inline constexpr size_t kInflateMaxMatch = 258;

enum class InflateStop {
  kEnd,     // the final block ended
  kFull,    // the next symbol needs room past `end`; out[pos, end) holds its first part
  kPaused,  // pos reached `pause_at` at a symbol boundary
};

struct InflateTables;  // ~35 KiB of decoding tables, in the caller's arena

class RawInflater {
 public:
  // src[0, len) is the deflate stream; file_offset is src's offset in the
  // enclosing file, so that errors name file offsets. The tables come from
  // the arena, which must outlive this object (the caller rewinds it).
  static Res<RawInflater> create(Arena& arena, const uint8_t* src, size_t len, size_t file_offset);

  // Decodes into out[pos, end). out[0, pos) is the output so far: distances
  // may reach back into it (at most kInflateWindowBytes), never before
  // out[0], so a caller that slides its buffer keeps at least a window of
  // history in front of pos. Updates pos. Never writes at or past end.
  Res<InflateStop> run(uint8_t* out, size_t& pos, size_t end, size_t pause_at);

  // Bytes of src the stream has used (exact once run() returned kEnd).
  size_t consumed() const;

 private:
  enum class Mode : uint8_t { kBlockHeader, kStored, kHuffman, kDone };

  RawInflater(InflateTables* t, const uint8_t* src, size_t len, size_t file_offset)
      : tables_(t), src_(src), in_(src), end_(src + len), file_offset_(file_offset) {}

  Res<void> read_block_header();
  Res<void> read_dynamic_tables();
  Res<InflateStop> run_stored(uint8_t* out, size_t& pos, size_t end, size_t pause_at);
  Res<InflateStop> run_huffman(uint8_t* out, size_t& pos, size_t end, size_t pause_at);
  Res<bool> decode_fast(uint8_t* out, size_t& pos, size_t stop);

  // The careful bit reader (headers, and symbols near either buffer's end).
  // refill() leaves at least 56 valid bits.
  void refill();
  bool overran() const { return uint64_t{overrun_} * 8 > bitsleft_; }
  // The error for a stream that ends inside `what` (once overran()).
  Failure truncated(const char* what) const;
  uint32_t take(unsigned n);
  size_t bit_offset() const;  // input bit position of the next unread bit

  InflateTables* tables_;
  const uint8_t* src_;
  const uint8_t* in_;
  const uint8_t* end_;
  size_t file_offset_;
  uint64_t bitbuf_ = 0;
  uint32_t bitsleft_ = 0;  // valid bits in bitbuf_ (bits above them are 0 or the true next bits)
  uint32_t overrun_ = 0;   // zero bytes fed past end_ (a truncated stream shows as using them)
  Mode mode_ = Mode::kBlockHeader;
  bool final_block_ = false;
  uint32_t stored_left_ = 0;
};

}  // namespace mb::loader
