// find_boot_source against disks sfdisk, mke2fs and mtools made
// (make_boot_disks.sh): which partition and configuration it picks, the
// entries it reads, how their paths resolve on the volume; then a disk with
// nothing to boot and damaged ones.
#include "magicboot/loader/disk/boot_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mb::loader {
namespace {

using Bytes = std::vector<uint8_t>;

// Every disk the script made, read once; its directory is removed.
const std::map<std::string, Bytes>& disks() {
  static const std::map<std::string, Bytes> made = [] {
    std::map<std::string, Bytes> out;
    char path[] = "/tmp/mb-boot-disks-XXXXXX";
    EXPECT_NE(mkdtemp(path), nullptr);
    const std::string cmd = std::string("sh ") + MB_MAKE_BOOT_DISKS + " " + MB_SFDISK + " " + MB_MKFS_EXT4 + " " +
                            MB_MKFS_VFAT + " " + MB_MCOPY + " " + MB_MMD + " " + path + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    for (const char* name : {"extlinux.img", "bls.img", "bootbls.img", "fallback.img", "image.img", "none.img"}) {
      const std::string file = std::string(path) + "/" + name;
      std::ifstream in(file, std::ios::binary);
      out[name] = Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      EXPECT_FALSE(out[name].empty()) << file;
      unlink(file.c_str());
    }
    rmdir(path);
    return out;
  }();
  return made;
}

Bytes disk(const char* name) { return disks().at(name); }

// The menu is big (the firmware keeps it in its arena); so does the test.
struct Found {
  std::unique_ptr<uint8_t[]> arena_mem = std::make_unique<uint8_t[]>(256 << 10);
  Arena arena{arena_mem.get(), 256 << 10};
  std::unique_ptr<BootMenu> menu = std::make_unique<BootMenu>();
  Bytes bytes;
  Res<BootSource> source = MB_ERR(ErrorCode::kBadInput, "unset", "not run");

