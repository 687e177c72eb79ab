// The ext4 reader against a filesystem mke2fs made (make_ext4_disk.sh: GPT
// disk, Debian-like /boot, symlinks fast and slow, relative and absolute, a
// sparse file with a two-level extent tree, a 300-entry directory), each
// file's SHA-256 against sha256sum's; then against the same disk damaged.
#include "magicboot/loader/disk/ext4.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "magicboot/bytes.h"
#include "magicboot/loader/disk/partitions.h"
#include "disk_test_support.h"

namespace mb::loader {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kPartStart = 2048, kPartSectors = 32768;

struct Disk {
  Bytes bytes;
  std::map<std::string, std::string> sums;  // path -> sha256 hex
};

const Disk& made() {
  static const Disk d = [] {
    Disk out;
    char path[] = "/tmp/mb-ext4-test-XXXXXX";
    const int fd = mkstemp(path);
    close(fd);
    const std::string cmd = std::string("sh ") + MB_MAKE_EXT4_DISK + " " + MB_MKFS_EXT4 + " " + MB_SFDISK + " " +
                            path + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(path, std::ios::binary);
    out.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::ifstream sums(std::string(path) + ".sums");
    std::string p, h;
    while (sums >> p >> h) out.sums[p] = h;
    unlink(path);
    unlink((std::string(path) + ".sums").c_str());
    return out;
  }();
  return d;
}

using test::sha256_hex;

struct Mounted {
  MemoryBlockDevice disk;
  PartitionDevice part;
  explicit Mounted(const Bytes& b) : disk(b), part(disk, kPartStart, kPartSectors) {}
};

// The whole file at `path`, or the error's check name.
std::string read_all(Ext4& fs, const char* path, Bytes* data = nullptr) {
  auto n = fs.lookup(path);
  if (!n.ok()) return n.error().check;
  Bytes buf(n->size);
  auto got = fs.read(*n, 0, buf.data(), buf.size());
  if (!got.ok()) return got.error().check;
  if (*got != buf.size()) return "short";
  if (data) *data = buf;
  return sha256_hex(buf.data(), buf.size());
}

TEST(Ext4, ReadsEveryFileAsSha256sumSawIt) {
  const Disk& d = made();
  ASSERT_FALSE(d.bytes.empty());
  ASSERT_EQ(d.sums.size(), 5u);
  MemoryBlockDevice disk(d.bytes);
  auto table = read_partitions(disk);
  ASSERT_TRUE(table.ok()) << table.error().detail;
  ASSERT_EQ(table->count, 1u);
  PartitionDevice part(disk, table->parts[0].first_lba, table->parts[0].sectors);
  auto fs = Ext4::mount(part);
  ASSERT_TRUE(fs.ok()) << fs.error().detail;
  EXPECT_EQ(fs->block_size(), 4096u);
  for (const auto& [path, sum] : d.sums) EXPECT_EQ(read_all(*fs, path.c_str()), sum) << path;
}

TEST(Ext4, SymlinksAndPaths) {
  const Disk& d = made();
  Mounted m(d.bytes);
  auto fs = Ext4::mount(m.part);
  ASSERT_TRUE(fs.ok()) << fs.error().detail;
  const std::string kernel = d.sums.at("/boot/vmlinuz-6.1.0-test");
  EXPECT_EQ(read_all(*fs, "/vmlinuz"), kernel);             // relative, fast
  EXPECT_EQ(read_all(*fs, "/slow"), kernel);                // absolute, too long for the inode
  EXPECT_EQ(read_all(*fs, "//boot/../vmlinuz"), kernel);    // "..", doubled slashes
  EXPECT_EQ(read_all(*fs, "/initrd.img"), d.sums.at("/boot/initrd.img-6.1.0-test"));
  auto link = fs->lookup("/vmlinuz", /*follow=*/false);
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(link->is_symlink());
  auto dir = fs->lookup("/boot/extlinux");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(dir->is_dir());

  EXPECT_EQ(read_all(*fs, "/loop1"), "ext4-symlink-loop");
  EXPECT_EQ(read_all(*fs, "/boot/missing"), "ext4-not-found");
  EXPECT_EQ(read_all(*fs, "/boot/extlinux/extlinux.conf/x"), "ext4-not-dir");
  EXPECT_EQ(read_all(*fs, "boot/vmlinuz"), "ext4-path");
  auto nf = fs->lookup("/boot/missing");
  EXPECT_STREQ(nf.error().detail, "/boot/missing: no such file");
}

using test::names_in;

TEST(Ext4, ListsDirectoriesWithoutDots) {
  const Disk& d = made();
  Mounted m(d.bytes);
  auto fs = Ext4::mount(m.part);
  ASSERT_TRUE(fs.ok()) << fs.error().detail;
  EXPECT_EQ(names_in(*fs, "/boot"),
            (std::vector<std::string>{"extlinux", "initrd.img-6.1.0-test", "vmlinuz-6.1.0-test"}));
  // Through a symlink to the directory, and a big (htree) directory whole.
  const auto many = names_in(*fs, "/many");
  EXPECT_EQ(many.size(), 300u);
  EXPECT_TRUE(std::binary_search(many.begin(), many.end(), "file-299"));
  std::string err;
  names_in(*fs, "/vmlinuz", &err);
  EXPECT_EQ(err, "ext4-not-dir");
  names_in(*fs, "/nothing", &err);
  EXPECT_EQ(err, "ext4-not-found");
  // The visitor stops the walk.
  unsigned seen = 0;
  ASSERT_TRUE(fs->list("/many", [](void* c, const char*, size_t) { return ++*static_cast<unsigned*>(c) < 5; }, &seen).ok());
  EXPECT_EQ(seen, 5u);
}

// Counts the reads that reach the disk, as blkfront would see them.
class CountingDevice final : public BlockDevice {
 public:
  explicit CountingDevice(BlockDevice& d) : d_(d) {}
  uint32_t sector_size() const override { return d_.sector_size(); }
  uint64_t sector_count() const override { return d_.sector_count(); }
  Res<void> read(uint64_t lba, uint64_t count, uint8_t* buf) override {
    ++reads;
    return d_.read(lba, count, buf);
  }
  unsigned reads = 0;

