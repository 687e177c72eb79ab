// The FAT reader against FAT12, FAT16 and FAT32 filesystems mkfs.vfat made
// and mtools filled (make_fat.sh): each file's SHA-256 against sha256sum's,
// long and 8.3 names in any case, then the same images damaged.
#include "magicboot/loader/disk/fat.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "magicboot/bytes.h"
#include "disk_test_support.h"

namespace mb::loader {
namespace {

using Bytes = std::vector<uint8_t>;

struct Image {
  Bytes bytes;
  std::map<std::string, std::string> sums;
};

const Image& made(unsigned bits) {
  static std::map<unsigned, Image> cache;
  auto it = cache.find(bits);
  if (it != cache.end()) return it->second;
  Image img;
  char path[] = "/tmp/mb-fat-test-XXXXXX";
  close(mkstemp(path));
  const std::string cmd = std::string("sh ") + MB_MAKE_FAT + " " + MB_MKFS_VFAT + " " + MB_MCOPY + " " + MB_MMD + " " +
                          std::to_string(bits) + " " + path + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(path, std::ios::binary);
  img.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::ifstream sums(std::string(path) + ".sums");
  for (std::string line; std::getline(sums, line);) {
    const size_t sp = line.rfind(' ');
    img.sums[line.substr(0, sp)] = line.substr(sp + 1);
  }
  unlink(path);
  unlink((std::string(path) + ".sums").c_str());
  return cache.emplace(bits, std::move(img)).first->second;
}

std::string sha256_hex(const Bytes& b) { return test::sha256_hex(b.data(), b.size()); }

std::string read_all(Fat& fs, const char* path) {
  auto f = fs.lookup(path);
  if (!f.ok()) return f.error().check;
  Bytes b(f->size);
  auto got = fs.read(*f, 0, b.data(), b.size());
  if (!got.ok()) return got.error().check;
  return *got == b.size() ? sha256_hex(b) : "short";
}

class FatBits : public ::testing::TestWithParam<unsigned> {};

TEST_P(FatBits, ReadsEveryFileAsSha256sumSawIt) {
  const Image& img = made(GetParam());
  ASSERT_EQ(img.sums.size(), 6u);
  MemoryBlockDevice dev(img.bytes);
  auto fs = Fat::mount(dev);
  ASSERT_TRUE(fs.ok()) << fs.error().detail;
  EXPECT_EQ(fs->bits(), GetParam());
  for (const auto& [path, sum] : img.sums) EXPECT_EQ(read_all(*fs, path.c_str()), sum) << path;
  // Names match without regard to case, long or short; "." is skipped.
  EXPECT_EQ(read_all(*fs, "/efi/DEBIAN/./GrubAA64.efi"), img.sums.at("/EFI/debian/grubaa64.efi"));
  EXPECT_EQ(read_all(*fs, "/kernel.img"), img.sums.at("/KERNEL.IMG"));
  EXPECT_EQ(read_all(*fs, "/VMLINUZ-6.1.0-TEST"), img.sums.at("/vmlinuz-6.1.0-test"));
  EXPECT_EQ(read_all(*fs, "/loader/entries/../entries/debian-6.1.0-test.conf"),
            img.sums.at("/loader/entries/debian-6.1.0-test.conf"));
  EXPECT_EQ(read_all(*fs, "/missing"), "fat-not-found");
  EXPECT_EQ(read_all(*fs, "/KERNEL.IMG/x"), "fat-not-dir");
  EXPECT_EQ(read_all(*fs, "vmlinuz"), "fat-path");
  auto dir = fs->lookup("/loader/entries");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(dir->dir);
  // A read at an offset, across sectors and clusters.
  auto k = fs->lookup("/vmlinuz-6.1.0-test");
  ASSERT_TRUE(k.ok());
  Bytes whole(k->size), part(9000);
  ASSERT_TRUE(fs->read(*k, 0, whole.data(), whole.size()).ok());
  ASSERT_EQ(*fs->read(*k, 100000, part.data(), part.size()), part.size());
  EXPECT_TRUE(std::equal(part.begin(), part.end(), whole.begin() + 100000));
  EXPECT_EQ(*fs->read(*k, k->size - 3, part.data(), part.size()), 3u);
}

TEST_P(FatBits, ListsLongAndShortNamesWithoutDots) {
  const Image& img = made(GetParam());
  MemoryBlockDevice dev(img.bytes);
  auto fs = Fat::mount(dev);
  ASSERT_TRUE(fs.ok()) << fs.error().detail;
  auto names_in = [&](const char* dir, std::string* error = nullptr) { return test::names_in(*fs, dir, error); };
  // The root (fixed on FAT12/16, a chain on FAT32): long names as written,
  // KERNEL.IMG (8.3 only) as stored.
  EXPECT_EQ(names_in("/"), (std::vector<std::string>{"EFI", "KERNEL.IMG", "empty", "loader", "many", "vmlinuz-6.1.0-test"}));
  EXPECT_EQ(names_in("/loader/entries"), (std::vector<std::string>{"debian-6.1.0-test.conf"}));
  const auto many = names_in("/many");
  EXPECT_EQ(many.size(), 100u);
  EXPECT_TRUE(std::binary_search(many.begin(), many.end(), "a long name number 99.txt"));
  std::string err;
  names_in("/KERNEL.IMG", &err);
  EXPECT_EQ(err, "fat-not-dir");
  names_in("/nothing", &err);
  EXPECT_EQ(err, "fat-not-found");
}

INSTANTIATE_TEST_SUITE_P(Fat, FatBits, ::testing::Values(12u, 16u, 32u));

// The FAT entry of `cluster` in the first FAT (FAT16/32 only: whole bytes).
size_t fat_entry_offset(const Bytes& b, unsigned bits, uint32_t cluster) {
  return size_t{load_le16(b.data() + 0x0e)} * load_le16(b.data() + 0x0b) + size_t{cluster} * (bits / 8);
}

TEST(Fat, DamageIsANamedError) {
  for (unsigned bits : {16u, 32u}) {
    const Image& img = made(bits);
    auto mount_check = [](const Bytes& b) -> std::string {
      MemoryBlockDevice dev(b);
      auto fs = Fat::mount(dev);
      return fs.ok() ? "ok" : fs.error().check;
    };
    Bytes sig = img.bytes;
    sig[510] = 0;
    EXPECT_EQ(mount_check(sig), "fat-bpb") << bits;
    Bytes bps = img.bytes;
    bps[0x0b] = 100;
    bps[0x0c] = 0;
    EXPECT_EQ(mount_check(bps), "fat-bpb") << bits;
    Bytes big = img.bytes;
    const uint32_t huge = 0x7fffffff;
    std::memcpy(big.data() + 0x20, &huge, 4);
    big[0x13] = big[0x14] = 0;
    EXPECT_EQ(mount_check(big), "fat-bpb") << bits;

    // The kernel's chain: a loop back to its first cluster, and cut short.
    MemoryBlockDevice dev(img.bytes);
    auto fs = Fat::mount(dev);
    ASSERT_TRUE(fs.ok());
    auto k = fs->lookup("/vmlinuz-6.1.0-test");
    ASSERT_TRUE(k.ok());
    const uint32_t first = k->first_cluster;
    const uint32_t clusters = (k->size + fs->cluster_bytes() - 1) / fs->cluster_bytes();
    ASSERT_GT(clusters, 2u);
    // mcopy writes a file's clusters in a run: the second-to-last is first + clusters - 2.
    Bytes loop = img.bytes, cut = img.bytes, free_link = img.bytes;
    const uint32_t back = first, eoc = bits == 16 ? 0xffff : 0x0fffffff, zero = 0;
    const size_t second_last = fat_entry_offset(img.bytes, bits, first + clusters - 2);
    std::memcpy(loop.data() + fat_entry_offset(img.bytes, bits, first + clusters - 1), &back, bits / 8);
    std::memcpy(cut.data() + second_last, &eoc, bits / 8);
    std::memcpy(free_link.data() + fat_entry_offset(img.bytes, bits, first), &zero, bits / 8);
    for (Bytes* b : {&loop, &cut, &free_link}) {
      MemoryBlockDevice d(*b);
      auto f = Fat::mount(d);
      ASSERT_TRUE(f.ok());
      EXPECT_EQ(read_all(*f, "/vmlinuz-6.1.0-test"), "fat-chain") << bits;
      EXPECT_EQ(read_all(*f, "/KERNEL.IMG"), img.sums.at("/KERNEL.IMG")) << bits;
    }
  }
}

}  // namespace
}  // namespace mb::loader
