// read_partitions() against tables util-linux's sfdisk writes (GPT, MBR with
// logical partitions), then against the same tables damaged: the backup GPT
// takes over when the primary is bad, and every other corruption is a
// named error.
#include "magicboot/loader/disk/partitions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "magicboot/bytes.h"
#include "magicboot/loader/payload/hash.h"

namespace mb::loader {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kMiB = 1 << 20;

// A zeroed image of `size` bytes partitioned by `sfdisk` from `script`.
Bytes sfdisk(const std::string& script, uint64_t size = 64 * kMiB) {
  char path[] = "/tmp/mb-disk-test-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
  close(fd);
  const std::string cmd = "printf '%b' '" + script + "' | " + MB_SFDISK + " --quiet --no-reread --no-tell-kernel " +
                          path + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << script;
  std::ifstream in(path, std::ios::binary);
  Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(path);
  EXPECT_EQ(b.size(), size);
  return b;
}

Res<PartitionTable> read(const Bytes& image, uint32_t sector = 512) {
  MemoryBlockDevice disk(image, sector);
  return read_partitions(disk);
}

const char* check_of(const Res<PartitionTable>& r) { return r.ok() ? "ok" : r.error().check; }

// Rewrites a GPT header's CRC after a field was changed on purpose.
void reseal_header(Bytes& b, uint64_t lba) {
  uint8_t* h = b.data() + lba * 512;
  const uint32_t size = load_le32(h + 12);
  std::memset(h + 16, 0, 4);
  const uint32_t crc = crc32(h, size);
  std::memcpy(h + 16, &crc, 4);
}
void reseal_entries(Bytes& b, uint64_t header_lba) {
  uint8_t* h = b.data() + header_lba * 512;
  const uint64_t at = load_le64(h + 72);
  const uint32_t crc = crc32(b.data() + at * 512, size_t{load_le32(h + 80)} * load_le32(h + 84));
  std::memcpy(h + 88, &crc, 4);
  reseal_header(b, header_lba);
}

const std::string kGpt =
    "label: gpt\\n"
    "start=2048, size=16384, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system\"\\n"
    "start=18432, size=32768, type=0FC63DAF-8483-4772-8E79-3DB47DE4B984, name=\"root\", attrs=LegacyBIOSBootable\\n";

TEST(Gpt, ReadsWhatSfdiskWrote) {
  const Bytes img = sfdisk(kGpt);
  auto t = read(img);
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_EQ(t->kind, TableKind::kGpt);
  EXPECT_FALSE(t->gpt_backup_used);
  ASSERT_EQ(t->count, 2u);
  EXPECT_EQ(t->parts[0].number, 1u);
  EXPECT_EQ(t->parts[0].first_lba, 2048u);
  EXPECT_EQ(t->parts[0].sectors, 16384u);
  EXPECT_STREQ(t->parts[0].name, "EFI system");
  EXPECT_FALSE(t->parts[0].bootable);
  EXPECT_EQ(t->parts[1].first_lba, 18432u);
  EXPECT_EQ(t->parts[1].sectors, 32768u);
  EXPECT_STREQ(t->parts[1].name, "root");
  EXPECT_TRUE(t->parts[1].bootable);
  // Linux's filesystem type GUID, as stored (mixed endian).
  const uint8_t linux_fs[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                0x8e, 0x79, 0x3d, 0xb4, 0x7d, 0xe4, 0xb9, 0x84};
  EXPECT_EQ(std::memcmp(t->parts[1].type.bytes, linux_fs, 16), 0);
  EXPECT_FALSE(t->parts[1].unique.zero());
}

TEST(Gpt, TheBackupTakesOverWhenThePrimaryIsBad) {
  const Bytes good = sfdisk(kGpt);
  Bytes header = good;
  header[1 * 512 + 30] ^= 1;  // inside the primary header: its CRC no longer holds
  auto t = read(header);
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_TRUE(t->gpt_backup_used);
  EXPECT_EQ(t->count, 2u);

  Bytes array = good;
  array[2 * 512 + 40] ^= 1;  // partition 1's end LBA in the primary array
  t = read(array);
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_TRUE(t->gpt_backup_used);
  EXPECT_EQ(t->parts[0].sectors, 16384u);
}

TEST(Gpt, BothCopiesBadIsANamedError) {
  Bytes b = sfdisk(kGpt);
  const uint64_t last = b.size() / 512 - 1;
  b[1 * 512 + 30] ^= 1;
  b[last * 512 + 30] ^= 1;
  auto t = read(b);
  EXPECT_STREQ(check_of(t), "gpt-header");
  EXPECT_NE(std::string(t.error().detail).find("LBA 1: header CRC"), std::string::npos) << t.error().detail;

  Bytes arrays = sfdisk(kGpt);
  const uint64_t backup_array = load_le64(arrays.data() + last * 512 + 72);
  arrays[2 * 512 + 40] ^= 1;
  arrays[backup_array * 512 + 40] ^= 1;
  EXPECT_STREQ(check_of(read(arrays)), "gpt-entries");
}

TEST(Gpt, FieldsThatDoNotFitTheDiskAreRefusedByName) {
  const Bytes good = sfdisk(kGpt);
  const uint64_t last = good.size() / 512 - 1;
  struct Case {
    const char* what;
    size_t offset;  // in the header
    uint64_t value;
    int width;
    const char* check;
  } cases[] = {
      {"header size 91", 12, 91, 4, "gpt-header"},
      {"header size past the sector", 12, 513, 4, "gpt-header"},
      {"my LBA", 24, 7, 8, "gpt-header"},
      {"last usable past the disk", 48, last + 10, 8, "gpt-header"},
      {"entry size 100", 84, 100, 4, "gpt-entries"},
      {"entry count huge", 80, 1u << 20, 4, "gpt-entries"},
      {"entry array in the usable LBAs", 72, 4096, 8, "gpt-entries"},
      {"entry array past the disk", 72, last, 8, "gpt-entries"},
  };
  for (const Case& c : cases) {
    Bytes b = good;
    for (uint64_t lba : {uint64_t{1}, last}) {  // both copies, or the backup would save it
      std::memcpy(b.data() + lba * 512 + c.offset, &c.value, static_cast<size_t>(c.width));
      reseal_header(b, lba);
    }
    EXPECT_STREQ(check_of(read(b)), c.check) << c.what;
  }
}

TEST(Gpt, APartitionOutsideTheUsableLbasOrOverlappingAnother) {
  const Bytes good = sfdisk(kGpt);
  const uint64_t last = good.size() / 512 - 1;
  auto both = [&](Bytes& b, size_t entry_offset, uint64_t value) {
    for (uint64_t lba : {uint64_t{1}, last}) {
      const uint64_t array = load_le64(b.data() + lba * 512 + 72);
      std::memcpy(b.data() + array * 512 + entry_offset, &value, 8);
      reseal_entries(b, lba);
    }
  };
  Bytes beyond = good;
  both(beyond, 128 + 40, last);  // partition 2 ends on the backup header
  auto r = read(beyond);
  EXPECT_STREQ(check_of(r), "partition-range");
  Bytes backwards = good;
  both(backwards, 40, 100);  // partition 1 ends before it starts
  EXPECT_STREQ(check_of(read(backwards)), "partition-range");
  Bytes overlap = good;
  both(overlap, 40, 20000);  // partition 1 runs into partition 2
  r = read(overlap);
  EXPECT_STREQ(check_of(r), "partition-overlap");
  EXPECT_NE(std::string(r.error().detail).find("partitions 1 [2048, +17953) and 2 [18432, +32768) overlap"),
            std::string::npos)
      << r.error().detail;
}

TEST(Mbr, PrimaryAndLogicalPartitions) {
  const Bytes img = sfdisk(
      "label: dos\\n"
      "start=2048, size=8192, type=c, bootable\\n"
      "start=10240, size=40960, type=5\\n"
      "start=12288, size=8192, type=83\\n"
      "start=22528, size=8192, type=82\\n");
  auto t = read(img);
  ASSERT_TRUE(t.ok()) << t.error().detail;
  EXPECT_EQ(t->kind, TableKind::kMbr);
  ASSERT_EQ(t->count, 3u);
  EXPECT_EQ(t->parts[0].number, 1u);
  EXPECT_EQ(t->parts[0].mbr_type, 0x0c);
  EXPECT_TRUE(t->parts[0].bootable);
  EXPECT_EQ(t->parts[1].number, 5u);  // the first logical, as Linux numbers it
  EXPECT_EQ(t->parts[1].first_lba, 12288u);
  EXPECT_EQ(t->parts[1].mbr_type, 0x83);
  EXPECT_EQ(t->parts[2].number, 6u);
  EXPECT_EQ(t->parts[2].first_lba, 22528u);
  EXPECT_EQ(t->parts[2].sectors, 8192u);
}

TEST(Mbr, CorruptTablesAreNamedErrors) {
  const Bytes good = sfdisk(
      "label: dos\\n"
      "start=2048, size=8192, type=83\\n"
      "start=10240, size=40960, type=5\\n"
      "start=12288, size=8192, type=83\\n"
      "start=22528, size=8192, type=83\\n");
  Bytes none(good.size(), 0);
  EXPECT_STREQ(check_of(read(none)), "disk-no-table");

  Bytes past = good;
  const uint32_t huge = 0x7fffffff;
  std::memcpy(past.data() + 446 + 12, &huge, 4);  // partition 1's size
  EXPECT_STREQ(check_of(read(past)), "partition-range");

  Bytes overlap = good;
  const uint32_t into_extended = 10240;
  std::memcpy(overlap.data() + 446 + 12, &into_extended, 4);
  EXPECT_STREQ(check_of(read(overlap)), "partition-overlap");

  // The second EBR links back to the first (relative 0), or to itself.
  const uint32_t next = load_le32(good.data() + 10240 * 512 + 446 + 16 + 8);
  ASSERT_NE(next, 0u);
  for (uint32_t target : {0u, next}) {
    Bytes loop = good;
    std::memcpy(loop.data() + (10240 + next) * 512 + 446 + 16 + 8, &target, 4);
    loop[(10240 + next) * 512 + 446 + 16 + 4] = 0x05;
    auto r = read(loop);
    EXPECT_STREQ(check_of(r), "mbr-extended") << target;
  }

  Bytes unsigned_ebr = good;
  unsigned_ebr[10240 * 512 + 510] = 0;
  EXPECT_STREQ(check_of(read(unsigned_ebr)), "mbr-extended");
}

TEST(Disk, SectorSizesAndTinyDisks) {
  Bytes one(512, 0);
  EXPECT_STREQ(check_of(read(one)), "disk-no-table");
  Bytes img = sfdisk(kGpt);
  EXPECT_STREQ(check_of(read(img, 100)), "disk-sector-size");
  EXPECT_STREQ(check_of(read(img, 8192)), "disk-sector-size");
  // The same bytes seen as 4 KiB sectors: no GPT header at LBA 1 (it is at byte 512).
  EXPECT_STREQ(check_of(read(img, 4096)), "gpt-header");
}

}  // namespace
}  // namespace mb::loader
