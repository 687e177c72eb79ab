#include "inflate_tables.h"

#include <array>
#include <cstring>

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

// Each symbol's entry without its code length, which complete() adds. A
// template-only marker in bit 6 says the entry also records the code length
// in bits 8-12 (for extracting extra bits after it).
constexpr uint32_t kHasCodeBits = 1u << 6;

constexpr std::array<uint32_t, kNumLitlen> make_litlen_templates() {
  std::array<uint32_t, kNumLitlen> t{};
  for (unsigned s = 0; s < 256; ++s) t[s] = kLiteral | s << 8;
  t[256] = kSpecial | kEndOfBlock;
  for (unsigned s = 257; s < 286; ++s) {
    const unsigned extra = kLengthExtraBits[s - 257];
    // Without extra bits the length is the entry's; with them, the table
    // decodes them where they fit the index (decode_length_extras), and
    // the loop's slow branch does elsewhere.
    t[s] = extra == 0 ? uint32_t{kLengthBase[s - 257]} << 16
                      : kSpecial | kLengthExtra | uint32_t{kLengthBase[s - 257]} << 16 | kHasCodeBits | extra;
  }
  t[286] = t[287] = kSpecial | kInvalid;
  return t;
}
constexpr std::array<uint32_t, kNumDist> make_dist_templates() {
  std::array<uint32_t, kNumDist> t{};
  for (unsigned s = 0; s < 30; ++s) t[s] = uint32_t{kDistBase[s]} << 16 | kHasCodeBits | kDistExtraBits[s];
  t[30] = t[31] = kDistSpecial | kInvalid;
  return t;
}
constexpr std::array<uint32_t, kNumCodelen> make_codelen_templates() {
  std::array<uint32_t, kNumCodelen> t{};
  for (unsigned s = 0; s < kNumCodelen; ++s) t[s] = s << 8;
  return t;
}
constexpr auto kLitlenTemplates = make_litlen_templates();
constexpr auto kDistTemplates = make_dist_templates();
constexpr auto kCodelenTemplates = make_codelen_templates();

// The entry for a code of `bits` bits (of those left to match in its table).
constexpr uint32_t complete(uint32_t t, unsigned bits) {
  return (t & kHasCodeBits) ? t - kHasCodeBits + (bits << 8) + bits : t + bits;
}
static_assert(complete(kLitlenTemplates[265], 7) ==
              (kSpecial | kLengthExtra | 11u << 16 | 7u << 8 | 8u), "length 11-12: 7-bit code + 1 extra bit");
static_assert(complete(kDistTemplates[4], 5) == (5u << 16 | 5u << 8 | 6u));

const uint32_t* templates_of(CodeKind kind) {
  switch (kind) {
    case CodeKind::kLitlen: return kLitlenTemplates.data();
    case CodeKind::kDist: return kDistTemplates.data();
    case CodeKind::kCodelen: return kCodelenTemplates.data();
  }
  return nullptr;
}

// Lengths whose code and extra bits both fit the primary index get one
// entry per extra-bits value with the length itself in it: the hot loop
// then never extracts extra bits for them. rev: each length symbol's
// bit-reversed code (valid where lens is not 0).
void decode_length_extras(const uint8_t* lens, unsigned n, const uint16_t* rev, uint32_t* table) {
  for (unsigned s = 265; s < 285 && s < n; ++s) {
    const unsigned c = lens[s], extra = kLengthExtraBits[s - 257];
    if (c == 0 || c + extra > kLitlenRootBits) continue;
    const uint32_t base = kLengthBase[s - 257];
    for (uint32_t x = 0; x < (1u << extra); ++x)
      for (uint32_t j = rev[s - 257] | x << c; j < (1u << kLitlenRootBits); j += 1u << (c + extra))
        table[j] = (base + x) << 16 | (c + extra);
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
  // Incomplete: RFC 1951 allows one distance code of one bit; zlib extends
  // that to any code but the code-length code, still one bit long. Its
  // missing half stays invalid (below, entries no code claims keep the
  // invalid entry the table starts from).
  if (left > 0 && (kind == CodeKind::kCodelen || max != 1)) return false;

  // Canonical order: by (code length, symbol).
  uint16_t sorted[kNumLitlen];
  unsigned offset[kMaxCodeBits + 2] = {};
  for (unsigned len = 1; len <= kMaxCodeBits; ++len) offset[len + 1] = offset[len] + count[len];
  for (unsigned s = 0; s < n; ++s)
    if (lens[s] != 0) sorted[offset[lens[s]]++] = static_cast<uint16_t>(s);

  // The primary table, shortest codes first, doubling: once the codes of L
  // bits are in, entries [0, 2^L) are right for every code of at most L
  // bits, and copying them to [2^L, 2^(L+1)) makes those right too. A
  // store per code plus the copies, instead of one for each of the
  // 2^(root - L) entries a short code covers. Entries no code claims keep
  // the invalid entry the table starts from (the one incomplete code).
  const uint32_t* const templates = templates_of(kind);
  uint16_t length_rev[29];
  uint32_t rev = 0;
  unsigned i = 0;
  table[0] = table[1] = invalid_entry(kind);
  for (unsigned len = 1; len <= root; ++len) {
    for (const unsigned stop = i + count[len]; i < stop; ++i, rev = next_reversed(rev, len)) {
      const unsigned sym = sorted[i];
      table[rev] = complete(templates[sym], len);
      if (kind == CodeKind::kLitlen && sym >= 257 && sym < 286) length_rev[sym - 257] = static_cast<uint16_t>(rev);
    }
    if (len < root) std::memcpy(table + (1u << len), table, sizeof(uint32_t) << len);
  }
  if (kind == CodeKind::kLitlen) decode_length_extras(lens, n, length_rev, table);

  // Longer codes: a subtable per root-bit prefix, each spanning the longest
  // code's remaining bits (their lengths keep the slow branch's extraction).
  const unsigned sub_bits = max > root ? max - root : 0;
  unsigned next_sub = 1u << root;
  unsigned cur_prefix = ~0u, cur_sub = 0;
  for (unsigned len = root + 1; len <= max; ++len) {
    for (const unsigned stop = i + count[len]; i < stop; ++i, rev = next_reversed(rev, len)) {
      const unsigned prefix = rev & ((1u << root) - 1);
      if (prefix != cur_prefix) {
        cur_prefix = prefix;
        cur_sub = next_sub;
        next_sub += 1u << sub_bits;
        table[prefix] =
            (kind == CodeKind::kDist ? kDistSpecial : kSpecial) | kSubtable | cur_sub << 12 | sub_bits << 8 | root;
      }
      const uint32_t e = complete(templates[sorted[i]], len - root);
      for (uint32_t j = rev >> root; j < (1u << sub_bits); j += 1u << (len - root)) table[cur_sub + j] = e;
    }
  }
  return true;
}

}  // namespace mb::loader::inflate_detail
