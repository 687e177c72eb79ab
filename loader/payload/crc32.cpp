// CRC-32 as gzip and FIT use it (zlib's crc32(): reflected 0xEDB88320,
// inverted in and out). Host: zlib itself. Firmware: the Armv8 CRC32
// instructions when the CPU has them, else a byte-wise table (the firmware
// links no zlib; 1 KiB of table instead of zlib's 12 KiB braided ones).
#include <climits>

#include "magicboot/loader/payload/hash.h"

#if defined(MB_PAYLOAD_FIRMWARE)
#include <array>

#include "arm64/hash_ce.h"
#else
#include <zlib.h>
#endif

namespace mb::loader {

#if defined(MB_PAYLOAD_FIRMWARE)
namespace {

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();
static_assert(kTable[1] == 0x77073096 && kTable[255] == 0x2d02ef8d);

}  // namespace

uint32_t crc32(const uint8_t* data, size_t len, uint32_t crc) {
  if (arm64::cpu_has_crc32()) return arm64::crc32_ce(data, len, crc);
  uint32_t c = ~crc;
  for (size_t i = 0; i < len; ++i) c = kTable[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return ~c;
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
