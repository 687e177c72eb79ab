// A partition's filesystem as the disk boot reads it, ext4 or FAT behind
// one face: regular files by absolute path (symlinks followed), their
// bytes, directory listings. The partition device must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "magicboot/arena.h"
#include "magicboot/error.h"
#include "magicboot/loader/disk/ext4.h"
#include "magicboot/loader/disk/fat.h"

namespace mb::loader {

enum class FsKind : uint8_t { kExt4, kFat };
const char* to_string(FsKind k);

struct VolumeFile {
  uint64_t size = 0;
  Ext4Inode ext4{};
  FatFile fat{};
};

class Volume {
 public:
  // ext4 when the superblock says so, else FAT. "volume-unknown" names
  // both readers' objections. In place: a volume is over 8 KiB (each
  // reader keeps a block), too big to pass around on the firmware's stack;
  // callers keep it in the arena (new_in).
  Res<void> mount(BlockDevice& part);
  // A volume constructed in `arena` (nullptr: it is full).
  static Volume* new_in(Arena& arena);

  FsKind kind() const { return ext4_ ? FsKind::kExt4 : FsKind::kFat; }
  // A regular file; "volume-not-file" for a directory or anything else,
  // and the filesystem's own errors (ext4-not-found, fat-not-found, ...).
  Res<VolumeFile> open(const char* path);
  bool exists(const char* path) { return open(path).ok(); }
  Res<size_t> read(const VolumeFile& f, uint64_t offset, uint8_t* buf, size_t len);
  using ListFn = bool (*)(void* ctx, const char* name, size_t len);
  Res<void> list(const char* dir, ListFn fn, void* ctx);

 private:
  std::optional<Ext4> ext4_;
  std::optional<Fat> fat_;
};

}  // namespace mb::loader
