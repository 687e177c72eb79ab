// The flattened device tree format (devicetree specification, ch. 5): the
// header, the tokens, big-endian loads and stores, and the error numbers the
// reader and writer answer with.
//
// Error numbers are libfdt's (a negative -kX, as libfdt's -FDT_ERR_X), so
// tests can compare our answers with host libfdt's one for one; the texts
// are our own (reason()).
//
// Every load is byte by byte: with the MMU off the blob is Device memory,
// where an unaligned word load faults (the firmware builds -mstrict-align
// and under -Os a 4-byte memcpy of unknown alignment is a library call).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb::fdt {

inline constexpr uint32_t kMagic = 0xd00dfeed;
// The version we write, and the oldest a v17 reader must understand.
inline constexpr uint32_t kVersion = 17;
inline constexpr uint32_t kLastCompatibleVersion = 16;

// Header fields, as byte offsets of big-endian 32-bit words.
enum HeaderField : uint32_t {
  kHdrMagic = 0,
  kHdrTotalSize = 4,
  kHdrOffStruct = 8,
  kHdrOffStrings = 12,
  kHdrOffMemRsv = 16,
  kHdrVersion = 20,
  kHdrLastCompVersion = 24,
  kHdrBootCpuid = 28,
  kHdrSizeStrings = 32,
  kHdrSizeStruct = 36,
};
inline constexpr size_t kHeaderSize = 40;  // v17
// A memory reservation entry: two big-endian 64-bit words, address and size.
inline constexpr size_t kMemRsvEntrySize = 16;

enum Tag : uint32_t {
  kBeginNode = 1,
  kEndNode = 2,
  kProp = 3,
  kNop = 4,
  kEnd = 9,
};

// Positive error numbers; functions return (or leave in *len) their negation.
enum Err : int {
  kNotFound = 1,
  kNoSpace = 3,
  kBadOffset = 4,
  kBadPath = 5,
  kTruncated = 8,
  kBadMagic = 9,
  kBadVersion = 10,
  kBadStructure = 11,
  kBadNCells = 14,
  kBadValue = 15,
};

// A short reason for `err` (either sign), for error messages.
const char* reason(int err);

[[gnu::always_inline]] inline uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
[[gnu::always_inline]] inline uint64_t be64(const uint8_t* p) { return uint64_t{be32(p)} << 32 | be32(p + 4); }
inline void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void put_be64(uint8_t* p, uint64_t v) {
  put_be32(p, static_cast<uint32_t>(v >> 32));
  put_be32(p + 4, static_cast<uint32_t>(v));
}

// One header field of the blob at `fdt` (which must hold kHeaderSize bytes).
inline uint32_t header(const void* fdt, HeaderField f) { return be32(static_cast<const uint8_t*>(fdt) + f); }
inline uint32_t magic(const void* fdt) { return header(fdt, kHdrMagic); }
inline uint32_t total_size(const void* fdt) { return header(fdt, kHdrTotalSize); }
inline uint32_t version(const void* fdt) { return header(fdt, kHdrVersion); }

// Big-endian cells (1 or 2 in practice) as one number.
inline uint64_t read_cells(const uint8_t* p, int cells) {
  uint64_t v = 0;
  for (int i = 0; i < cells; ++i) v = (v << 32) | be32(p + 4 * i);
  return v;
}

}  // namespace mb::fdt
