// The bit-level helpers and limits shared by inflate.cpp (headers, the
// careful loop) and inflate_fast.cpp (the fast loop, built for speed while
// the rest of the image is built for size). Internal to loader/payload.
#pragma once

#include <cstddef>
#include <cstdint>

#include "inflate_tables.h"
#include "magicboot/error.h"
#include "magicboot/loader/payload/inflate.h"

namespace mb::loader::inflate_detail {

// One step of the fast loop refills the bit buffer at most twice, each time
// advancing at most 7 bytes and loading 8; it writes at least one byte and
// at most two literals and a 258-byte match, whose 16-byte copy steps may
// write 15 bytes past it.
inline constexpr size_t kStepMaxInput = 14;
inline constexpr size_t kStepMaxOutput = kInflateMaxMatch + 2;
// The loop checks its stops every two steps, and only runs while two more
// steps cannot reach either buffer's end.
inline constexpr size_t kFastInputSlack = 2 * kStepMaxInput + 8;
inline constexpr size_t kFastOutputSlack = 2 * kStepMaxOutput + 15;

// What the bit buffer must hold before decoding a distance: 15-bit code
// plus 13 extra bits.
inline constexpr unsigned kDistanceBits = kMaxCodeBits + 13;

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

inline uint64_t low_bits(uint64_t v, unsigned n) { return v & ~(~uint64_t{0} << n); }

// v's low (e mod 64) bits, for a table entry e. On AArch64 the shift takes
// the entry as it is (LSLV uses the low six bits): GCC does not know that
// and would mask it first, one instruction per match of the hot loop.
inline uint64_t low_entry_bits(uint64_t v, uint32_t e) {
#if defined(__aarch64__)
  uint64_t high;
  asm("lsl %0, %1, %x2" : "=r"(high) : "r"(~uint64_t{0}), "r"(e));  // %x2: e's register as 64 bits
  return v & ~high;
#else
  return low_bits(v, static_cast<unsigned>(e & kEntryBitsMask));
#endif
}

// The extra bits of a length or distance entry: they follow its code.
inline uint64_t extra_of(uint64_t bitbuf, uint32_t e) { return low_entry_bits(bitbuf, e) >> code_bits(e); }

// "invalid <which> code at input offset <at>".
Failure invalid_code(const char* which, size_t at);

}  // namespace mb::loader::inflate_detail
