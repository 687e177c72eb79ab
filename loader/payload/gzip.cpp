#include "magicboot/loader/payload/gzip.h"

#include <cstring>

#include "magicboot/bytes.h"
#include "magicboot/loader/payload/hash.h"
#include "magicboot/loader/payload/inflate.h"
#include "inflate_tables.h"

namespace mb::loader {
namespace {

// RFC 1952 header flags.
constexpr uint8_t kFlagHcrc = 1u << 1;
constexpr uint8_t kFlagExtra = 1u << 2;
constexpr uint8_t kFlagName = 1u << 3;
constexpr uint8_t kFlagComment = 1u << 4;
constexpr uint8_t kFlagReserved = 0xe0;
constexpr uint8_t kMethodDeflate = 8;
constexpr size_t kFixedHeaderSize = 10;

// The documented arena bound holds (tables, alignment, window buffer).
static_assert(sizeof(InflateTables) + 16 + kGunzipChunkBytes <= kGunzipArenaBytes);

// The member as given: its bytes, and where its header ends.
struct Member {
  const uint8_t* data;
  size_t len;
  size_t header;
};

// The trailer follows the deflate stream where it really ended; after it
// only zero padding (kGzipPaddingMax) may come. Checked against what came out.
Res<void> check_trailer(const RawInflater& inf, Member m, uint64_t total, uint32_t crc) {
  const size_t at = m.header + inf.consumed();
  bool padded = at <= m.len - kGzipTrailerSize && m.len - kGzipTrailerSize - at <= kGzipPaddingMax;
  for (size_t i = at + kGzipTrailerSize; padded && i < m.len; ++i) padded = m.data[i] == 0;
  if (!padded)
    return MB_ERR(ErrorCode::kBadInput, "gzip-trailer",
                  "deflate stream ends at offset %#zx, then %#zx bytes before the end: not a trailer and "
                  "up to %#zx zero bytes (trailing data or concatenated members)",
                  at, m.len - at, kGzipPaddingMax);
  const struct {
    uint32_t crc, isize;
  } want{load_le32(m.data + at), load_le32(m.data + at + 4)};
  if (crc != want.crc)
    return MB_ERR(ErrorCode::kBadInput, "gzip-crc",
                  "CRC32 of %#lx inflated bytes is %#x, trailer at offset %#zx says %#x",
                  total, crc, at, want.crc);
  if (static_cast<uint32_t>(total) != want.isize)
    return MB_ERR(ErrorCode::kBadInput, "gzip-isize", "inflated %#lx bytes, trailer ISIZE at offset %#zx says %#x",
                  total, at + 4, want.isize);
  return {};
}

Res<uint64_t> capacity_error(uint64_t capacity, GuestPhys dst, const RawInflater& inf, size_t header) {
  return MB_ERR(ErrorCode::kNoMemory, "gzip-capacity", "inflated data passes %#lx bytes at %#lx (input offset %#zx)",
                capacity, dst.value,
                header + inf.consumed());
}

// Straight into the destination, pausing every kGunzipProgressEvery bytes
// to hash what just came out (still in the cache) and report progress.
Res<uint64_t> inflate_in_place(RawInflater& inf, uint8_t* out, uint64_t capacity, GuestPhys dst, Member m,
                               Progress* progress) {
  static_assert(sizeof(size_t) == sizeof(uint64_t));
  size_t pos = 0;
  uint32_t crc = 0;
  for (;;) {
    const size_t hashed = pos;
    const size_t pause = capacity - pos > kGunzipProgressEvery ? pos + kGunzipProgressEvery : SIZE_MAX;
    const InflateStop stop = MB_TRY(inf.run(out, pos, capacity, pause));
    crc = crc32(out + hashed, pos - hashed, crc);
    if (progress) progress->update(pos, capacity);
    if (stop == InflateStop::kEnd) break;
    if (stop == InflateStop::kFull) return capacity_error(capacity, dst, inf, m.header);
  }
  MB_CHECK(check_trailer(inf, m, pos, crc));
  return uint64_t{pos};
}

// Through a window buffer and GuestMemory::write(): the model sees every
// byte written. The buffer keeps a deflate window of history in front of
// the bytes not yet written out.
Res<uint64_t> inflate_through_window(RawInflater& inf, GuestMemory& mem, uint8_t* buf, uint64_t capacity,
                                     GuestPhys dst, Member m, Progress* progress) {
  static_assert(kGunzipChunkBytes > kInflateWindowBytes + kInflateMaxMatch);
  uint64_t total = 0;
  uint32_t crc = 0;
  uint64_t next_report = kGunzipProgressEvery;
  size_t pos = 0, written = 0;
  for (;;) {
    // Pausing a match length short of the end means a symbol never finds
    // the buffer full.
    const InflateStop stop = MB_TRY(inf.run(buf, pos, kGunzipChunkBytes, kGunzipChunkBytes - kInflateMaxMatch));
    if (stop == InflateStop::kFull)
      return MB_ERR(ErrorCode::kInvariant, "gzip-window", "inflate window full at output %#lx",
                    (total + (pos - written)));
    const size_t n = pos - written;
    if (n > capacity - total) return capacity_error(capacity, dst, inf, m.header);
    MB_CHECK(mem.write(dst + total, buf + written, n));
    crc = crc32(buf + written, n, crc);
    total += n;
    if (progress && total >= next_report) {
      progress->update(total, capacity);
      next_report = total + kGunzipProgressEvery;
    }
    if (stop == InflateStop::kEnd) break;
    std::memmove(buf, buf + pos - kInflateWindowBytes, kInflateWindowBytes);
    pos = written = kInflateWindowBytes;
  }
  MB_CHECK(check_trailer(inf, m, total, crc));
  if (progress) progress->update(total, capacity);
  return total;
}

}  // namespace

bool has_gzip_magic(const uint8_t* data, size_t len) {
  return data != nullptr && len >= 2 && data[0] == kGzipMagic0 && data[1] == kGzipMagic1;
}

Res<size_t> gzip_header_size(const uint8_t* data, size_t len) {
  if (data == nullptr || len < kFixedHeaderSize + kGzipTrailerSize)
    return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                  "gzip member needs at least %zu bytes, has %zu",
                  kFixedHeaderSize + kGzipTrailerSize, len);
  if (!has_gzip_magic(data, len))
    return MB_ERR(ErrorCode::kBadInput, "gzip-magic", "bytes %02x %02x at offset 0, gzip has 1f 8b",
                  data[0], data[1]);
  if (data[2] != kMethodDeflate)
    return MB_ERR(ErrorCode::kUnsupported, "gzip-method",
                  "compression method %u at offset 2, only 8 (deflate) exists", data[2]);
  uint8_t flags = data[3];
  if (flags & kFlagReserved)
    return MB_ERR(ErrorCode::kBadInput, "gzip-flags", "reserved flag bits set: %#x at offset 3",
                  flags);
  // Optional fields must leave room for at least the trailer after them.
  size_t limit = len - kGzipTrailerSize;
  size_t pos = kFixedHeaderSize;
  if (flags & kFlagExtra) {
    if (limit - pos < 2)
      return MB_ERR(ErrorCode::kBadInput, "gzip-truncated", "FEXTRA length at offset %#zx past end %#zx",
                    pos, limit);
    size_t xlen = size_t{data[pos]} | size_t{data[pos + 1]} << 8;
    pos += 2;
    if (limit - pos < xlen)
      return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                    "FEXTRA of %#zx bytes at offset %#zx runs past %#zx", xlen, pos, limit);
    pos += xlen;
  }
  for (uint8_t flag : {kFlagName, kFlagComment}) {
    if (!(flags & flag)) continue;
    size_t start = pos;
    while (pos < limit && data[pos] != 0) ++pos;
    if (pos == limit)
      return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                    "%s string at offset %#zx has no terminator before %#zx",
                    flag == kFlagName ? "FNAME" : "FCOMMENT", start, limit);
    ++pos;
  }
  if (flags & kFlagHcrc) {
    if (limit - pos < 2)
      return MB_ERR(ErrorCode::kBadInput, "gzip-truncated", "FHCRC at offset %#zx past end %#zx",
                    pos, limit);
    uint16_t want = static_cast<uint16_t>(data[pos] | data[pos + 1] << 8);
    uint16_t got = static_cast<uint16_t>(crc32(data, pos));
    if (want != got)
      return MB_ERR(ErrorCode::kBadInput, "gzip-header-crc",
                    "header CRC16 at offset %#zx is %#x, header hashes to %#x", pos, want, got);
    pos += 2;
  }
  return pos;
}

