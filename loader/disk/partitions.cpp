#include "magicboot/loader/disk/partitions.h"

#include <cstring>

#include "magicboot/bytes.h"
#include "magicboot/loader/payload/hash.h"

namespace mb::loader {
namespace {

constexpr uint8_t kGptSignature[8] = {'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T'};
constexpr uint32_t kGptHeaderMin = 92;
// UEFI allows more; real tables hold 128. A bound keeps a corrupt count
// from turning into a long read.
constexpr uint32_t kGptMaxEntries = 1024;
constexpr uint8_t kProtectiveMbr = 0xee;
constexpr size_t kMbrEntries = 446;
constexpr unsigned kFirstLogical = 5;

bool is_extended(uint8_t type) { return type == 0x05 || type == 0x0f || type == 0x85; }

Res<void> add(PartitionTable& t, const Partition& p) {
  if (t.count == PartitionTable::kMaxPartitions)
    return MB_ERR(ErrorCode::kUnsupported, "partition-count", "more than %zu partitions",
                  PartitionTable::kMaxPartitions);
  t.parts[t.count++] = p;
  return {};
}

// --- GPT ----------------------------------------------------------------------

struct GptHeader {
  uint64_t lba, alternate, first_usable, last_usable, entries_lba;
  uint32_t entry_count, entry_size, entries_crc;
};

// Reads and checks the header at `lba` into `h`.
Res<void> gpt_header(BlockDevice& d, uint64_t lba, uint8_t* s, GptHeader& h) {
  const uint32_t ss = d.sector_size();
  const uint64_t n = d.sector_count();
  MB_CHECK(d.read(lba, 1, s));
  if (std::memcmp(s, kGptSignature, sizeof kGptSignature) != 0)
    return MB_ERR(ErrorCode::kBadInput, "gpt-header", "LBA %lu: no \"EFI PART\" signature", lba);
  const uint32_t size = load_le32(s + 12);
  if (size < kGptHeaderMin || size > ss)
    return MB_ERR(ErrorCode::kBadInput, "gpt-header", "LBA %lu: header size %u is not %u..%u", lba, size,
                  kGptHeaderMin, ss);
  static constexpr uint8_t kZero[4] = {};
  uint32_t crc = crc32(s, 16);
  crc = crc32(kZero, 4, crc);
  crc = crc32(s + 20, size - 20, crc);
  if (crc != load_le32(s + 16))
    return MB_ERR(ErrorCode::kBadInput, "gpt-header", "LBA %lu: header CRC %#x, computed %#x", lba, load_le32(s + 16),
                  crc);
  h = GptHeader{load_le64(s + 24), load_le64(s + 32), load_le64(s + 40), load_le64(s + 48), load_le64(s + 72),
              load_le32(s + 80), load_le32(s + 84), load_le32(s + 88)};
  if (h.lba != lba)
    return MB_ERR(ErrorCode::kBadInput, "gpt-header", "LBA %lu: the header says it is at LBA %lu", lba, h.lba);
  if (h.first_usable > h.last_usable || h.last_usable >= n)
    return MB_ERR(ErrorCode::kBadInput, "gpt-header", "LBA %lu: usable LBAs [%lu, %lu] do not fit a disk of %lu sectors",
                  lba, h.first_usable, h.last_usable, n);
  if (h.entry_size < 128 || (h.entry_size & (h.entry_size - 1)) != 0 || h.entry_size > ss ||
      h.entry_count > kGptMaxEntries)
    return MB_ERR(ErrorCode::kBadInput, "gpt-entries", "LBA %lu: %u entries of %u bytes (want 128..%u, 2^n, at most %u)",
                  lba, h.entry_count, h.entry_size, ss, kGptMaxEntries);
  const uint64_t array_sectors = (uint64_t{h.entry_count} * h.entry_size + ss - 1) / ss;
  const bool outside_usable = h.entries_lba + array_sectors <= h.first_usable || h.entries_lba > h.last_usable;
  if (h.entries_lba < 1 || h.entries_lba > n || array_sectors > n - h.entries_lba || !outside_usable)
    return MB_ERR(ErrorCode::kBadInput, "gpt-entries", "LBA %lu: entry array [%lu, +%lu) is outside the disk or in the usable LBAs",
                  lba, h.entries_lba, array_sectors);
  return {};
}

void ascii_name(const uint8_t* utf16, char* out) {
  size_t i = 0;
  for (; i < 36; ++i) {
    const uint16_t c = load_le16(utf16 + 2 * i);
    if (c == 0) break;
    out[i] = c < 0x80 && c >= 0x20 ? static_cast<char>(c) : '?';
  }
  out[i] = '\0';
}

// The array's CRC over every entry; the used entries kept only when it holds.
Res<void> gpt_entries(BlockDevice& d, const GptHeader& h, uint8_t* s, PartitionTable& t) {
  const uint32_t ss = d.sector_size();
  const uint32_t per_sector = ss / h.entry_size;
  uint32_t crc = 0;
  t.count = 0;
  size_t used = 0;
  for (uint32_t i = 0; i < h.entry_count; ++i) {
    if (i % per_sector == 0) MB_CHECK(d.read(h.entries_lba + i / per_sector, 1, s));
    const uint8_t* e = s + (i % per_sector) * h.entry_size;
    crc = crc32(e, h.entry_size, crc);
    Partition p;
    std::memcpy(p.type.bytes, e, 16);
    if (p.type.zero()) continue;
    if (++used > PartitionTable::kMaxPartitions) continue;  // an error once the CRC is known good
    p.number = i + 1;
    std::memcpy(p.unique.bytes, e + 16, 16);
    const uint64_t first = load_le64(e + 32), last = load_le64(e + 40);
    p.first_lba = first;
    p.sectors = last >= first ? last - first + 1 : 0;
    p.bootable = (load_le64(e + 48) >> 2) & 1;
    ascii_name(e + 56, p.name);
    if (last < first || first < h.first_usable || last > h.last_usable) {
      p.sectors = 0;  // marks the range error, reported after the CRC check
      p.first_lba = first;
      p.mbr_type = 0xff;
    }
    t.parts[t.count++] = p;
  }
  if (crc != h.entries_crc)
    return MB_ERR(ErrorCode::kBadInput, "gpt-entries", "entry array at LBA %lu: CRC %#x, computed %#x", h.entries_lba,
                  h.entries_crc, crc);
  if (used > PartitionTable::kMaxPartitions)
    return MB_ERR(ErrorCode::kUnsupported, "partition-count", "%zu GPT partitions, more than %zu", used,
                  PartitionTable::kMaxPartitions);
  for (Partition& p : t.parts) {
    if (&p == t.parts + t.count) break;
    if (p.mbr_type == 0xff)
      return MB_ERR(ErrorCode::kBadInput, "partition-range", "GPT partition %u starts at LBA %lu and does not fit the usable LBAs [%lu, %lu]",
                    p.number, p.first_lba, h.first_usable, h.last_usable);
  }
  return {};
}

// Header and array at `lba`; on any problem nothing is kept.
Res<void> gpt_copy(BlockDevice& d, uint64_t lba, uint8_t* s, PartitionTable& t, GptHeader& h) {
  MB_CHECK(gpt_header(d, lba, s, h));
  auto entries = gpt_entries(d, h, s, t);
  if (!entries.ok()) t.count = 0;
  return entries;
}

Res<void> read_gpt(BlockDevice& d, uint8_t* s, PartitionTable& t) {
  t.kind = TableKind::kGpt;
  const uint64_t last = d.sector_count() - 1;
  GptHeader primary{};
  auto first = gpt_copy(d, 1, s, t, primary);
  if (first.ok()) return {};
  // The backup: where a valid primary header says, else the disk's last sector.
  const bool header_ok = primary.lba == 1;
  const uint64_t at = header_ok && primary.alternate <= last && primary.alternate > 1 ? primary.alternate : last;
  GptHeader backup{};
  if (gpt_copy(d, at, s, t, backup).ok()) {
    t.gpt_backup_used = true;
    return {};
  }
  return first;  // the primary's problem is the one to name
}

// --- MBR ----------------------------------------------------------------------

struct MbrEntry {
  uint8_t status, type;
  uint32_t start, sectors;
};

MbrEntry mbr_entry(const uint8_t* s, unsigned i) {
  const uint8_t* e = s + kMbrEntries + 16 * i;
  return MbrEntry{e[0], e[4], load_le32(e + 8), load_le32(e + 12)};
}

bool has_signature(const uint8_t* s) { return s[510] == 0x55 && s[511] == 0xaa; }

Res<void> read_logical(BlockDevice& d, const MbrEntry& ext, uint8_t* s, PartitionTable& t) {
  const uint64_t ext_end = uint64_t{ext.start} + ext.sectors;
  uint64_t ebr = ext.start;
  unsigned number = kFirstLogical;
  uint64_t visited[PartitionTable::kMaxPartitions];
  for (size_t hops = 0;; ++hops) {
    for (size_t i = 0; i < hops; ++i)
      if (visited[i] == ebr)
        return MB_ERR(ErrorCode::kBadInput, "mbr-extended", "the chain of EBRs loops back to LBA %lu", ebr);
    if (hops == PartitionTable::kMaxPartitions)
      return MB_ERR(ErrorCode::kUnsupported, "partition-count", "more than %zu logical partitions",
                    PartitionTable::kMaxPartitions);
    visited[hops] = ebr;
    MB_CHECK(d.read(ebr, 1, s));
    if (!has_signature(s))
      return MB_ERR(ErrorCode::kBadInput, "mbr-extended", "EBR at LBA %lu has no 0x55aa signature", ebr);
    const MbrEntry logical = mbr_entry(s, 0), next = mbr_entry(s, 1);
    if (logical.type != 0) {
      const uint64_t first = ebr + logical.start;
      if (logical.sectors == 0 || logical.start == 0 || first + logical.sectors > ext_end)
        return MB_ERR(ErrorCode::kBadInput, "partition-range", "logical partition %u [%lu, +%u) is not inside the extended partition [%u, %lu)",
                      number, first, logical.sectors, ext.start, ext_end);
      Partition p;
      p.number = number++;
      p.first_lba = first;
      p.sectors = logical.sectors;
      p.mbr_type = logical.type;
      p.bootable = logical.status == 0x80;
      MB_CHECK(add(t, p));
    }
    if (next.type == 0) return {};
    const uint64_t next_ebr = uint64_t{ext.start} + next.start;
    if (next.start == 0 || next_ebr >= ext_end)
      return MB_ERR(ErrorCode::kBadInput, "mbr-extended", "the EBR at LBA %lu links to LBA %lu, outside the extended partition [%u, %lu)",
                    ebr, next_ebr, ext.start, ext_end);
    ebr = next_ebr;
  }
}

Res<void> read_mbr(BlockDevice& d, uint8_t* s, PartitionTable& t) {
  t.kind = TableKind::kMbr;
  MbrEntry ext{};
  unsigned ext_count = 0;
  MbrEntry entries[4];
  for (unsigned i = 0; i < 4; ++i) entries[i] = mbr_entry(s, i);
  for (unsigned i = 0; i < 4; ++i) {
    const MbrEntry& e = entries[i];
    if (e.type == 0) continue;
    if (e.sectors == 0 || e.start == 0 || uint64_t{e.start} + e.sectors > d.sector_count())
      return MB_ERR(ErrorCode::kBadInput, "partition-range", "MBR partition %u [%u, +%u) is empty or outside the disk (%lu sectors)",
                    i + 1, e.start, e.sectors, d.sector_count());
    if (is_extended(e.type)) {
      if (ext_count++ != 0)
        return MB_ERR(ErrorCode::kBadInput, "mbr-extended", "MBR partition %u is a second extended partition", i + 1);
      ext = e;
      MB_CHECK(read_logical(d, e, s, t));
      continue;
    }
    Partition p;
    p.number = i + 1;
    p.first_lba = e.start;
    p.sectors = e.sectors;
    p.mbr_type = e.type;
    p.bootable = e.status == 0x80;
    MB_CHECK(add(t, p));
  }
  // The logical partitions lie inside the extended one; a primary must not.
  const uint64_t ext_end = uint64_t{ext.start} + ext.sectors;
  for (const Partition& p : t.partitions())
    if (ext_count != 0 && p.number < kFirstLogical && p.first_lba < ext_end && ext.start < p.first_lba + p.sectors)
      return MB_ERR(ErrorCode::kBadInput, "partition-overlap", "MBR partition %u [%lu, +%lu) overlaps the extended partition [%u, %lu)",
                    p.number, p.first_lba, p.sectors, ext.start, ext_end);
  return {};
}

Res<void> check_overlaps(const PartitionTable& t) {
  for (size_t i = 0; i < t.count; ++i)
    for (size_t j = i + 1; j < t.count; ++j) {
      const Partition &a = t.parts[i], &b = t.parts[j];
      if (a.first_lba < b.first_lba + b.sectors && b.first_lba < a.first_lba + a.sectors)
        return MB_ERR(ErrorCode::kBadInput, "partition-overlap", "partitions %u [%lu, +%lu) and %u [%lu, +%lu) overlap",
                      a.number, a.first_lba, a.sectors, b.number, b.first_lba, b.sectors);
    }
  return {};
}

}  // namespace

const char* to_string(TableKind k) { return k == TableKind::kGpt ? "gpt" : "mbr"; }

bool Guid::zero() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

Res<PartitionTable> read_partitions(BlockDevice& disk) {
  const uint32_t ss = disk.sector_size();
  if (ss < 512 || ss > kMaxSectorSize || (ss & (ss - 1)) != 0)
    return MB_ERR(ErrorCode::kUnsupported, "disk-sector-size", "sector size %u is not 512..%u, 2^n", ss, kMaxSectorSize);
  if (disk.sector_count() < 2)
    return MB_ERR(ErrorCode::kBadInput, "disk-no-table", "the disk has %lu sector(s): no room for a partition table",
                  disk.sector_count());
  alignas(8) uint8_t sector[kMaxSectorSize];
  MB_CHECK(disk.read(0, 1, sector));
  if (!has_signature(sector))
    return MB_ERR(ErrorCode::kBadInput, "disk-no-table", "LBA 0 has no MBR signature (0x55aa): no partition table");
  PartitionTable t;
  bool protective = false;
  for (unsigned i = 0; i < 4; ++i) protective = protective || mbr_entry(sector, i).type == kProtectiveMbr;
  MB_CHECK(protective ? read_gpt(disk, sector, t) : read_mbr(disk, sector, t));
  MB_CHECK(check_overlaps(t));
  return t;
}

}  // namespace mb::loader
