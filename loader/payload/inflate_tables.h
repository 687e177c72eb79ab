// Decoding tables for inflate.cpp: canonical Huffman codes (RFC 1951 3.2.2)
// as direct-lookup tables indexed by the next input bits (LSB first), a
// primary table of kRootBits bits plus one subtable per longer-code prefix.
//
// One 32-bit entry says everything the decode loop needs, so that the hot
// path is one load and a few bit-field operations. Bits 0-5 always hold the
// bits the entry consumes and bits 6-7 are always 0: the loop shifts the bit
// buffer by the whole entry (AArch64's LSRV uses only the low six bits) and
// subtracts the whole entry from its bit count (only whose low byte counts).
//
// Literal/length table:
//   bit 31     literal: bits 8-15 the byte
//   bit 30     special, the loop's slow branch, one of:
//                bit 29  end of block
//                bit 28  invalid code (a symbol RFC 1951 reserves, or the
//                        hole in the one incomplete code it allows)
//                bit 27  subtable: bits 12-24 its first entry, 8-11 its
//                        index bits
//                bit 26  length whose extra bits did not fit the index:
//                        bits 16-24 base length, 8-12 code length
//   neither    length, extra bits decoded by the table: bits 16-24 the
//              length itself (the entry consumes code + extra bits)
// Distance table:
//   bit 31     special: bit 28 invalid, bit 27 subtable (as above)
//   neither    distance: bits 16-30 base distance, 8-12 code length; bits
//              0-5 code length + extra bits
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb::loader::inflate_detail {

inline constexpr unsigned kMaxCodeBits = 15;
inline constexpr unsigned kNumLitlen = 288;  // 286 used + 2 reserved (fixed code)
inline constexpr unsigned kNumDist = 32;     // 30 used + 2 reserved
inline constexpr unsigned kNumCodelen = 19;

inline constexpr unsigned kLitlenRootBits = 11;
inline constexpr unsigned kDistRootBits = 10;
inline constexpr unsigned kCodelenRootBits = 7;  // the code-length code is at most 7 bits: no subtables

// Every subtable spans (longest code - root) bits, and there is at most one
// per code longer than the root bits: a bound that needs no search.
inline constexpr size_t kLitlenTableSize =
    (size_t{1} << kLitlenRootBits) + kNumLitlen * (size_t{1} << (kMaxCodeBits - kLitlenRootBits));
inline constexpr size_t kDistTableSize =
    (size_t{1} << kDistRootBits) + kNumDist * (size_t{1} << (kMaxCodeBits - kDistRootBits));
inline constexpr size_t kCodelenTableSize = size_t{1} << kCodelenRootBits;

inline constexpr uint32_t kEntryBitsMask = 0x3f;
inline constexpr uint32_t kLiteral = 1u << 31;
inline constexpr uint32_t kSpecial = 1u << 30;
inline constexpr uint32_t kDistSpecial = 1u << 31;
inline constexpr uint32_t kEndOfBlock = 1u << 29;
inline constexpr uint32_t kInvalid = 1u << 28;
inline constexpr uint32_t kSubtable = 1u << 27;
inline constexpr uint32_t kLengthExtra = 1u << 26;

constexpr uint32_t entry_bits(uint32_t e) { return e & kEntryBitsMask; }
constexpr uint32_t code_bits(uint32_t e) { return (e >> 8) & 0x1f; }
constexpr uint32_t length_of(uint32_t e) { return (e >> 16) & 0x1ff; }  // also the base of kLengthExtra
constexpr uint32_t dist_base(uint32_t e) { return (e >> 16) & 0x7fff; }
constexpr uint32_t subtable_start(uint32_t e) { return (e >> 12) & 0x1fff; }
constexpr uint32_t subtable_bits(uint32_t e) { return (e >> 8) & 0xf; }
constexpr uint32_t literal_of(uint32_t e) { return (e >> 8) & 0xff; }
constexpr uint32_t codelen_symbol(uint32_t e) { return (e >> 8) & 0xff; }

static_assert(kLitlenTableSize <= 0x1fff + 1, "subtable_start has 13 bits");
static_assert(kDistTableSize <= 0x1fff + 1, "subtable_start has 13 bits");

enum class CodeKind { kLitlen, kDist, kCodelen };

// Builds the table for code lengths lens[0, n). Returns false when the
// lengths do not form a code zlib would accept: over-subscribed, or
// incomplete other than a single one-bit code (for the code-length code,
// incomplete at all). All-zero distance lengths are accepted (a block of
// literals only): every entry is then invalid.
bool build_table(CodeKind kind, const uint8_t* lens, unsigned n, uint32_t* table);

}  // namespace mb::loader::inflate_detail

namespace mb::loader {

struct InflateTables {
  uint32_t litlen[inflate_detail::kLitlenTableSize];
  uint32_t dist[inflate_detail::kDistTableSize];
  uint32_t codelen[inflate_detail::kCodelenTableSize];
  uint8_t lens[inflate_detail::kNumLitlen + inflate_detail::kNumDist];
};

}  // namespace mb::loader
