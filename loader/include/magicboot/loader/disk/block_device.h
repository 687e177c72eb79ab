// A disk as the loader reads it: whole sectors by LBA. The PV block
// frontend implements it under Xen; MemoryBlockDevice serves an image held
// in memory (host tests, fuzzers, a disk image given as a module).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/error.h"

namespace mb::loader {

class BlockDevice {
 public:
  virtual uint32_t sector_size() const = 0;  // a power of two, 512..4096
  virtual uint64_t sector_count() const = 0;
  // Reads sectors [lba, lba + count) into buf (count * sector_size bytes).
  // Fails ("disk-read") past the end or when the device does.
  virtual Res<void> read(uint64_t lba, uint64_t count, uint8_t* buf) = 0;

 protected:
  ~BlockDevice() = default;
};

inline constexpr uint32_t kMaxSectorSize = 4096;

// `bytes` as a disk of `sector_size` sectors; a partial last sector is not
// part of the disk.
class MemoryBlockDevice final : public BlockDevice {
 public:
  MemoryBlockDevice(std::span<const uint8_t> bytes, uint32_t sector_size = 512)
      : bytes_(bytes), sector_size_(sector_size) {}
  uint32_t sector_size() const override { return sector_size_; }
  uint64_t sector_count() const override { return bytes_.size() / sector_size_; }
  Res<void> read(uint64_t lba, uint64_t count, uint8_t* buf) override;

 private:
  std::span<const uint8_t> bytes_;
  uint32_t sector_size_;
};

}  // namespace mb::loader
