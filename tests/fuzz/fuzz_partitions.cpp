// Partition tables (GPT with its backup, MBR with a chain of EBRs) read from
// an arbitrary disk image of 512-byte sectors: never a fault or a hang, a
// named error or a table whose partitions lie inside the disk, are not
// empty and do not overlap.
#include "fuzz_check.h"
#include "magicboot/loader/disk/partitions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mb::loader;
  MemoryBlockDevice disk({data, size}, 512);
  auto t = read_partitions(disk);
  if (!t.ok()) {
    FUZZ_CHECK(t.error().check[0] != '\0' && t.error().detail[0] != '\0', "error without a name or detail");
    return 0;
  }
  const uint64_t n = disk.sector_count();
  FUZZ_CHECK(t->count <= PartitionTable::kMaxPartitions, "%zu partitions", t->count);
  for (size_t i = 0; i < t->count; ++i) {
    const Partition& a = t->parts[i];
    FUZZ_CHECK(a.sectors > 0 && a.first_lba > 0, "partition %u: empty or at LBA 0", a.number);
    FUZZ_CHECK(a.first_lba < n && a.sectors <= n - a.first_lba, "partition %u [%lu, +%lu) past the disk (%lu)",
               a.number, a.first_lba, a.sectors, n);
    for (size_t j = i + 1; j < t->count; ++j) {
      const Partition& b = t->parts[j];
      FUZZ_CHECK(a.number != b.number, "two partitions numbered %u", a.number);
      FUZZ_CHECK(a.first_lba + a.sectors <= b.first_lba || b.first_lba + b.sectors <= a.first_lba,
                 "partitions %u and %u overlap", a.number, b.number);
    }
  }
  return 0;
}
