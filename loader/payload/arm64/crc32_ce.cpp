// Built with -march=armv8-a+crc; called only when cpu_has_crc32().
// CRC32B/W/X use gzip's reflected polynomial 0xEDB88320 without the pre- and
// post-inversion, which zlib's crc32() adds: hence the two ~.
#include <arm_acle.h>

#include "hash_ce.h"

namespace mb::loader::arm64 {

uint32_t crc32_ce(const uint8_t* p, size_t len, uint32_t crc) {
  uint32_t c = ~crc;
  for (; len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0; --len) c = __crc32b(c, *p++);
  // p is 8-byte aligned from here: plain 64-bit loads (may_alias: the
  // bytes are read as words).
  using Word = uint64_t __attribute__((may_alias, aligned(8)));
  const Word* w = reinterpret_cast<const Word*>(p);
  // 64 bytes a trip: a gzip boot hashes the whole 27 MB kernel, and the
  // loop's own compare, branch and step are then a tenth of its work.
  for (const Word* const stop = w + len / 64 * 8; w != stop; w += 8) {
    c = __crc32d(__crc32d(__crc32d(__crc32d(c, w[0]), w[1]), w[2]), w[3]);
    c = __crc32d(__crc32d(__crc32d(__crc32d(c, w[4]), w[5]), w[6]), w[7]);
  }
  len %= 64;
  for (; len >= 8; len -= 8) c = __crc32d(c, *w++);
  p = reinterpret_cast<const uint8_t*>(w);
  for (; len > 0; --len) c = __crc32b(c, *p++);
  return ~c;
}

}  // namespace mb::loader::arm64