 private:
  BlockDevice& d_;
};

TEST(Ext4, AFileOnOneExtentIsOneDiskRead) {
  const Disk& d = made();
  Mounted m(d.bytes);
  CountingDevice counted(m.part);
  auto fs = Ext4::mount(counted);
  ASSERT_TRUE(fs.ok()) << fs.error().detail;
  auto k = fs->lookup("/boot/vmlinuz-6.1.0-test");
  ASSERT_TRUE(k.ok());
  Bytes whole(k->size);
  counted.reads = 0;
  ASSERT_EQ(*fs->read(*k, 0, whole.data(), whole.size()), whole.size());
  // 300 KiB: the whole 4 KiB blocks in one read, the tail block in another
  // (one block at a time would be 75).
  EXPECT_LE(counted.reads, 2u);
  EXPECT_EQ(test::sha256_hex(whole.data(), whole.size()), d.sums.at("/boot/vmlinuz-6.1.0-test"));
}

TEST(Ext4, PartialReadsAndHoles) {
  const Disk& d = made();
  Mounted m(d.bytes);
  auto fs = Ext4::mount(m.part);
  ASSERT_TRUE(fs.ok());
  auto sparse = fs->lookup("/sparse");
  ASSERT_TRUE(sparse.ok());
  EXPECT_EQ(sparse->size, 12u * 262144);
  uint8_t buf[8192];
  // Across the end of piece 3 into its hole.
  auto got = fs->read(*sparse, 3 * 262144 + 4000, buf, sizeof buf);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(*got, sizeof buf);
  for (size_t i = 0; i < 96; ++i) EXPECT_EQ(buf[i], 4) << i;
  for (size_t i = 96; i < sizeof buf; ++i) ASSERT_EQ(buf[i], 0) << i;
  // Past the end: nothing; across it: clipped.
  EXPECT_EQ(*fs->read(*sparse, sparse->size, buf, 10), 0u);
  EXPECT_EQ(*fs->read(*sparse, sparse->size - 5, buf, 10), 5u);
}

TEST(Ext4, DamageIsANamedError) {
  const Disk& d = made();
  const size_t fs_at = kPartStart * 512;
  auto mount_check = [](const Bytes& b) -> std::string {
    Mounted m(b);
    auto fs = Ext4::mount(m.part);
    return fs.ok() ? "ok" : fs.error().check;
  };
  Bytes magic = d.bytes;
  magic[fs_at + 1024 + 0x38] ^= 0xff;
  EXPECT_EQ(mount_check(magic), "ext4-superblock");
  Bytes feature = d.bytes;
  feature[fs_at + 1024 + 0x60 + 1] |= 0x80;  // INCOMPAT_INLINE_DATA (0x8000)
  EXPECT_EQ(mount_check(feature), "ext4-feature");
  Bytes bsize = d.bytes;
  bsize[fs_at + 1024 + 0x18] = 4;  // 16 KiB blocks
  EXPECT_EQ(mount_check(bsize), "ext4-block-size");
  Bytes blocks = d.bytes;
  const uint32_t huge = 0x7fffffff;
  std::memcpy(blocks.data() + fs_at + 1024 + 0x04, &huge, 4);
  EXPECT_EQ(mount_check(blocks), "ext4-superblock");

  // The sparse file's leaf: the one extent block with 12 entries at depth 0.
  Bytes leaf = d.bytes;
  size_t found = 0;
  for (size_t at = fs_at; at + 4096 <= fs_at + kPartSectors * 512; at += 4096)
    if (load_le16(leaf.data() + at) == 0xf30a && load_le16(leaf.data() + at + 2) == 12 &&
        load_le16(leaf.data() + at + 6) == 0) {
      leaf[at] = 0;
      ++found;
    }
  ASSERT_EQ(found, 1u);
  Mounted m(leaf);
  auto fs = Ext4::mount(m.part);
  ASSERT_TRUE(fs.ok());
  EXPECT_EQ(read_all(*fs, "/sparse"), "ext4-extent");
  EXPECT_EQ(read_all(*fs, "/boot/extlinux/extlinux.conf"), d.sums.at("/boot/extlinux/extlinux.conf"));
}

}  // namespace
}  // namespace mb::loader
