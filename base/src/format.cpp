#include "magicboot/format.h"

#include <cstdint>

namespace mb {
namespace {

// The output so far: counts every character, stores those that fit.
struct Sink {
  char* buf;
  size_t cap;
  size_t len = 0;

  void put(char c) {
    if (len + 1 < cap) buf[len] = c;
    ++len;
  }
  void repeat(char c, int n) {
    for (; n > 0; --n) put(c);
  }
};

// The flags as bits, in the order of kFlagChars.
enum Flag : unsigned { kLeft = 1, kZero = 2, kAlt = 4, kPlus = 8, kSpace = 16 };
constexpr char kFlagChars[] = "-0#+ ";

struct Spec {
  unsigned flags = 0;
  int width = 0;
  int precision = -1;
};

int read_number(const char*& f) {
  int n = 0;
  while (*f >= '0' && *f <= '9') n = n * 10 + (*f++ - '0');
  return n;
}

// Pads `body` (n characters, after `prefix`) to the width as printf does:
// spaces before the prefix, zeros after it, or spaces after the body.
void emit(Sink& out, const Spec& s, const char* prefix, const char* body, int n, int zeros = 0) {
  int prefix_len = 0;
  while (prefix[prefix_len] != '\0') ++prefix_len;
  int pad = s.width - prefix_len - zeros - n;
  if (pad < 0) pad = 0;
  if (!(s.flags & (kLeft | kZero))) out.repeat(' ', pad);
  for (const char* p = prefix; *p != '\0'; ++p) out.put(*p);
  if (s.flags & kZero) out.repeat('0', pad);
  out.repeat('0', zeros);
  for (int i = 0; i < n; ++i) out.put(body[i]);
  if (s.flags & kLeft) out.repeat(' ', pad);
}

// Digits of v (at least `precision` of them), then emit() pads them.
void emit_integer(Sink& out, Spec s, uint64_t v, unsigned base, bool upper, const char* prefix) {
  const char* const alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char digits[20];  // 2^64 - 1 has 20 decimal digits
  char* const end = digits + sizeof digits;
  char* p = end;
  for (; v != 0; v /= base) *--p = alphabet[v % base];
  // With a precision, 0 prints no digits at precision 0 and the 0 flag is
  // ignored; without one, 0 prints as "0".
  int zeros = 0;
  if (s.precision >= 0) {
    s.flags &= ~kZero;
    if (s.precision > end - p) zeros = s.precision - static_cast<int>(end - p);
  } else if (p == end) {
    *--p = '0';
  }
  emit(out, s, prefix, p, static_cast<int>(end - p), zeros);
}

}  // namespace

// Three va_arg reads serve every conversion, each expanded once (on AArch64
// one is ~15 instructions): an int-sized integer is read as unsigned and a
// 64-bit one as unsigned long long (C allows the signedness to differ), a
// string as void* (C allows void* for a character pointer).
int vformat_to(char* buf, size_t cap, const char* fmt, va_list ap) {
  static_assert(sizeof(long) == 8 && sizeof(size_t) == 8, "LP64: l, ll, z, j and t are all 64 bits");
  Sink out{buf, cap};
  auto next_u32 = [&]() __attribute__((noinline)) { return va_arg(ap, unsigned); };
  auto next_u64 = [&]() __attribute__((noinline)) { return va_arg(ap, unsigned long long); };
  auto next_ptr = [&]() __attribute__((noinline)) { return va_arg(ap, void*); };
  for (const char* f = fmt; *f != '\0'; ++f) {
    if (*f != '%') {
      out.put(*f);
      continue;
    }
    const char* const start = f++;
    Spec s;
    for (;; ++f) {
      int i = 0;
      while (kFlagChars[i] != '\0' && kFlagChars[i] != *f) ++i;
      if (kFlagChars[i] == '\0') break;
      s.flags |= 1u << i;
    }
    // A width or precision of '*' comes from the arguments.
    if (*f == '*') {
      ++f;
      s.width = static_cast<int>(next_u32());
    } else {
      s.width = read_number(f);
    }
    if (*f == '.') {
      if (*++f == '*') {
        ++f;
        s.precision = static_cast<int>(next_u32());
      } else {
        s.precision = read_number(f);
      }
    }
    if (s.width < 0) {
      s.flags |= kLeft;
      s.width = -s.width;
    }
    if (s.precision < -1) s.precision = -1;
    if (s.flags & kLeft) s.flags &= ~kZero;
    // Length: bits of the argument (64 for l, ll, z, j, t on LP64).
    int bits = 32;
    if (*f == 'h') {
      bits = 16;
      if (*++f == 'h') {
        bits = 8;
        ++f;
      }
    } else if (*f == 'l' || *f == 'z' || *f == 'j' || *f == 't') {
      bits = 64;
      if (*f == 'l' && f[1] == 'l') ++f;
      ++f;
    }
    const char c = *f;
    if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'p') {
      uint64_t v = (bits == 64 || c == 'p') ? next_u64() : next_u32();
      const char* prefix = "";
      if (c == 'd' || c == 'i') {
        // Sign-extend from the argument's width, then split off the sign.
        const int shift = 64 - bits;
        const int64_t sv = static_cast<int64_t>(v << shift) >> shift;
        v = sv < 0 ? 0 - static_cast<uint64_t>(sv) : static_cast<uint64_t>(sv);
        prefix = sv < 0 ? "-" : (s.flags & kPlus) ? "+" : (s.flags & kSpace) ? " " : "";
      } else {
        if (bits < 64) v &= ~(~uint64_t{0} << bits);
        if (c != 'u' && (((s.flags & kAlt) && v != 0) || c == 'p')) prefix = c == 'X' ? "0X" : "0x";
      }
      emit_integer(out, s, v, c == 'd' || c == 'i' || c == 'u' ? 10 : 16, c == 'X', prefix);
    } else if (c == 's' || c == 'c') {
      char ch = 0;
      const char* str = &ch;
      if (c == 'c') {
        ch = static_cast<char>(next_u32());
      } else {
        str = static_cast<const char*>(next_ptr());
        if (str == nullptr) str = "(null)";
      }
      int n = 0;
      if (c == 'c') n = 1;
      else
        while ((s.precision < 0 || n < s.precision) && str[n] != '\0') ++n;
      s.flags &= ~kZero;
      emit(out, s, "", str, n);
    } else if (c == '%') {
      out.put('%');
    } else {
      // Not ours: copied out as written (to the end of the string at worst).
      for (const char* p = start; p <= f && *p != '\0'; ++p) out.put(*p);
      if (c == '\0') break;
    }
  }
  if (cap > 0) buf[out.len < cap ? out.len : cap - 1] = '\0';
  return static_cast<int>(out.len);
}

