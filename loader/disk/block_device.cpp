#include "magicboot/loader/disk/block_device.h"

#include <cstring>

namespace mb::loader {

Res<void> MemoryBlockDevice::read(uint64_t lba, uint64_t count, uint8_t* buf) {
  const uint64_t n = sector_count();
  if (lba > n || count > n - lba)
    return MB_ERR(ErrorCode::kBadInput, "disk-read", "sectors [%lu, +%lu) past the disk's end (%lu sectors)", lba,
                  count, n);
  std::memcpy(buf, bytes_.data() + lba * sector_size_, count * sector_size_);
  return {};
}

}  // namespace mb::loader
