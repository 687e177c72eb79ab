// The structure block as a sequence of tokens: what every walk (reader.h)
// and the fixup's copying writer step through. Offsets are libfdt's, from
// the start of the structure block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/loader/fdt/format.h"

namespace mb::fdt {

// The two blocks a walk reads, clamped to totalsize (check_header() already
// put them inside it; the clamp keeps every read in bounds anyway). Before
// v17 the header has no size_dt_struct: the block then runs to totalsize.
struct Blocks {
  const uint8_t* st;
  uint32_t st_size;
  const char* strings;
  uint32_t strings_size;
};

Blocks blocks_of(const void* fdt);

using Word [[gnu::may_alias, gnu::aligned(4)]] = uint32_t;

// The offset of the NUL ending the string at `from`, or `size` when there is
// none before `size`. A word at a time where the block allows (node names
// start on a token boundary; an aligned word load is safe on Device memory);
// memchr costs a call and its set-up per name.
[[gnu::always_inline]] inline uint32_t find_nul(const uint8_t* s, uint32_t from, uint32_t size) {
  uint32_t i = from;
  if ((reinterpret_cast<uintptr_t>(s + i) & 3) == 0) {
    for (; size - i >= 4; i += 4) {
      const uint32_t w = *reinterpret_cast<const Word*>(s + i);  // byte order does not matter here
      if (((w - 0x01010101u) & ~w & 0x80808080u) != 0) break;     // some byte is zero
    }
  }
  for (; i < size; ++i)
    if (s[i] == 0) return i;
  return size;
}

constexpr uint32_t align4(uint64_t v) { return static_cast<uint32_t>((v + 3) & ~uint64_t{3}); }

// One token: its tag and the offset of the following token, or tag 0 and
// next = -kX, the error fdt_next_tag leaves: -kTruncated when the tag itself
// is not inside the block, -kBadStructure for an unknown tag or a name or
// property that runs past the block.
struct Token {
  uint32_t tag;
  int64_t next;
};

[[gnu::always_inline]] inline Token token(const Blocks& b, uint32_t off) {
  if (off > b.st_size || b.st_size - off < 4 || (off & 3) != 0) return {0, -kTruncated};
  const uint32_t tag = be32(b.st + off);
  switch (tag) {
    case kBeginNode: {
      const uint32_t nul = find_nul(b.st, off + 4, b.st_size);
      if (nul == b.st_size) return {0, -kBadStructure};
      return {tag, align4(uint64_t{nul} + 1)};
    }
    case kProp: {
      if (b.st_size - off < 12) return {0, -kBadStructure};
      const uint64_t end = uint64_t{off} + 12 + be32(b.st + off + 4);
      if (end > b.st_size) return {0, -kBadStructure};
      return {tag, align4(end)};
    }
    case kEndNode:
    case kNop:
    case kEnd:
      return {tag, off + 4};
    default:
      return {0, -kBadStructure};
  }
}

// token(), not inlined: for walks that are not the hot loops (each inlined
// copy costs ~200 bytes of firmware).
Token next_token(const Blocks& b, uint32_t off);

// From a BEGIN_NODE at `off`: the offset just past its END_NODE, or -kX.
int64_t past_subtree(const Blocks& b, uint32_t off);

// The property name at `nameoff` of the strings block and its length, or
// nullptr when it does not lie NUL-terminated inside the block.
const char* string_at(const Blocks& b, uint32_t nameoff, size_t* len);

}  // namespace mb::fdt
