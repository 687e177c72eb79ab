#include "magicboot/loader/disk/fat.h"

#include <cstring>

#include "magicboot/bytes.h"

namespace mb::loader {
namespace {

constexpr uint8_t kAttrDir = 0x10, kAttrVolume = 0x08, kAttrLfn = 0x0f;
constexpr uint32_t kMaxDirEntries = 65536;  // FAT's own limit per directory

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool same_name(const char* a, size_t alen, const char* b, size_t blen) {
  if (alen != blen) return false;
  for (size_t i = 0; i < alen; ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// "KERNEL  IMG" -> "KERNEL.IMG"
// The 8.3 name as Windows and Linux show it: byte 12's bits 3 and 4 (NT)
// say the base or the extension was written in lower case (mtools and
// Linux store "loader" this way, without a long name).
size_t short_name(const uint8_t* e, char* out) {
  auto put = [](uint8_t c, bool lower) { return static_cast<char>(lower && c >= 'A' && c <= 'Z' ? c + 32 : c); };
  size_t n = 0;
  for (int i = 0; i < 8 && e[i] != ' '; ++i) out[n++] = put(i == 0 && e[0] == 0x05 ? 0xe5 : e[i], e[12] & 0x08);
  if (e[8] != ' ') {
    out[n++] = '.';
    for (int i = 8; i < 11 && e[i] != ' '; ++i) out[n++] = put(e[i], e[12] & 0x10);
  }
  return n;
}

uint8_t lfn_checksum(const uint8_t* e) {
  uint8_t sum = 0;
  for (int i = 0; i < 11; ++i) sum = static_cast<uint8_t>(((sum & 1) << 7) + (sum >> 1) + e[i]);
  return sum;
}

}  // namespace

Res<Fat> Fat::mount(BlockDevice& dev) {
  const uint32_t ss = dev.sector_size();
  alignas(8) uint8_t b[kMaxSectorSize];
  MB_CHECK(dev.read(0, 1, b));
  if (b[510] != 0x55 || b[511] != 0xaa)
    return MB_ERR(ErrorCode::kBadInput, "fat-bpb", "no boot sector signature (0x55aa)");
  Fat fs(dev);
  const uint32_t bps = load_le16(b + 0x0b);
  const uint32_t spc = b[0x0d];
  const uint32_t reserved = load_le16(b + 0x0e), fats = b[0x10], root_entries = load_le16(b + 0x11);
  const uint32_t total = load_le16(b + 0x13) != 0 ? load_le16(b + 0x13) : load_le32(b + 0x20);
  const uint32_t fat_size = load_le16(b + 0x16) != 0 ? load_le16(b + 0x16) : load_le32(b + 0x24);
  if (bps < 512 || bps > kMaxSectorSize || (bps & (bps - 1)) != 0 || spc == 0 || (spc & (spc - 1)) != 0 ||
      reserved == 0 || fats == 0 || fat_size == 0)
    return MB_ERR(ErrorCode::kBadInput, "fat-bpb", "BPB: %u bytes/sector, %u sectors/cluster, %u reserved, %u FATs of %u",
                  bps, spc, reserved, fats, fat_size);
  if (bps < ss || bps % ss != 0)
    return MB_ERR(ErrorCode::kUnsupported, "fat-sector-size", "%u-byte FAT sectors on a device of %u-byte sectors", bps,
                  ss);
  fs.bytes_per_sector_ = bps;
  fs.dev_per_sector_ = bps / ss;
  fs.sectors_per_cluster_ = spc;
  fs.cluster_bytes_ = bps * spc;
  const uint64_t root_sectors = (uint64_t{root_entries} * 32 + bps - 1) / bps;
  const uint64_t data_start = uint64_t{reserved} + uint64_t{fats} * fat_size + root_sectors;
  const uint64_t device = dev.sector_count() / fs.dev_per_sector_;
  if (total > device || data_start >= total || fs.cluster_bytes_ > 65536)
    return MB_ERR(ErrorCode::kBadInput, "fat-bpb", "%u sectors (device %lu), data from sector %lu, clusters of %u bytes",
                  total, device, data_start, fs.cluster_bytes_);
  fs.clusters_ = static_cast<uint32_t>((total - data_start) / spc);
  fs.bits_ = fs.clusters_ < 4085 ? 12 : fs.clusters_ < 65525 ? 16 : 32;
  fs.fat_start_ = reserved;
  fs.root_start_ = static_cast<uint32_t>(reserved + uint64_t{fats} * fat_size);
  fs.root_entries_ = root_entries;
  fs.data_start_ = static_cast<uint32_t>(data_start);
  // The FAT must hold an entry for every cluster.
  if (uint64_t{fat_size} * bps * 8 < (uint64_t{fs.clusters_} + 2) * fs.bits_)
    return MB_ERR(ErrorCode::kBadInput, "fat-bpb", "a FAT of %u sectors cannot map %u clusters", fat_size, fs.clusters_);
  if (fs.bits_ == 32) {
    fs.root_cluster_ = load_le32(b + 0x2c);
    if (fs.root_cluster_ < 2 || fs.root_cluster_ > fs.clusters_ + 1 || root_entries != 0)
      return MB_ERR(ErrorCode::kBadInput, "fat-bpb", "FAT32 root cluster %u of %u", fs.root_cluster_, fs.clusters_);
  } else if (root_entries == 0) {
    return MB_ERR(ErrorCode::kBadInput, "fat-bpb", "FAT%u without a root directory", fs.bits_);
  }
  return fs;
}

Res<void> Fat::read_sector(uint64_t sector, uint8_t* buf) { return read_sectors(sector, 1, buf); }

Res<void> Fat::read_sectors(uint64_t sector, uint64_t count, uint8_t* buf) {
  return dev_->read(sector * dev_per_sector_, count * dev_per_sector_, buf);
}

Res<uint32_t> Fat::next(uint32_t cluster) {
  uint8_t* s = fat_sector_;
  const uint64_t at = bits_ == 12 ? cluster + cluster / 2 : uint64_t{cluster} * (bits_ / 8);
  const uint64_t sector = fat_start_ + at / bytes_per_sector_;
  const uint32_t off = static_cast<uint32_t>(at % bytes_per_sector_);
  if (fat_cached_ != sector) {
    fat_cached_ = UINT64_MAX;
    MB_CHECK(read_sector(sector, s));
    fat_cached_ = sector;
  }
  uint32_t v;
  if (bits_ == 12) {
    uint8_t lo = s[off], hi;
    if (off + 1 < bytes_per_sector_) {
      hi = s[off + 1];
    } else {  // the entry straddles two sectors
      fat_cached_ = UINT64_MAX;
      MB_CHECK(read_sector(sector + 1, s));
      fat_cached_ = sector + 1;
      hi = s[0];
    }
    const uint32_t pair = uint32_t{lo} | uint32_t{hi} << 8;
    v = (cluster & 1) ? pair >> 4 : pair & 0xfff;
    if (v >= 0xff8) v = 0x0ffffff8;
    else if (v == 0xff7) v = 0x0ffffff7;
  } else if (bits_ == 16) {
    v = load_le16(s + off);
    if (v >= 0xfff8) v = 0x0ffffff8;
    else if (v == 0xfff7) v = 0x0ffffff7;
  } else {
    v = load_le32(s + off) & 0x0fffffff;
  }
  return v;
}

// The `index`-th cluster of the file's chain, each link checked.
Res<uint32_t> Fat::cluster_at(const FatFile& f, uint32_t index) {
  uint32_t c = f.first_cluster, i = 0;
  if (cursor_file_ == f.first_cluster && cursor_index_ <= index && cursor_cluster_ != 0) {
    c = cursor_cluster_;
    i = cursor_index_;
  }
  for (; i < index; ++i) {
    const uint32_t n = MB_TRY(next(c));
    if (n >= 0x0ffffff8)
      return MB_ERR(ErrorCode::kBadInput, "fat-chain", "the chain from cluster %u ends after %u clusters; %u needed",
                    f.first_cluster, i + 1, index + 1);
    if (n < 2 || n > clusters_ + 1)
      return MB_ERR(ErrorCode::kBadInput, "fat-chain", "cluster %u links to %#x: free, bad or out of range (%u clusters)", c, n,
                    clusters_);
    c = n;
  }
  cursor_file_ = f.first_cluster;
  cursor_index_ = index;
  cursor_cluster_ = c;
  return c;
}

Res<void> Fat::check_chain(const FatFile& f) {
  if (f.size == 0) return {};
  if (f.first_cluster < 2 || f.first_cluster > clusters_ + 1)
    return MB_ERR(ErrorCode::kBadInput, "fat-chain", "a %u-byte file starts at cluster %u (of %u)", f.size, f.first_cluster,
                  clusters_);
  const uint64_t needed = (uint64_t{f.size} + cluster_bytes_ - 1) / cluster_bytes_;
  if (needed > clusters_)
    return MB_ERR(ErrorCode::kBadInput, "fat-chain", "a %u-byte file needs %lu clusters; the filesystem has %u", f.size,
                  needed, clusters_);
  const uint32_t last = MB_TRY(cluster_at(f, static_cast<uint32_t>(needed - 1)));
  const uint32_t after = MB_TRY(next(last));
  if (after < 0x0ffffff8)
    return MB_ERR(ErrorCode::kBadInput, "fat-chain", "the chain of a %u-byte file goes on past its %lu clusters (a loop?)",
                  f.size, needed);
  return {};
}

Res<size_t> Fat::read(const FatFile& f, uint64_t offset, uint8_t* out, size_t len) {
  if (f.dir) return MB_ERR(ErrorCode::kBadInput, "fat-not-file", "a directory, not a file");
  if (offset >= f.size) return size_t{0};
  if (len > f.size - offset) len = static_cast<size_t>(f.size - offset);
  if (f.first_cluster < 2 || f.first_cluster > clusters_ + 1)
    return MB_ERR(ErrorCode::kBadInput, "fat-chain", "a %u-byte file starts at cluster %u (of %u)", f.size, f.first_cluster,
                  clusters_);
  // A chain longer than the filesystem's clusters is a loop.
  if (uint64_t{f.size} > uint64_t{clusters_} * cluster_bytes_)
    return MB_ERR(ErrorCode::kBadInput, "fat-chain", "a %u-byte file on %u clusters of %u bytes", f.size, clusters_,
                  cluster_bytes_);
  alignas(8) uint8_t s[kMaxSectorSize];
  size_t done = 0;
  while (done < len) {
    const uint64_t at = offset + done;
    const uint32_t cluster = MB_TRY(cluster_at(f, static_cast<uint32_t>(at / cluster_bytes_)));
    const uint32_t in_cluster = static_cast<uint32_t>(at % cluster_bytes_);
    const uint64_t sector = data_start_ + uint64_t{cluster - 2} * sectors_per_cluster_ + in_cluster / bytes_per_sector_;
    const uint32_t in_sector = in_cluster % bytes_per_sector_;
    if (in_cluster == 0 && len - done >= cluster_bytes_) {
      // Whole clusters that follow each other on the disk in one device
      // read (a file mkfs.vfat or Linux wrote is mostly one run).
      uint32_t index = static_cast<uint32_t>(at / cluster_bytes_), count = 1;
      while (uint64_t{count + 1} * cluster_bytes_ <= len - done) {
        const uint32_t c = MB_TRY(cluster_at(f, index + count));
        if (c != cluster + count) break;
        ++count;
      }
      MB_CHECK(read_sectors(sector, uint64_t{count} * sectors_per_cluster_, out + done));
      done += size_t{count} * cluster_bytes_;
      continue;
    }
    MB_CHECK(read_sector(sector, s));
    const size_t n = len - done < bytes_per_sector_ - in_sector ? len - done : bytes_per_sector_ - in_sector;
    std::memcpy(out + done, s + in_sector, n);
    done += n;
  }
  return done;
}

Res<void> Fat::for_each_entry(const FatFile& dir, EntryFn fn, void* ctx) {
  alignas(8) uint8_t s[kMaxSectorSize];
  char lfn[256];
  size_t lfn_len = 0;
  int lfn_next = -1;  // the sequence number expected next, counting down to 1
  uint8_t lfn_sum = 0;
  const bool fixed_root = dir.root && bits_ != 32;
  const uint32_t per_sector = bytes_per_sector_ / 32;
  const uint64_t limit = fixed_root ? root_entries_ : uint64_t{kMaxDirEntries};
  const uint32_t first = dir.root && bits_ == 32 ? root_cluster_ : dir.first_cluster;
  const FatFile chain{first, 0, true, dir.root};
  for (uint64_t i = 0; i < limit; ++i) {
    if (i % per_sector == 0) {
      uint64_t sector;
      if (fixed_root) {
        sector = root_start_ + i / per_sector;
      } else {
        const uint64_t byte = i * 32;
        if (first < 2 || first > clusters_ + 1)
          return MB_ERR(ErrorCode::kBadInput, "fat-chain", "a directory starts at cluster %u (of %u)", first, clusters_);
        const uint32_t c = MB_TRY(cluster_at(chain, static_cast<uint32_t>(byte / cluster_bytes_)));
        sector = data_start_ + uint64_t{c - 2} * sectors_per_cluster_ + (byte % cluster_bytes_) / bytes_per_sector_;
      }
      MB_CHECK(read_sector(sector, s));
    }
    const uint8_t* e = s + (i % per_sector) * 32;
    if (e[0] == 0x00) break;  // no entries after this one
    if (e[0] == 0xe5) {
      lfn_next = -1;
      continue;
    }
    if ((e[11] & 0x3f) == kAttrLfn) {
      const int seq = e[0] & 0x1f;
      if (e[0] & 0x40) {
        lfn_next = seq;
        lfn_sum = e[13];
        lfn_len = 0;
      }
      if (seq != lfn_next || seq == 0 || e[13] != lfn_sum || seq > 20) {
        lfn_next = -1;
        continue;
      }
      // 13 UCS-2 characters at 1, 14 and 28: placed at (seq - 1) * 13.
      static constexpr uint8_t kAt[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
      for (int k = 0; k < 13; ++k) {
        const uint16_t ch = load_le16(e + kAt[k]);
        const size_t pos = static_cast<size_t>(seq - 1) * 13 + static_cast<size_t>(k);
        if (ch == 0x0000 || ch == 0xffff) {
          if (e[0] & 0x40 && pos < sizeof lfn && lfn_len == 0) lfn_len = pos;
          break;
        }
        if (pos < sizeof lfn) lfn[pos] = ch < 0x80 ? static_cast<char>(ch) : '?';
        if ((e[0] & 0x40) && pos + 1 > lfn_len) lfn_len = pos + 1;
      }
      --lfn_next;
      continue;
    }
    const bool have_lfn = lfn_next == 0 && lfn_sum == lfn_checksum(e);
    lfn_next = -1;
    if (e[11] & kAttrVolume) continue;
    char sname[13];
    const size_t slen = short_name(e, sname);
    FatFile f;
    f.first_cluster = uint32_t{load_le16(e + 0x1a)} | (bits_ == 32 ? uint32_t{load_le16(e + 0x14)} << 16 : 0);
    f.size = load_le32(e + 0x1c);
    f.dir = (e[11] & kAttrDir) != 0;
    // ".." of a directory in the root points at cluster 0: the root.
    f.root = f.dir && f.first_cluster == 0;
    if (!fn(ctx, sname, slen, have_lfn ? lfn : nullptr, lfn_len, f)) return {};
  }
  return {};
}

Res<FatFile> Fat::find(const FatFile& dir, const char* name, size_t len) {
  struct Want {
    const char* name;
    size_t len;
    FatFile found;
    bool hit;
  } want{name, len, {}, false};
  MB_CHECK(for_each_entry(
      dir,
      [](void* c, const char* sname, size_t slen, const char* lfn, size_t lfn_len, const FatFile& f) {
        auto* w = static_cast<Want*>(c);
        if (!same_name(w->name, w->len, sname, slen) && !(lfn && same_name(w->name, w->len, lfn, lfn_len))) return true;
        w->found = f;
        w->hit = true;
        return false;
      },
      &want));
  if (!want.hit) return MB_ERR(ErrorCode::kBadInput, "fat-not-found", "%.*s: no such file", static_cast<int>(len), name);
  return want.found;
}

Res<void> Fat::list(const char* path, ListFn fn, void* ctx) {
  const FatFile dir = MB_TRY(lookup(path));
  if (!dir.dir) return MB_ERR(ErrorCode::kBadInput, "fat-not-dir", "%s: not a directory", path);
  struct Relay {
    ListFn fn;
    void* ctx;
  } relay{fn, ctx};
  return for_each_entry(
      dir,
      [](void* c, const char* sname, size_t slen, const char* lfn, size_t lfn_len, const FatFile&) {
        auto* r = static_cast<Relay*>(c);
        if (sname[0] == '.') return true;  // "." and ".." (8.3 names cannot start with a dot otherwise)
        return lfn ? r->fn(r->ctx, lfn, lfn_len) : r->fn(r->ctx, sname, slen);
      },
      &relay);
}

Res<FatFile> Fat::lookup(const char* path) {
  const size_t path_len = path != nullptr ? std::strlen(path) : 0;
  if (path == nullptr || path[0] != '/' || path_len > kMaxPath)
    return MB_ERR(ErrorCode::kBadInput, "fat-path", "not an absolute path of at most %zu bytes", kMaxPath);
  FatFile cur{0, 0, true, true};
  size_t at = 0;
  for (;;) {
    while (at < path_len && path[at] == '/') ++at;
    if (at == path_len) return cur;
    size_t end = at;
    while (end < path_len && path[end] != '/') ++end;
    if (!cur.dir)
      return MB_ERR(ErrorCode::kBadInput, "fat-not-dir", "%.*s: a component before it is not a directory",
                    static_cast<int>(end), path);
    if (end - at == 1 && path[at] == '.') {
      at = end;
      continue;
    }
    auto found = find(cur, path + at, end - at);
    if (!found.ok() && std::strcmp(found.error().check, "fat-not-found") == 0)
      return MB_ERR(ErrorCode::kBadInput, "fat-not-found", "%.*s: no such file", static_cast<int>(end), path);
    cur = MB_TRY(found);
    if (!cur.dir) MB_CHECK(check_chain(cur));
    at = end;
  }
}

}  // namespace mb::loader
