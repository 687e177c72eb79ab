#include <zlib.h>

#include <climits>

#include "magicboot/loader/payload/hash.h"

namespace mb::loader {

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

}  // namespace mb::loader
