// ext2/3/4, read-only, over a BlockDevice (a partition): the superblock and
// group descriptors (32- and 64-bit), extent trees (any depth; holes and
// unwritten extents read as zeros), directories by linear scan (htree
// directories included: their index blocks look like empty entries), fast
// and slow symlinks. Block-mapped (pre-extent) files are not read. Every
// on-disk number is checked before use: a corrupt filesystem is a named
// error, never a fault or an endless walk.
#pragma once

#include <cstddef>
#include <cstdint>

#include "magicboot/error.h"
#include "magicboot/loader/disk/block_device.h"

namespace mb::loader {

// [first_lba, first_lba + sectors) of `disk` as a device of its own.
class PartitionDevice final : public BlockDevice {
 public:
  PartitionDevice(BlockDevice& disk, uint64_t first_lba, uint64_t sectors)
      : disk_(disk), first_(first_lba), sectors_(sectors) {}
  uint32_t sector_size() const override { return disk_.sector_size(); }
  uint64_t sector_count() const override { return sectors_; }
  Res<void> read(uint64_t lba, uint64_t count, uint8_t* buf) override;

 private:
  BlockDevice& disk_;
  uint64_t first_, sectors_;
};

struct Ext4Inode {
  uint32_t number = 0;
  uint16_t mode = 0;
  uint32_t flags = 0;
  uint64_t size = 0;
  uint8_t block[60] = {};  // i_block: extent root or a fast symlink's target

  bool is_dir() const { return (mode & 0xf000) == 0x4000; }
  bool is_file() const { return (mode & 0xf000) == 0x8000; }
  bool is_symlink() const { return (mode & 0xf000) == 0xa000; }
};

class Ext4 {
 public:
  static constexpr uint32_t kMaxBlockSize = 4096;
  static constexpr unsigned kMaxSymlinks = 8;
  static constexpr size_t kMaxPath = 256;

  // Reads and checks the superblock. Errors: "ext4-superblock" (magic,
  // sizes, counts), "ext4-feature" (an incompatible feature we do not
  // read, named by its bits), "ext4-block-size" (above kMaxBlockSize or
  // below the sector size).
  static Res<Ext4> mount(BlockDevice& dev);

  // The inode at an absolute path ("/boot/vmlinuz"), following symlinks
  // on the way and, with `follow`, at the end. Errors: "ext4-not-found"
  // (naming the component), "ext4-not-dir", "ext4-symlink-loop",
  // "ext4-path" (too long, not absolute), "ext4-dir" (a bad entry, or a
  // directory over 16 MiB), and the structural ones below.
  Res<Ext4Inode> lookup(const char* path, bool follow = true);

  // Reads [offset, offset + len) of the file into buf, clipped to its size;
  // returns the bytes read. Errors: "ext4-extent" (a bad tree), "ext4-inode",
  // "ext4-blockmap" (a file without extents), "disk-read".
  Res<size_t> read(const Ext4Inode& inode, uint64_t offset, uint8_t* buf, size_t len);

  // Calls fn with each name in the directory at `path` (without "." and
  // ".."), in on-disk order, until it returns false. Errors as lookup()'s,
  // and "ext4-not-dir".
  using ListFn = bool (*)(void* ctx, const char* name, size_t len);
  Res<void> list(const char* path, ListFn fn, void* ctx);
  uint32_t block_size() const { return block_size_; }
  uint64_t block_count() const { return blocks_; }

 private:
  explicit Ext4(BlockDevice& dev) : dev_(&dev) {}
  Res<void> read_block(uint64_t block, uint8_t* buf);
  Res<void> read_blocks(uint64_t block, uint64_t count, uint8_t* buf);
  Res<Ext4Inode> inode(uint32_t number);
  // The physical block of `logical`; `run`: how many blocks from it on
  // the same extent maps contiguously -- or, in a hole, how many blocks up
  // to the next extent (1 when the hole runs to the file's end).
  Res<uint64_t> map_block(const Ext4Inode& inode, uint64_t logical, bool& hole, uint64_t* run = nullptr);
  using EntryFn = bool (*)(void* ctx, const char* name, size_t len, uint32_t inode);
  Res<void> for_each_entry(const Ext4Inode& dir, EntryFn fn, void* ctx);
  Res<uint32_t> find_in_dir(const Ext4Inode& dir, const char* name, size_t len);

  BlockDevice* dev_;
  uint32_t block_size_ = 0;
  uint64_t blocks_ = 0;
  uint32_t first_data_block_ = 0;
  uint32_t inodes_per_group_ = 0;
  uint32_t inodes_ = 0;
  uint32_t inode_size_ = 128;
  uint32_t groups_ = 0;
  uint32_t desc_size_ = 32;
  // The extent node map_block() read last (below the inode's own root).
  uint64_t node_block_ = UINT64_MAX;
  alignas(8) uint8_t node_[kMaxBlockSize];
};

}  // namespace mb::loader
