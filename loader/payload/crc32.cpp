// CRC-32 as gzip and FIT use it (zlib's crc32(): reflected 0xEDB88320,
// inverted in and out). Host: zlib itself. Firmware: the Armv8 CRC32
// instructions when the CPU has them, else a nibble-wise table (the firmware
// links no zlib; 64 bytes of table instead of zlib's 12 KiB braided ones).
#include <array>
#include <climits>

#include "magicboot/loader/payload/hash.h"

#if defined(MB_PAYLOAD_FIRMWARE)
#include "arm64/hash_ce.h"
#else
#include <zlib.h>
#endif

namespace mb::loader {

namespace {

// Four bits at a time: 64 bytes of table for a path only CPUs without the
// CRC32 instructions take (Cortex-A53/A57/A72 and QEMU's all have them).
constexpr std::array<uint32_t, 16> make_table() {
  std::array<uint32_t, 16> t{};
  for (uint32_t i = 0; i < 16; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 4; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 16> kTable = make_table();
static_assert(kTable[1] == 0x1db71064 && kTable[15] == 0xbdbdf21c);

}  // namespace

uint32_t crc32_nibbles(const uint8_t* data, size_t len, uint32_t crc) {
  uint32_t c = ~crc;
  for (size_t i = 0; i < len; ++i) {
    c ^= data[i];
    c = kTable[c & 0xf] ^ (c >> 4);
    c = kTable[c & 0xf] ^ (c >> 4);
  }
  return ~c;
}

#if defined(MB_PAYLOAD_FIRMWARE)

uint32_t crc32(const uint8_t* data, size_t len, uint32_t crc) {
  if (arm64::cpu_has_crc32()) return arm64::crc32_ce(data, len, crc);
  return crc32_nibbles(data, len, crc);
}

#else

uint32_t crc32(const uint8_t* data, size_t len, uint32_t crc) {
  uLong c = crc;
  // zlib takes a uInt length: feed anything larger in pieces.
  while (len > 0) {
    uInt n = len > UINT_MAX ? UINT_MAX : static_cast<uInt>(len);
    c = ::crc32(c, data, n);
    data += n;
    len -= n;
  }
  return static_cast<uint32_t>(c);
}

#endif

}  // namespace mb::loader