Res<uint64_t> gzip_isize(const uint8_t* data, size_t len) {
  (void)MB_TRY(gzip_header_size(data, len));
  return uint64_t{load_le32(data + len - 4)};
}

Res<size_t> gunzip_prefix(const uint8_t* src, size_t len, uint8_t* out, size_t out_len,
                          Arena& arena) {
  const size_t header = MB_TRY(gzip_header_size(src, len));
  ArenaScope scratch(arena);
  RawInflater inf = MB_TRY(RawInflater::create(arena, src + header, len - kGzipTrailerSize - header, header));
  size_t pos = 0;
  (void)MB_TRY(inf.run(out, pos, out_len, SIZE_MAX));  // kEnd or kFull: either way the prefix is there
  return pos;
}

Res<uint64_t> gunzip_to_guest(GuestMemory& mem, const uint8_t* src, size_t len, GuestPhys dst,
                              uint64_t capacity, Arena& arena, Progress* progress) {
  const size_t header = MB_TRY(gzip_header_size(src, len));
  const Member m{src, len, header};
  // The total shown is the capacity (the Image's image_size, a bound), not
  // ISIZE: the last four bytes are ISIZE only when nothing pads the member,
  // and in a truncated file they are deflate data.
  if (progress) progress->update(0, capacity);
  ArenaScope scratch(arena);
  RawInflater inf = MB_TRY(RawInflater::create(arena, src + header, len - kGzipTrailerSize - header, header));
  if (auto out = mem.writable(dst, static_cast<size_t>(capacity)); out.ok())
    return inflate_in_place(inf, *out, capacity, dst, m, progress);
  auto* buf = static_cast<uint8_t*>(arena.allocate(kGunzipChunkBytes));
  if (buf == nullptr)
    return MB_ERR(ErrorCode::kNoMemory, "gzip-arena", "no %zu-byte inflate window in the arena (%zu of %zu bytes used)",
                  kGunzipChunkBytes, arena.used(), arena.capacity());
  return inflate_through_window(inf, mem, buf, capacity, dst, m, progress);
}

}  // namespace mb::loader