int format_to(char* buf, size_t cap, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vformat_to(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

SizeText human_size(uint64_t bytes) {
  static constexpr char kUnits[] = "B\0\0\0KiB\0MiB\0GiB\0TiB";  // 4 bytes each
  // The unit: bits above the top set one, in tens (no loop: smaller code).
  unsigned u = bytes != 0 ? static_cast<unsigned>(63 - __builtin_clzll(bytes)) / 10 : 0;
  if (u > 4) u = 4;
  const unsigned shift = 10 * u;
  const uint64_t rest = bytes & ((uint64_t{1} << shift) - 1);
  // In tenths of the unit, rounded half up (rest < 2^40: rest * 10 cannot
  // overflow; bytes >> shift < 2^24 once u is 4).
  uint64_t tenths = (bytes >> shift) * 10 + ((rest * 10 + (uint64_t{1} << shift >> 1)) >> shift);
  if (tenths >= 10240 && u < 4) tenths = 10, ++u;  // 1023.95 MiB is 1.0 GiB
  SizeText t;
  // Precision 0 prints no digit for 0: a decimal only when not exact.
  format_to(t.text, sizeof t.text, "%lu%s%.*lu %s", tenths / 10, rest != 0 ? "." : "", rest != 0, tenths % 10,
            kUnits + 4 * u);
  return t;
}

}  // namespace mb