  explicit Found(Bytes b) : bytes(std::move(b)) {
    MemoryBlockDevice dev(bytes);
    source = find_boot_source(dev, arena, *menu);
    EXPECT_EQ(arena.used(), 0u) << "the search leaves nothing in the arena";
  }
  std::string resolved(const char* path) const {
    char out[128];
    auto r = resolve_boot_path(*source, path, out, sizeof out);
    return r.ok() ? out : r.error().check;
  }
  // The file at an entry's path, read through the volume as the boot will.
  std::string read(const char* path) {
    MemoryBlockDevice dev(bytes);
    PartitionDevice part(dev, source->first_lba, source->sectors);
    auto v = std::make_unique<Volume>();
    auto mounted = v->mount(part);
    if (!mounted.ok()) return mounted.error().check;
    const std::string abs = resolved(path);
    auto f = v->open(abs.c_str());
    if (!f.ok()) return f.error().check;
    std::string s(f->size, '\0');
    auto got = v->read(*f, 0, reinterpret_cast<uint8_t*>(s.data()), s.size());
    return got.ok() ? s : got.error().check;
  }
};

TEST(BootSource, ExtlinuxOnTheSecondPartitionAfterAFatWithoutConfig) {
  Found f(disk("extlinux.img"));
  ASSERT_TRUE(f.source.ok()) << f.source.error().detail;
  const BootSource& s = *f.source;
  EXPECT_EQ(s.table, TableKind::kGpt);
  EXPECT_EQ(s.partition, 2u);
  EXPECT_EQ(s.first_lba, 10240u);
  EXPECT_EQ(s.fs, FsKind::kExt4);
  EXPECT_EQ(s.kind, ConfigKind::kExtlinux);
  EXPECT_STREQ(s.config, "/boot/extlinux/extlinux.conf");
  ASSERT_EQ(f.menu->count, 2u);
  EXPECT_EQ(f.menu->default_index, 1u);  // "default l0r"
  EXPECT_EQ(f.menu->timeout_ds, 20u);
  const BootEntry& l0 = f.menu->entries[0];
  const BootEntry& l0r = f.menu->entries[1];
  EXPECT_STREQ(l0.options, "root=/dev/xvda2 ro");
  // Absolute paths from the filesystem's root; relative ones from
  // extlinux.conf's directory, as U-Boot's sysboot reads them.
  EXPECT_EQ(f.resolved(l0.linux_path), "/boot/vmlinuz-6.1.0-test");
  EXPECT_EQ(f.resolved(l0r.linux_path), "/boot/extlinux/../vmlinuz-6.1.0-test");
  EXPECT_EQ(f.read(l0.linux_path), "kernel one\n");
  EXPECT_EQ(f.read(l0r.linux_path), "kernel one\n");
  EXPECT_EQ(f.read(l0.initrd), "initrd one\n");
  EXPECT_FALSE(l0r.has_initrd);
}

TEST(BootSource, BlsEntriesOnAnMbrFatSortedNewestFirst) {
  Found f(disk("bls.img"));
  ASSERT_TRUE(f.source.ok()) << f.source.error().detail;
  EXPECT_EQ(f.source->table, TableKind::kMbr);
  EXPECT_EQ(f.source->partition, 1u);
  EXPECT_EQ(f.source->fs, FsKind::kFat);
  EXPECT_EQ(f.source->kind, ConfigKind::kBls);
  EXPECT_STREQ(f.source->config, "/loader/entries");
  // The EFI entry and the x86 one are skipped; 10 sorts before 9.
  ASSERT_EQ(f.menu->count, 2u);
  EXPECT_EQ(f.menu->default_index, 0u);
  EXPECT_STREQ(f.menu->entries[0].id, "debian-10");
  EXPECT_STREQ(f.menu->entries[1].id, "debian-9");
  EXPECT_STREQ(f.menu->entries[0].options, "root=/dev/xvda2 ro");
  EXPECT_EQ(f.read(f.menu->entries[0].linux_path), "kernel ten\n");
  EXPECT_EQ(f.read(f.menu->entries[1].linux_path), "kernel nine\n");
  EXPECT_EQ(f.read(f.menu->entries[0].initrd), "fat-not-found");  // named, missing on this disk
}

TEST(BootSource, BlsUnderBootOnExt4ResolvesAgainstBoot) {
  Found f(disk("bootbls.img"));
  ASSERT_TRUE(f.source.ok()) << f.source.error().detail;
  EXPECT_EQ(f.source->kind, ConfigKind::kBls);
  EXPECT_STREQ(f.source->config, "/boot/loader/entries");
  ASSERT_EQ(f.menu->count, 1u);
  EXPECT_EQ(f.resolved(f.menu->entries[0].linux_path), "/boot/vmlinuz-6.5.0");
  EXPECT_EQ(f.read(f.menu->entries[0].linux_path), "kernel fedora\n");
}

TEST(BootSource, WithoutConfigTheNewestVmlinuzAndItsInitrd) {
  Found f(disk("fallback.img"));
  ASSERT_TRUE(f.source.ok()) << f.source.error().detail;
  EXPECT_EQ(f.source->kind, ConfigKind::kFallback);
  ASSERT_EQ(f.menu->count, 1u);
  const BootEntry& e = f.menu->entries[0];
  // 10 is newer than 9 by version order, not by the names' bytes.
  EXPECT_STREQ(e.linux_path, "/boot/vmlinuz-6.1.0-10-arm64");
  EXPECT_STREQ(e.version, "6.1.0-10-arm64");
  EXPECT_TRUE(e.has_initrd);
  EXPECT_EQ(f.read(e.linux_path), "kernel ten\n");
  EXPECT_EQ(f.read(e.initrd), "initrd ten\n");
  EXPECT_EQ(f.menu->timeout_ds, 0u);

  Found im(disk("image.img"));
  ASSERT_TRUE(im.source.ok()) << im.source.error().detail;
  EXPECT_STREQ(im.menu->entries[0].linux_path, "/boot/Image");
  EXPECT_FALSE(im.menu->entries[0].has_initrd);
}

TEST(BootSource, NothingToBootOrNoTableIsNamed) {
  Found none(disk("none.img"));
  ASSERT_FALSE(none.source.ok());
  EXPECT_STREQ(none.source.error().check, "disk-no-boot");
  EXPECT_STREQ(none.source.error().detail,
               "gpt disk, 3 partition(s), none with extlinux.conf, BLS entries or /boot/vmlinuz-*: "
               "p1 ext4, p2 no filesystem, p3 no filesystem");
  Found empty(Bytes(4 << 20, 0));
  ASSERT_FALSE(empty.source.ok());
  EXPECT_STREQ(empty.source.error().check, "disk-no-table");
}

// Damage on the way to the configuration stops the search with its name:
// a broken extlinux.conf is not silently passed over for another partition.
TEST(BootSource, ABrokenConfigurationIsNamedNotSkipped) {
  Bytes b = disk("extlinux.img");
  // "default l0r" -> "default zzz": a default that names no label.
  const std::string needle = "default l0r";
  auto at = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  ASSERT_NE(at, b.end());
  std::copy_n("default zzz", needle.size(), at);
  Found f(std::move(b));
  ASSERT_FALSE(f.source.ok());
  EXPECT_STREQ(f.source.error().check, "extlinux-default");

  // The primary GPT header broken: the backup is used, and says so.
  Bytes g = disk("extlinux.img");
  g[512 + 20] ^= 0xff;  // the header CRC
  Found backup(std::move(g));
  ASSERT_TRUE(backup.source.ok()) << backup.source.error().detail;
  EXPECT_TRUE(backup.source->gpt_backup_used);
  EXPECT_EQ(backup.source->partition, 2u);
}

TEST(BootSource, PathsThatDoNotFitAreNamed) {
  BootSource s;
  s.kind = ConfigKind::kExtlinux;
  std::snprintf(s.base, sizeof s.base, "/boot/extlinux/");
  char out[24];
  EXPECT_TRUE(resolve_boot_path(s, "Image", out, sizeof out).ok());
  EXPECT_STREQ(out, "/boot/extlinux/Image");
  auto r = resolve_boot_path(s, "a-kernel-with-a-long-name", out, sizeof out);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().check, "boot-path");
}

}  // namespace
}  // namespace mb::loader
