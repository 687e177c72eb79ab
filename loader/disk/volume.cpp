#include "magicboot/loader/disk/volume.h"

#include <new>

namespace mb::loader {

const char* to_string(FsKind k) { return k == FsKind::kExt4 ? "ext4" : "fat"; }

Volume* Volume::new_in(Arena& arena) {
  void* at = arena.allocate(sizeof(Volume), alignof(Volume));
  return at != nullptr ? new (at) Volume : nullptr;
}

Res<void> Volume::mount(BlockDevice& part) {
  ext4_.reset();
  fat_.reset();
  auto e = Ext4::mount(part);
  if (e.ok()) {
    ext4_.emplace(*e);
    return {};
  }
  auto f = Fat::mount(part);
  if (f.ok()) {
    fat_.emplace(*f);
    return {};
  }
  return MB_ERR(ErrorCode::kBadInput, "volume-unknown", "neither ext4 (%s: %s) nor FAT (%s: %s)", e.error().check,
                e.error().detail, f.error().check, f.error().detail);
}

Res<VolumeFile> Volume::open(const char* path) {
  VolumeFile out;
  bool file = false;
  if (ext4_) {
    out.ext4 = MB_TRY(ext4_->lookup(path));
    out.size = out.ext4.size;
    file = out.ext4.is_file();
  } else {
    out.fat = MB_TRY(fat_->lookup(path));
    out.size = out.fat.size;
    file = !out.fat.dir;
  }
  if (!file) return MB_ERR(ErrorCode::kBadInput, "volume-not-file", "%s: not a regular file", path);
  return out;
}

Res<size_t> Volume::read(const VolumeFile& f, uint64_t offset, uint8_t* buf, size_t len) {
  return ext4_ ? ext4_->read(f.ext4, offset, buf, len) : fat_->read(f.fat, offset, buf, len);
}

Res<void> Volume::list(const char* dir, ListFn fn, void* ctx) {
  return ext4_ ? ext4_->list(dir, fn, ctx) : fat_->list(dir, fn, ctx);
}

}  // namespace mb::loader
