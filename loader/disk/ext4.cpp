#include "magicboot/loader/disk/ext4.h"

#include <cstring>

#include "magicboot/bytes.h"

namespace mb::loader {
namespace {

constexpr uint16_t kMagic = 0xef53;
constexpr uint32_t kRootInode = 2;
// Incompatible features this reader understands: filetype, recover (the
// journal is not replayed: /boot is read as last written), extents,
// 64bit, mmp, flex_bg, csum_seed, largedir (deeper htrees; we scan).
constexpr uint32_t kIncompatKnown = 0x0002 | 0x0004 | 0x0040 | 0x0080 | 0x0100 | 0x0200 | 0x2000 | 0x4000;
constexpr uint32_t kIncompat64Bit = 0x0080;
constexpr uint32_t kInodeExtents = 0x80000;
constexpr uint16_t kExtentMagic = 0xf30a;
constexpr unsigned kMaxExtentDepth = 5;
// A directory is scanned block by block: a corrupt size must not make that
// scan endless. Boot directories are a few KiB; 16 MiB is far beyond any.
constexpr uint64_t kMaxDirBytes = uint64_t{16} << 20;

Failure bad(const char* check, const char* what, uint64_t a = 0, uint64_t b = 0) {
  return MB_ERR(ErrorCode::kBadInput, check, "%s (%#lx, %#lx)", what, a, b);
}

}  // namespace

Res<void> PartitionDevice::read(uint64_t lba, uint64_t count, uint8_t* buf) {
  if (lba > sectors_ || count > sectors_ - lba)
    return MB_ERR(ErrorCode::kBadInput, "disk-read", "sectors [%lu, +%lu) past the partition's end (%lu sectors)", lba,
                  count, sectors_);
  return disk_.read(first_ + lba, count, buf);
}

Res<Ext4> Ext4::mount(BlockDevice& dev) {
  const uint32_t ss = dev.sector_size();
  alignas(8) uint8_t sb[1024];
  if (ss > 1024 ? dev.sector_count() < 1 : dev.sector_count() < 2048 / ss)
    return MB_ERR(ErrorCode::kBadInput, "ext4-superblock", "a device of %lu sectors holds no superblock",
                  dev.sector_count());
  {
    alignas(8) uint8_t sector[kMaxSectorSize];
    const uint64_t first = 1024 / ss, count = ss > 1024 ? 1 : 1024 / ss;
    if (ss <= 1024) {
      MB_CHECK(dev.read(first, count, sb));
    } else {
      MB_CHECK(dev.read(0, 1, sector));
      std::memcpy(sb, sector + 1024, 1024);
    }
  }
  if (load_le16(sb + 0x38) != kMagic)
    return MB_ERR(ErrorCode::kBadInput, "ext4-superblock", "no ext2/3/4 magic (0xef53) at byte 1024: %#x",
                  load_le16(sb + 0x38));
  Ext4 fs(dev);
  const uint32_t log = load_le32(sb + 0x18);
  if (log > 6) return MB_ERR(ErrorCode::kBadInput, "ext4-superblock", "block size 1024 << %u", log);
  fs.block_size_ = 1024u << log;
  if (fs.block_size_ > kMaxBlockSize || fs.block_size_ < ss)
    return MB_ERR(ErrorCode::kUnsupported, "ext4-block-size", "block size %u (this reader: %u..%u)", fs.block_size_,
                  ss, kMaxBlockSize);
  const uint32_t incompat = load_le32(sb + 0x60);
  if ((incompat & ~kIncompatKnown) != 0)
    return MB_ERR(ErrorCode::kUnsupported, "ext4-feature", "incompatible feature bits %#x not supported",
                  incompat & ~kIncompatKnown);
  fs.blocks_ = load_le32(sb + 0x04);
  if (incompat & kIncompat64Bit) fs.blocks_ |= uint64_t{load_le32(sb + 0x150)} << 32;
  fs.inodes_ = load_le32(sb + 0x00);
  fs.first_data_block_ = load_le32(sb + 0x14);
  const uint32_t blocks_per_group = load_le32(sb + 0x20);
  fs.inodes_per_group_ = load_le32(sb + 0x28);
  fs.inode_size_ = load_le32(sb + 0x4c) >= 1 ? load_le16(sb + 0x58) : 128;
  fs.desc_size_ = (incompat & kIncompat64Bit) ? load_le16(sb + 0xfe) : 32;
  const uint64_t device_blocks = dev.sector_count() / (fs.block_size_ / ss);
  if (fs.blocks_ == 0 || fs.blocks_ > device_blocks || blocks_per_group == 0 || fs.inodes_per_group_ == 0 ||
      fs.inode_size_ < 128 || fs.inode_size_ > fs.block_size_ || (fs.inode_size_ & (fs.inode_size_ - 1)) != 0 ||
      fs.desc_size_ < 32 || fs.desc_size_ > 1024 || (fs.desc_size_ & (fs.desc_size_ - 1)) != 0 ||
      fs.first_data_block_ >= fs.blocks_)
    return MB_ERR(ErrorCode::kBadInput, "ext4-superblock",
                  "inconsistent: %lu blocks (device %lu), %u per group, %u inodes per group of %u bytes, descriptors %u",
                  fs.blocks_, device_blocks, blocks_per_group, fs.inodes_per_group_, fs.inode_size_, fs.desc_size_);
  const uint64_t groups = (fs.blocks_ - fs.first_data_block_ + blocks_per_group - 1) / blocks_per_group;
  if (groups > UINT32_MAX || uint64_t{fs.inodes_per_group_} * groups < fs.inodes_)
    return MB_ERR(ErrorCode::kBadInput, "ext4-superblock", "%lu groups of %u inodes for %u inodes", groups,
                  fs.inodes_per_group_, fs.inodes_);
  fs.groups_ = static_cast<uint32_t>(groups);
  return fs;
}

Res<void> Ext4::read_block(uint64_t block, uint8_t* buf) { return read_blocks(block, 1, buf); }

Res<void> Ext4::read_blocks(uint64_t block, uint64_t count, uint8_t* buf) {
  if (block >= blocks_ || count > blocks_ - block)
    return bad("ext4-extent", "blocks past the filesystem's end", block + count, blocks_);
  const uint32_t per = block_size_ / dev_->sector_size();
  return dev_->read(block * per, count * per, buf);
}

Res<Ext4Inode> Ext4::inode(uint32_t number) {
  if (number == 0 || number > inodes_) return bad("ext4-inode", "inode number out of range", number, inodes_);
  const uint32_t group = (number - 1) / inodes_per_group_, index = (number - 1) % inodes_per_group_;
  if (group >= groups_) return bad("ext4-inode", "inode in a group that does not exist", number, group);
  alignas(8) uint8_t buf[kMaxBlockSize];
  // Group descriptors start in the block after the superblock's.
  const uint64_t desc_at = uint64_t{group} * desc_size_;
  MB_CHECK(read_block(first_data_block_ + 1 + desc_at / block_size_, buf));
  const uint8_t* d = buf + desc_at % block_size_;
  uint64_t table = load_le32(d + 0x08);
  if (desc_size_ >= 64) table |= uint64_t{load_le32(d + 0x28)} << 32;
  const uint64_t byte = uint64_t{index} * inode_size_;
  MB_CHECK(read_block(table + byte / block_size_, buf));
  const uint8_t* p = buf + byte % block_size_;
  Ext4Inode n;
  n.number = number;
  n.mode = load_le16(p + 0x00);
  n.size = load_le32(p + 0x04) | uint64_t{load_le32(p + 0x6c)} << 32;
  n.flags = load_le32(p + 0x20);
  std::memcpy(n.block, p + 0x28, sizeof n.block);
  return n;
}

// The physical block of `logical`, down the extent tree; `hole` when no
// extent maps it or the extent is unwritten (both read as zeros).
Res<uint64_t> Ext4::map_block(const Ext4Inode& n, uint64_t logical, bool& hole, uint64_t* run) {
  if ((n.flags & kInodeExtents) == 0)
    return MB_ERR(ErrorCode::kUnsupported, "ext4-blockmap", "inode %u has no extent tree (a block-mapped file)", n.number);
  const uint8_t* node = n.block;
  size_t node_size = sizeof n.block;
  hole = true;
  if (run != nullptr) *run = 1;
  for (unsigned level = 0;; ++level) {
    const uint16_t magic = load_le16(node), entries = load_le16(node + 2), depth = load_le16(node + 6);
    if (magic != kExtentMagic || level > kMaxExtentDepth || depth > kMaxExtentDepth ||
        12 + size_t{entries} * 12 > node_size)
      return MB_ERR(ErrorCode::kBadInput, "ext4-extent", "inode %u: bad extent node at level %u (magic %#x, %u entries, depth %u)",
                    n.number, level, magic, entries, depth);
    // The last entry that starts at or before `logical`, and where the
    // next one starts (a hole runs up to it).
    const uint8_t* hit = nullptr;
    uint64_t next_start = UINT64_MAX;
    for (uint16_t i = 0; i < entries; ++i) {
      const uint8_t* e = node + 12 + 12 * i;
      if (load_le32(e) > logical) {
        next_start = load_le32(e);
        break;
      }
      hit = e;
    }
    if (depth == 0 || hit == nullptr) {
      if (run != nullptr && next_start != UINT64_MAX) *run = next_start - logical;
      if (hit == nullptr) return uint64_t{0};
    }
    if (depth == 0) {
      uint32_t len = load_le16(hit + 4);
      const bool unwritten = len > 32768;
      if (unwritten) len -= 32768;
      const uint64_t start = uint64_t{load_le16(hit + 6)} << 32 | load_le32(hit + 8);
      const uint64_t first = load_le32(hit);
      if (logical >= first + len) return uint64_t{0};
      if (run != nullptr) *run = first + len - logical;
      if (unwritten) return uint64_t{0};
      hole = false;
      return start + (logical - first);
    }
    // A file read in order asks for the same leaf again and again: through
    // blkfront each read of it would be a round trip to dom0.
    const uint64_t child = uint64_t{load_le16(hit + 8)} << 32 | load_le32(hit + 4);
    if (child != node_block_) {
      node_block_ = UINT64_MAX;
      MB_CHECK(read_block(child, node_));
      node_block_ = child;
    }
    node = node_;
    node_size = block_size_;
  }
}

Res<size_t> Ext4::read(const Ext4Inode& n, uint64_t offset, uint8_t* out, size_t len) {
  if (offset >= n.size) return size_t{0};
  if (len > n.size - offset) len = static_cast<size_t>(n.size - offset);
  alignas(8) uint8_t buf[kMaxBlockSize];
  size_t done = 0;
  while (done < len) {
    const uint64_t at = offset + done;
    const uint64_t logical = at / block_size_;
    const size_t in_block = static_cast<size_t>(at % block_size_);
    const size_t n_bytes = len - done < block_size_ - in_block ? len - done : block_size_ - in_block;
    bool hole = true;
    uint64_t run = 1;
    const uint64_t physical = MB_TRY(map_block(n, logical, hole, &run));
    if (hole) {
      // The whole hole (or unwritten extent) at once, up to what is asked.
      const uint64_t zeros = run * block_size_ - in_block;
      const size_t z = zeros < len - done ? static_cast<size_t>(zeros) : len - done;
      std::memset(out + done, 0, z);
      done += z;
      continue;
    } else if (in_block == 0 && len - done >= block_size_) {
      // Whole blocks of one extent in one device read: through blkfront,
      // a kernel is a few dozen requests in flight, not one per block.
      const uint64_t whole = (len - done) / block_size_;
      const uint64_t blocks = run < whole ? run : whole;
      MB_CHECK(read_blocks(physical, blocks, out + done));
      done += static_cast<size_t>(blocks * block_size_);
      continue;
    } else {
      MB_CHECK(read_block(physical, buf));
      std::memcpy(out + done, buf + in_block, n_bytes);
    }
    done += n_bytes;
  }
  return done;
}

Res<void> Ext4::for_each_entry(const Ext4Inode& dir, EntryFn fn, void* ctx) {
  if (dir.size > kMaxDirBytes)
    return MB_ERR(ErrorCode::kBadInput, "ext4-dir", "directory inode %u is %lu bytes: more than this reader scans (%lu)",
                  dir.number, dir.size, kMaxDirBytes);
  alignas(8) uint8_t buf[kMaxBlockSize];
  const uint64_t blocks = (dir.size + block_size_ - 1) / block_size_;
  for (uint64_t b = 0; b < blocks; ++b) {
    bool hole = true;
    const uint64_t physical = MB_TRY(map_block(dir, b, hole));
    if (hole) continue;
    MB_CHECK(read_block(physical, buf));
    for (uint32_t at = 0; at + 8 <= block_size_;) {
      const uint8_t* e = buf + at;
      const uint32_t ino = load_le32(e);
      const uint16_t rec_len = load_le16(e + 4);
      const uint8_t name_len = e[6];
      if (rec_len < 8 || rec_len % 4 != 0 || rec_len > block_size_ - at || 8u + name_len > rec_len)
        return MB_ERR(ErrorCode::kBadInput, "ext4-dir", "directory inode %u, block %lu: bad entry at %u (rec_len %u, name_len %u)",
                      dir.number, b, at, rec_len, name_len);
      if (ino != 0 && name_len != 0 && !fn(ctx, reinterpret_cast<const char*>(e + 8), name_len, ino)) return {};
      at += rec_len;
    }
  }
  return {};
}

Res<uint32_t> Ext4::find_in_dir(const Ext4Inode& dir, const char* name, size_t len) {
  struct Want {
    const char* name;
    size_t len;
    uint32_t found;
  } want{name, len, 0};
  MB_CHECK(for_each_entry(
      dir,
      [](void* ctx, const char* n, size_t l, uint32_t ino) {
        auto* w = static_cast<Want*>(ctx);
        if (l != w->len || std::memcmp(n, w->name, l) != 0) return true;
        w->found = ino;
        return false;
      },
      &want));
  return want.found;
}

Res<void> Ext4::list(const char* path, ListFn fn, void* ctx) {
  const Ext4Inode dir = MB_TRY(lookup(path));
  if (!dir.is_dir()) return MB_ERR(ErrorCode::kBadInput, "ext4-not-dir", "%s: not a directory", path);
  struct Relay {
    ListFn fn;
    void* ctx;
  } relay{fn, ctx};
  return for_each_entry(
      dir,
      [](void* c, const char* n, size_t l, uint32_t) {
        auto* r = static_cast<Relay*>(c);
        const bool dot = (l == 1 && n[0] == '.') || (l == 2 && n[0] == '.' && n[1] == '.');
        return dot || r->fn(r->ctx, n, l);
      },
      &relay);
}

Res<Ext4Inode> Ext4::lookup(const char* path, bool follow) {
  // The path still to walk, rewritten in place when a symlink is followed.
  char walk[kMaxPath + 1];
  size_t walk_len = path != nullptr ? std::strlen(path) : 0;
  if (path == nullptr || path[0] != '/' || walk_len > kMaxPath)
    return MB_ERR(ErrorCode::kBadInput, "ext4-path", "not an absolute path of at most %zu bytes", kMaxPath);
  std::memcpy(walk, path, walk_len + 1);
  Ext4Inode dir = MB_TRY(inode(kRootInode));
  Ext4Inode cur = dir;
  unsigned links = 0;
  size_t at = 0;
  for (;;) {
    while (at < walk_len && walk[at] == '/') ++at;
    if (at == walk_len) return cur;
    size_t end = at;
    while (end < walk_len && walk[end] != '/') ++end;
    if (!cur.is_dir())
      return MB_ERR(ErrorCode::kBadInput, "ext4-not-dir", "%.*s: a component before it is not a directory",
                    static_cast<int>(end), walk);
    dir = cur;
    const uint32_t ino = MB_TRY(find_in_dir(dir, walk + at, end - at));
    if (ino == 0)
      return MB_ERR(ErrorCode::kBadInput, "ext4-not-found", "%.*s: no such file", static_cast<int>(end), walk);
    cur = MB_TRY(inode(ino));
    const bool last = end == walk_len || walk[end + std::strspn(walk + end, "/")] == '\0';
    if (!cur.is_symlink() || (last && !follow)) {
      at = end;
      continue;
    }
    if (++links > kMaxSymlinks)
      return MB_ERR(ErrorCode::kBadInput, "ext4-symlink-loop", "%s: more than %u symlinks", path, kMaxSymlinks);
    // target + the rest of the path replaces the walk from this component.
    char target[kMaxPath + 1];
    if (cur.size == 0 || cur.size > kMaxPath)
      return MB_ERR(ErrorCode::kBadInput, "ext4-path", "symlink inode %u: target of %lu bytes", cur.number, cur.size);
    const size_t tlen = static_cast<size_t>(cur.size);
    if ((cur.flags & kInodeExtents) == 0 && tlen < sizeof cur.block) {
      std::memcpy(target, cur.block, tlen);  // a fast symlink: the target is in i_block
    } else {
      const size_t got = MB_TRY(read(cur, 0, reinterpret_cast<uint8_t*>(target), tlen));
      if (got != tlen) return bad("ext4-inode", "symlink shorter than its size", cur.number, got);
    }
    const size_t rest = walk_len - end;
    if (tlen + rest > kMaxPath) return MB_ERR(ErrorCode::kBadInput, "ext4-path", "%s: resolves to more than %zu bytes", path, kMaxPath);
    char next[kMaxPath + 1];
    std::memcpy(next, target, tlen);
    std::memcpy(next + tlen, walk + end, rest + 1);
    if (target[0] == '/') {
      std::memcpy(walk, next, tlen + rest + 1);
      walk_len = tlen + rest;
      at = 0;
      cur = MB_TRY(inode(kRootInode));
    } else {
      // Relative to the directory holding the link: keep walk[0..at) (that
      // directory's path), then the target and the rest.
      if (at + tlen + rest > kMaxPath) return MB_ERR(ErrorCode::kBadInput, "ext4-path", "%s: resolves to more than %zu bytes", path, kMaxPath);
      std::memcpy(walk + at, next, tlen + rest + 1);
      walk_len = at + tlen + rest;
      cur = dir;
    }
  }
}

}  // namespace mb::loader
