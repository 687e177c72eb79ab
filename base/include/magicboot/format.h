// snprintf for the loader: the printf subset its messages use, in ~1.9 KiB
// of firmware code (picolibc's integer vfprintf and its helpers were ~2.7 KiB).
// Same code in the firmware and on the host, held to glibc's output by
// tests/unit/base/format_test.cpp.
//
// Conversions d i u x X p s c and %%; flags - 0 # + and space; a width and
// a precision (digits or *); lengths hh h l ll z j t. %p prints as %#lx
// ("0x0" for null, where glibc prints "(nil)"); a null %s prints "(null)".
// Anything else is copied out as written.
//
// A 64-bit value prints with %lx / %lu and no cast: both targets are LP64,
// where uint64_t is unsigned long (asserted below), so -Wformat checks it.
// Typed addresses print their .value: "%#lx", gfn.value.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace mb {

static_assert(std::is_same_v<uint64_t, unsigned long>, "LP64: %lx prints a uint64_t as it is");

// Writes at most cap - 1 characters and a NUL (when cap > 0); returns the
// length the whole text needs, as vsnprintf does.
int vformat_to(char* buf, size_t cap, const char* fmt, va_list ap);
[[gnu::format(printf, 3, 4)]] int format_to(char* buf, size_t cap, const char* fmt, ...);

// A size as people read it, the one form of every size in the human-readable
// reports (exact bytes are in the JSON): "602 B", "128 KiB", "26.7 MiB".
// The unit is the largest of B, KiB, MiB, GiB, TiB the size reaches. A whole
// number of that unit prints as an integer; anything else with one decimal,
// rounded half up -- so "2.0 MiB" is near 2 MiB, "2 MiB" is exactly it.
// Integer arithmetic only.
struct SizeText {
  char text[24];
};
SizeText human_size(uint64_t bytes);

}  // namespace mb
