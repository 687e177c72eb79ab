#include "inflate_tables.h"

#include <array>

namespace mb::loader::inflate_detail {
namespace {

// RFC 1951 3.2.5: symbols 257..285 and distance codes 0..29.
constexpr std::array<uint16_t, 29> kLengthBase = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                                  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<uint8_t, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<uint16_t, 30> kDistBase = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                                33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                                1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::array<uint8_t, 30> kDistExtra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// Each base is the previous one plus the range its extra bits cover.
constexpr bool bases_follow(const uint16_t* base, const uint8_t* extra, size_t n) {
  for (size_t i = 1; i < n; ++i)
    if (base[i] != base[i - 1] + (1u << extra[i - 1]) && !(i == n - 1 && base[i] == 258)) return false;
  return true;
}
static_assert(bases_follow(kLengthBase.data(), kLengthExtra.data(), 29));
static_assert(bases_follow(kDistBase.data(), kDistExtra.data(), 30));
static_assert(kDistBase[29] + (1u << kDistExtra[29]) - 1 == 32768, "the longest distance is the window");

// The entry for `sym` when `bits` bits of its code are left to match in this
// (sub)table.
uint32_t symbol_entry(CodeKind kind, unsigned sym, unsigned bits) {
  switch (kind) {
    case CodeKind::kCodelen:
      return sym << 8 | bits;
    case CodeKind::kDist:
      if (sym >= 30) return kInvalid | bits;
      return uint32_t{kDistBase[sym]} << 16 | bits << 8 | (bits + kDistExtra[sym]);
    case CodeKind::kLitlen:
      if (sym < 256) return kLiteral | 1u << 24 | sym << 8 | bits;
      if (sym == 256) return kEndOfBlock | bits;
      if (sym >= 286) return kInvalid | bits;
      return uint32_t{kLengthBase[sym - 257]} << 16 | bits << 8 | (bits + kLengthExtra[sym - 257]);
  }
  return kInvalid;
}

unsigned root_bits(CodeKind kind) {
  switch (kind) {
    case CodeKind::kLitlen: return kLitlenRootBits;
    case CodeKind::kDist: return kDistRootBits;
    case CodeKind::kCodelen: return kCodelenRootBits;
  }
  return 0;
}

uint32_t reverse_bits(uint32_t code, unsigned len) {
  uint32_t r = 0;
  for (unsigned i = 0; i < len; ++i, code >>= 1) r = r << 1 | (code & 1);
  return r;
}

// Two literals in one primary entry wherever the first code leaves room for
// the whole second one within the root bits. Descending order: the second
// code's index (idx >> n1) is below idx, so it still holds a single literal.
void pair_literals(uint32_t* table) {
  for (unsigned idx = (1u << kLitlenRootBits); idx-- > 0;) {
    const uint32_t e1 = table[idx];
    if (!(e1 & kLiteral)) continue;
    const unsigned n1 = entry_bits(e1);
    const uint32_t e2 = table[idx >> n1];
    if (!(e2 & kLiteral) || literal_count(e2) != 1) continue;
    const unsigned n2 = entry_bits(e2);
    if (n1 + n2 > kLitlenRootBits) continue;
    table[idx] = kLiteral | 2u << 24 | ((e2 >> 8) & 0xff) << 16 | ((e1 >> 8) & 0xff) << 8 | (n1 + n2);
  }
}

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
    for (unsigned i = 0; i < (1u << root); ++i) table[i] = kInvalid | 1;
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
    for (unsigned i = 0; i < (1u << root); ++i) table[i] = kInvalid | 1;
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
  uint32_t code = 0;
  unsigned i = 0;
  for (unsigned len = 1; len <= max; ++len, code <<= 1) {
    for (unsigned k = 0; k < count[len]; ++k, ++code, ++i) {
      const unsigned sym = sorted[i];
      const uint32_t rev = reverse_bits(code, len);
      if (len <= root) {
        const uint32_t e = symbol_entry(kind, sym, len);
        for (uint32_t j = rev; j < (1u << root); j += 1u << len) table[j] = e;
        continue;
      }
      const unsigned prefix = rev & ((1u << root) - 1);
      if (prefix != cur_prefix) {
        cur_prefix = prefix;
        cur_sub = next_sub;
        next_sub += 1u << sub_bits;
        table[prefix] = (kind == CodeKind::kDist ? kDistSubtable : kSubtable) | cur_sub << 16 | sub_bits << 8 | root;
      }
      const uint32_t e = symbol_entry(kind, sym, len - root);
      for (uint32_t j = rev >> root; j < (1u << sub_bits); j += 1u << (len - root)) table[cur_sub + j] = e;
    }
  }
  if (kind == CodeKind::kLitlen) pair_literals(table);
  return true;
}

}  // namespace mb::loader::inflate_detail
