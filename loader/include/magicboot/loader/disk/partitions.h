// Partition tables: GPT (header and entry-array CRCs checked; the backup
// header and array at the disk's end when the primary ones are bad) and MBR
// (four primary entries and the logical ones chained in an extended
// partition). Every field is bounds-checked against the disk: a corrupt
// table is a named error, never a fault or a loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "magicboot/error.h"
#include "magicboot/loader/disk/block_device.h"

namespace mb::loader {

enum class TableKind : uint8_t { kGpt, kMbr };
const char* to_string(TableKind k);

struct Guid {
  uint8_t bytes[16];  // as on disk (the first three fields little-endian)
  bool operator==(const Guid&) const = default;
  bool zero() const;
};

struct Partition {
  unsigned number = 0;    // 1-based, as Linux names it (xvda1, xvda5 for the first logical)
  uint64_t first_lba = 0;
  uint64_t sectors = 0;
  uint8_t mbr_type = 0;   // MBR: the type byte; GPT: 0
  bool bootable = false;  // MBR: status 0x80; GPT: attribute bit 2 (legacy BIOS bootable)
  Guid type{}, unique{};  // GPT only
  char name[37] = {};     // GPT: the UTF-16 name, non-ASCII as '?'
};

struct PartitionTable {
  static constexpr size_t kMaxPartitions = 16;
  TableKind kind = TableKind::kMbr;
  bool gpt_backup_used = false;  // the primary header or array was bad
  Partition parts[kMaxPartitions];
  size_t count = 0;
  std::span<const Partition> partitions() const { return {parts, count}; }
};

// Reads the disk's partition table. Fails (kBadInput) with:
//   "disk-read"          a sector could not be read
//   "disk-sector-size"   the device's sector size is not 512..4096, 2^n
//   "disk-no-table"      no MBR signature (0x55aa) at LBA 0
//   "gpt-header"         neither GPT header is valid (the primary's problem named)
//   "gpt-entries"        an entry array's CRC, size or place is wrong in both copies
//   "partition-range"    a partition is empty, ends before it starts or lies
//                        outside the disk (GPT: outside the usable LBAs)
//   "partition-overlap"  two partitions share sectors
//   "mbr-extended"       the logical partitions' chain loops or leaves the
//                        extended partition
//   "partition-count"    more partitions than kMaxPartitions
Res<PartitionTable> read_partitions(BlockDevice& disk);

}  // namespace mb::loader
