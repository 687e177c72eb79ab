#include "inflate_tables.h"

#include <array>

namespace mb::loader::inflate_detail {
namespace {

// RFC 1951 3.2.5: symbols 257..285 and distance codes 0..29.
constexpr std::array<uint16_t, 29> kLengthBase = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<uint8_t, 29> kLengthExtraBits = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<uint16_t, 30> kDistBase = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                                33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                                1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::array<uint8_t, 30> kDistExtraBits = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// Each base is the previous one plus the range its extra bits cover.
constexpr bool bases_follow(const uint16_t* base, const uint8_t* extra, size_t n) {
  for (size_t i = 1; i < n; ++i)
    if (base[i] != base[i - 1] + (1u << extra[i - 1]) && !(i == n - 1 && base[i] == 258)) return false;
  return true;
}
static_assert(bases_follow(kLengthBase.data(), kLengthExtraBits.data(), 29));
static_assert(bases_follow(kDistBase.data(), kDistExtraBits.data(), 30));
static_assert(kDistBase[29] + (1u << kDistExtraBits[29]) - 1 == 32768, "the longest distance is the window");

// Fills the entries of one code in a (sub)table of 2^table_bits entries:
// every index whose low `bits` bits are `rev`. A length symbol whose extra
// bits fit the index as well gets one entry per extra-bits value, with the
// length itself in it, so that the decode loop never extracts them.
[[gnu::always_inline]] inline void put_symbol(CodeKind kind, unsigned sym, uint32_t rev, unsigned bits, unsigned table_bits, uint32_t* table) {
  const uint32_t size = 1u << table_bits;
  auto fill = [&](uint32_t index, unsigned step_bits, uint32_t e) {
    for (uint32_t j = index; j < size; j += 1u << step_bits) table[j] = e;
  };
  switch (kind) {
    case CodeKind::kCodelen:
      return fill(rev, bits, sym << 8 | bits);
    case CodeKind::kDist:
      if (sym >= 30) return fill(rev, bits, kDistSpecial | kInvalid | bits);
      return fill(rev, bits, uint32_t{kDistBase[sym]} << 16 | bits << 8 | (bits + kDistExtraBits[sym]));
    case CodeKind::kLitlen: {
      if (sym < 256) return fill(rev, bits, kLiteral | sym << 8 | bits);
      if (sym == 256) return fill(rev, bits, kSpecial | kEndOfBlock | bits);
      if (sym >= 286) return fill(rev, bits, kSpecial | kInvalid | bits);
      const unsigned extra = kLengthExtraBits[sym - 257], base = kLengthBase[sym - 257];
      if (bits + extra > table_bits)
        return fill(rev, bits, kSpecial | kLengthExtra | base << 16 | bits << 8 | (bits + extra));
      for (uint32_t x = 0; x < (1u << extra); ++x) fill(rev | x << bits, bits + extra, (base + x) << 16 | (bits + extra));
      return;
    }
  }
}

unsigned root_bits(CodeKind kind) {
  switch (kind) {
    case CodeKind::kLitlen: return kLitlenRootBits;
    case CodeKind::kDist: return kDistRootBits;
    case CodeKind::kCodelen: return kCodelenRootBits;
  }
  return 0;
}

// The next code of `len` bits in canonical order, bit-reversed (deflate
// sends codes MSB first into an LSB-first stream): add one from the top.
// A longer code continues from the same reversed value (its new last bit,
// now the top one, is 0).
uint32_t next_reversed(uint32_t rev, unsigned len) {
  uint32_t bit = 1u << (len - 1);
  while (rev & bit) bit >>= 1;
  return bit != 0 ? (rev & (bit - 1)) + bit : 0;
}

uint32_t invalid_entry(CodeKind kind) { return (kind == CodeKind::kDist ? kDistSpecial : kSpecial) | kInvalid | 1; }

}  // namespace

bool build_table(CodeKind kind, const uint8_t* lens, unsigned n, uint32_t* table) {
  const unsigned root = root_bits(kind);
  unsigned count[kMaxCodeBits + 1] = {};
  for (unsigned s = 0; s < n; ++s) ++count[lens[s]];
  count[0] = 0;
  unsigned max = kMaxCodeBits;
  while (max > 0 && count[max] == 0) --max;
  if (max == 0) {
    // Only a distance code may be empty (a block without matches); zlib
    // also lets an empty code-length code through, to fail on the missing
    // end-of-block code later, so refusing it here gives the same verdict.
    if (kind != CodeKind::kDist) return false;
    for (unsigned i = 0; i < (1u << root); ++i) table[i] = invalid_entry(kind);
    return true;
  }
  int left = 1;
  for (unsigned len = 1; len <= kMaxCodeBits; ++len) {
    left = (left << 1) - static_cast<int>(count[len]);
    if (left < 0) return false;  // over-subscribed
  }
  if (left > 0) {
    // Incomplete: RFC 1951 allows one distance code of one bit; zlib extends
    // that to any code but the code-length code, still one bit long.
    if (kind == CodeKind::kCodelen || max != 1) return false;
    for (unsigned i = 0; i < (1u << root); ++i) table[i] = invalid_entry(kind);
  }

  // Symbols sorted by (code length, symbol): canonical code order.
  uint16_t sorted[kNumLitlen];
  unsigned offset[kMaxCodeBits + 2] = {};
  for (unsigned len = 1; len <= kMaxCodeBits; ++len) offset[len + 1] = offset[len] + count[len];
  for (unsigned s = 0; s < n; ++s)
    if (lens[s] != 0) sorted[offset[lens[s]]++] = static_cast<uint16_t>(s);

  const unsigned sub_bits = max > root ? max - root : 0;
  unsigned next_sub = 1u << root;
  unsigned cur_prefix = ~0u, cur_sub = 0;
  uint32_t rev = 0;
  unsigned i = 0;
  for (unsigned len = 1; len <= max; ++len) {
    for (unsigned k = 0; k < count[len]; ++k, ++i, rev = next_reversed(rev, len)) {
      const unsigned sym = sorted[i];
      if (len <= root) {
        put_symbol(kind, sym, rev, len, root, table);
        continue;
      }
      const unsigned prefix = rev & ((1u << root) - 1);
      if (prefix != cur_prefix) {
        cur_prefix = prefix;
        cur_sub = next_sub;
        next_sub += 1u << sub_bits;
        table[prefix] = (kind == CodeKind::kDist ? kDistSpecial : kSpecial) | kSubtable | cur_sub << 12 |
                        sub_bits << 8 | root;
      }
      put_symbol(kind, sym, rev >> root, len - root, sub_bits, table + cur_sub);
    }
  }
  return true;
}

}  // namespace mb::loader::inflate_detail
