// FAT12/16/32, read-only, over a BlockDevice (an EFI system partition, a
// board's boot partition): the BPB, cluster chains (checked against the
// cluster count: a loop or an early end is an error), directories with long
// (VFAT) names and 8.3 names, both matched without regard to ASCII case.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/error.h"
#include "magicboot/loader/disk/block_device.h"

namespace mb::loader {

struct FatFile {
  uint32_t first_cluster = 0;  // 0: empty file (or FAT12/16's fixed root directory)
  uint32_t size = 0;
  bool dir = false;
  bool root = false;           // the root directory
};

class Fat {
 public:
  static constexpr size_t kMaxPath = 256;

  // Reads and checks the boot sector's BPB. Errors: "fat-bpb" (signature,
  // sizes, counts that do not fit the device), "fat-sector-size".
  static Res<Fat> mount(BlockDevice& dev);

  // An absolute path ("/EFI/debian/grubaa64.efi"). A file's whole chain is
  // checked here: exactly as many clusters as its size needs, then the end
  // mark (a loop or a chain cut short is "fat-chain"). Errors:
  // "fat-not-found", "fat-not-dir", "fat-path", "fat-chain", "disk-read".
  Res<FatFile> lookup(const char* path);

  // [offset, offset + len) of the file, clipped to its size; the bytes read.
  // Errors: "fat-chain" (a cluster out of range, free, bad, a loop, or a
  // chain shorter than the size), "disk-read".
  Res<size_t> read(const FatFile& file, uint64_t offset, uint8_t* buf, size_t len);

  // Calls fn with each name in the directory at `path` (the long name when
  // there is one, else the 8.3 name; without "." and ".."), in on-disk
  // order, until it returns false. Errors as lookup()'s, and "fat-not-dir".
  using ListFn = bool (*)(void* ctx, const char* name, size_t len);
  Res<void> list(const char* path, ListFn fn, void* ctx);
  unsigned bits() const { return bits_; }
  uint32_t cluster_bytes() const { return cluster_bytes_; }

 private:
  explicit Fat(BlockDevice& dev) : dev_(&dev) {}
  Res<void> read_sector(uint64_t sector, uint8_t* buf);
  Res<void> read_sectors(uint64_t sector, uint64_t count, uint8_t* buf);
  Res<uint32_t> next(uint32_t cluster);
  Res<uint32_t> cluster_at(const FatFile& file, uint32_t index);
  // Each entry of `dir`: its 8.3 name, its long name (nullptr if none) and
  // what it is; until fn returns false.
  using EntryFn = bool (*)(void* ctx, const char* sname, size_t slen, const char* lfn, size_t lfn_len,
                           const FatFile& f);
  Res<void> for_each_entry(const FatFile& dir, EntryFn fn, void* ctx);
  Res<FatFile> find(const FatFile& dir, const char* name, size_t len);
  Res<void> check_chain(const FatFile& file);

  BlockDevice* dev_;
  unsigned bits_ = 0;
  uint32_t bytes_per_sector_ = 0;  // the filesystem's sector
  uint32_t dev_per_sector_ = 1;    // device sectors in one
  uint32_t sectors_per_cluster_ = 0;
  uint32_t cluster_bytes_ = 0;
  uint32_t fat_start_ = 0;         // in filesystem sectors
  uint32_t root_start_ = 0;        // FAT12/16: the fixed root directory
  uint32_t root_entries_ = 0;
  uint32_t root_cluster_ = 0;      // FAT32
  uint32_t data_start_ = 0;
  uint32_t clusters_ = 0;          // data clusters: numbers 2 .. clusters_ + 1
  // The last position read() reached, so reading a file in order walks its
  // chain once.
  uint32_t cursor_file_ = 0, cursor_index_ = 0, cursor_cluster_ = 0;
  // The FAT sector next() read last: a chain's entries are mostly neighbours.
  uint64_t fat_cached_ = UINT64_MAX;
  alignas(8) uint8_t fat_sector_[kMaxSectorSize];
};

}  // namespace mb::loader
