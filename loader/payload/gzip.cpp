#include "magicboot/loader/payload/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <climits>
#if !defined(MB_PAYLOAD_FIRMWARE)
#include <cstdlib>
#endif

#include "magicboot/loader/payload/hash.h"

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
constexpr int kRawDeflateWindowBits = -15;  // negative: no zlib/gzip wrapper, we parse it

uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

voidpf arena_zalloc(voidpf opaque, uInt items, uInt size) {
  if (size != 0 && items > SIZE_MAX / size) return Z_NULL;
  return static_cast<Arena*>(opaque)->allocate(size_t{items} * size);
}
// Nothing to do: the whole inflate state goes when the Arena mark is rewound.
void arena_zfree(voidpf, voidpf) {}

// One raw-deflate inflate over src[offset, len), its memory in the arena.
// The arena is rewound when this goes out of scope.
class Inflater {
 public:
  Inflater(Arena& arena, const uint8_t* src, size_t len)
      : arena_(arena), mark_(arena.mark()), src_(src), len_(len) {}
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() {
    if (live_) inflateEnd(&zs_);
    arena_.rewind(mark_);
  }

  Res<void> start(size_t offset) {
    zs_ = z_stream{};
    zs_.zalloc = arena_zalloc;
    zs_.zfree = arena_zfree;
    zs_.opaque = &arena_;
    pos_ = offset;
    int rc = inflateInit2(&zs_, kRawDeflateWindowBits);
    if (rc == Z_MEM_ERROR)
      return MB_ERR(ErrorCode::kNoMemory, "gzip-arena",
                    "zlib inflate state does not fit the arena (%zu of %zu bytes used)",
                    arena_.used(), arena_.capacity());
    if (rc != Z_OK)
      return MB_ERR(ErrorCode::kBadInput, "gzip-init", "inflateInit2 failed: %d", rc);
    live_ = true;
    return {};
  }

  // Inflates into out[0, out_len); returns bytes produced and sets ended()
  // at the end of the deflate stream.
  Res<size_t> step(uint8_t* out, size_t out_len) {
    zs_.next_out = out;
    zs_.avail_out = out_len > UINT_MAX ? UINT_MAX : static_cast<uInt>(out_len);
    uInt out_given = zs_.avail_out;
    if (zs_.avail_in == 0 && pos_ < len_) {
      size_t n = len_ - pos_;
      zs_.next_in = const_cast<Bytef*>(src_ + pos_);
      zs_.avail_in = n > UINT_MAX ? UINT_MAX : static_cast<uInt>(n);
      pos_ += zs_.avail_in;
    }
    int rc = inflate(&zs_, Z_NO_FLUSH);
    size_t produced = out_given - zs_.avail_out;
    switch (rc) {
      case Z_STREAM_END:
        ended_ = true;
        return produced;
      case Z_OK:
        return produced;
      case Z_BUF_ERROR:
        // No progress possible: with room to write, that means input ran out.
        if (zs_.avail_in == 0 && pos_ == len_)
          return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                        "deflate stream has no end: input ends at offset %#zx", len_);
        return produced;
      case Z_MEM_ERROR:
        return MB_ERR(ErrorCode::kNoMemory, "gzip-arena",
                      "zlib window does not fit the arena (%zu of %zu bytes used)",
                      arena_.used(), arena_.capacity());
      default:
        return MB_ERR(ErrorCode::kBadInput, "gzip-corrupt",
                      "inflate error %d (%s) near input offset %#zx of %#zx", rc,
                      zs_.msg ? zs_.msg : "?", consumed(), len_);
    }
  }

  bool ended() const { return ended_; }
  // Input offset of the next byte inflate has not consumed.
  size_t consumed() const { return pos_ - zs_.avail_in; }
  bool input_exhausted() const { return zs_.avail_in == 0 && pos_ == len_; }

 private:
  Arena& arena_;
  Arena::Mark mark_;
  const uint8_t* src_;
  size_t len_;
  size_t pos_ = 0;
  z_stream zs_{};
  bool live_ = false;
  bool ended_ = false;
};


// libdeflate's allocator hook has no context argument, so the Arena is
// reachable through this pointer only while one_shot_inflate allocates or
// frees its decompressor (one CPU, no re-entry). This is the one piece of
// mutable global state in the payload code, forced by that API.
Arena* g_libdeflate_arena = nullptr;

void* libdeflate_arena_malloc(size_t n) {
  if (g_libdeflate_arena != nullptr) return g_libdeflate_arena->allocate(n, 16);
#if defined(MB_PAYLOAD_FIRMWARE)
  return nullptr;  // no heap
#else
  return std::malloc(n);  // other host users of libdeflate (the benchmark)
#endif
}

void libdeflate_arena_free(void* p) {
  if (g_libdeflate_arena != nullptr) return;  // the Arena mark is rewound
#if !defined(MB_PAYLOAD_FIRMWARE)
  std::free(p);
#else
  (void)p;
#endif
}

// A libdeflate decompressor in the arena for the lifetime of this object.
class OneShotInflater {
 public:
  explicit OneShotInflater(Arena& arena) : arena_(arena), mark_(arena.mark()) {
    libdeflate_set_memory_allocator(libdeflate_arena_malloc, libdeflate_arena_free);
    g_libdeflate_arena = &arena_;
    d_ = libdeflate_alloc_decompressor();
    g_libdeflate_arena = nullptr;
  }
  OneShotInflater(const OneShotInflater&) = delete;
  OneShotInflater& operator=(const OneShotInflater&) = delete;
  ~OneShotInflater() {
    g_libdeflate_arena = &arena_;
    if (d_ != nullptr) libdeflate_free_decompressor(d_);
    g_libdeflate_arena = nullptr;
    arena_.rewind(mark_);
  }
  libdeflate_decompressor* get() const { return d_; }

 private:
  Arena& arena_;
  Arena::Mark mark_;
  libdeflate_decompressor* d_ = nullptr;
};

// The whole member in one call into out[0, capacity): libdeflate needs the
// complete output buffer, which only a GuestMemory with writable() gives.
// Returns the inflated size, or an error when libdeflate refuses the stream
// (the caller then lets zlib diagnose it, naming the input offset).
Res<uint64_t> one_shot_inflate(const uint8_t* src, size_t header, size_t stream_end, uint8_t* out,
                               uint64_t capacity, uint32_t want_crc, uint32_t want_isize,
                               Arena& arena) {
  OneShotInflater inf(arena);
  if (inf.get() == nullptr)
    return MB_ERR(ErrorCode::kNoMemory, "gzip-arena",
                  "libdeflate decompressor does not fit the arena (%zu of %zu bytes used)", arena.used(),
                  arena.capacity());
  size_t in_used = 0, produced = 0;
  libdeflate_result rc = libdeflate_deflate_decompress_ex(inf.get(), src + header, stream_end - header, out,
                                                          static_cast<size_t>(capacity), &in_used, &produced);
  if (rc != LIBDEFLATE_SUCCESS)
    return MB_ERR(ErrorCode::kBadInput, "gzip-libdeflate", "libdeflate result %d", static_cast<int>(rc));
  if (header + in_used != stream_end)
    return MB_ERR(ErrorCode::kBadInput, "gzip-trailer",
                  "deflate stream ends at offset %#zx but the trailer starts at %#zx "
                  "(trailing data or concatenated members)",
                  header + in_used, stream_end);
  uint32_t crc = crc32(out, produced);
  if (crc != want_crc)
    return MB_ERR(ErrorCode::kBadInput, "gzip-crc",
                  "CRC32 of %#zx inflated bytes is %#x, trailer at offset %#zx says %#x", produced, crc,
                  stream_end, want_crc);
  if (static_cast<uint32_t>(produced) != want_isize)
    return MB_ERR(ErrorCode::kBadInput, "gzip-isize", "inflated %#zx bytes, trailer ISIZE at offset %#zx says %#x",
                  produced, stream_end + 4, want_isize);
  return uint64_t{produced};
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
  size_t header = MB_TRY(gzip_header_size(src, len));
  Inflater inf(arena, src, len - kGzipTrailerSize);
  MB_CHECK(inf.start(header));
  size_t done = 0;
  while (done < out_len && !inf.ended()) {
    size_t n = MB_TRY(inf.step(out + done, out_len - done));
    if (n == 0 && !inf.ended() && inf.input_exhausted())
      return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                    "deflate stream stops producing at input offset %#zx", inf.consumed());
    done += n;
  }
  return done;
}

Res<uint64_t> gunzip_to_guest(GuestMemory& mem, const uint8_t* src, size_t len, GuestPhys dst,
                              uint64_t capacity, Arena& arena, Progress* progress) {
  size_t header = MB_TRY(gzip_header_size(src, len));
  const size_t stream_end = len - kGzipTrailerSize;
  const uint32_t want_crc = load_le32(src + stream_end);
  const uint32_t want_isize = load_le32(src + stream_end + 4);
  // Fast path: libdeflate into the destination in one call. On the
  // firmware's identity memory this is ~4x fewer instructions than zlib's
  // streaming inflate + a 64 KiB bounce buffer (figures in gzip.h). Any
  // failure goes on to the zlib path below, which writes the same bytes and
  // names the exact input offset of a corrupt or truncated stream.
  static_assert(sizeof(size_t) == sizeof(uint64_t));
  if (auto out = mem.writable(dst, static_cast<size_t>(capacity)); out.ok()) {
    if (progress) progress->update(0, want_isize);
    auto whole = one_shot_inflate(src, header, stream_end, *out, capacity, want_crc, want_isize, arena);
    if (whole.ok()) {
      if (progress) progress->update(*whole, want_isize);
      return whole;
    }
    // gzip-crc / gzip-isize / gzip-trailer are final: zlib would agree.
    if (__builtin_strcmp(whole.error().check, "gzip-libdeflate") != 0 &&
        __builtin_strcmp(whole.error().check, "gzip-arena") != 0)
      return whole;
  }

  // ISIZE is not trusted to refuse early: in a truncated file those bytes
  // are deflate data, and the right diagnosis is "truncated".
  Inflater inf(arena, src, stream_end);
  uint8_t* chunk = static_cast<uint8_t*>(arena.allocate(kGunzipChunkBytes));
  if (chunk == nullptr)
    return MB_ERR(ErrorCode::kNoMemory, "gzip-arena",
                  "no %zu-byte inflate buffer in the arena (%zu of %zu bytes used)",
                  kGunzipChunkBytes, arena.used(), arena.capacity());
  MB_CHECK(inf.start(header));

  uint64_t total = 0;
  uint32_t crc = 0;
  uint64_t next_report = kGunzipProgressEvery;
  while (!inf.ended()) {
    size_t n = MB_TRY(inf.step(chunk, kGunzipChunkBytes));
    if (n == 0) {
      if (inf.ended()) break;
      if (inf.input_exhausted())
        return MB_ERR(ErrorCode::kBadInput, "gzip-truncated",
                      "deflate stream has no end: input ends at offset %#zx", stream_end);
      continue;
    }
    if (n > capacity - total)
      return MB_ERR(ErrorCode::kNoMemory, "gzip-capacity",
                    "inflated data passes %#llx bytes at %#llx (input offset %#zx)",
                    static_cast<unsigned long long>(capacity),
                    static_cast<unsigned long long>(dst.value), inf.consumed());
    MB_CHECK(mem.write(dst + total, chunk, n));
    crc = crc32(chunk, n, crc);
    total += n;
    if (progress && total >= next_report) {
      progress->update(total, want_isize);
      next_report = total + kGunzipProgressEvery;
    }
  }
  if (inf.consumed() != stream_end)
    return MB_ERR(ErrorCode::kBadInput, "gzip-trailer",
                  "deflate stream ends at offset %#zx but the trailer starts at %#zx "
                  "(trailing data or concatenated members)",
                  inf.consumed(), stream_end);
  if (crc != want_crc)
    return MB_ERR(ErrorCode::kBadInput, "gzip-crc",
                  "CRC32 of %#llx inflated bytes is %#x, trailer at offset %#zx says %#x",
                  static_cast<unsigned long long>(total), crc, stream_end, want_crc);
  if (static_cast<uint32_t>(total) != want_isize)
    return MB_ERR(ErrorCode::kBadInput, "gzip-isize",
                  "inflated %#llx bytes, trailer ISIZE at offset %#zx says %#x",
                  static_cast<unsigned long long>(total), stream_end + 4, want_isize);
  if (progress) progress->update(total, want_isize);
  return total;
}

}  // namespace mb::loader

#if defined(MB_PAYLOAD_FIRMWARE)
// zlib's inflate.o refers to crc32, adler32 and zcalloc/zcfree, which
// would pull zlib's crc32.o (12 KiB of braided tables), adler32.o and zutil.o
// (and with it picolibc's malloc) into the firmware. The loader inflates raw
// deflate only (windowBits -15: it parses the gzip wrapper and checks the
// CRC itself) and always passes its own zalloc/zfree, so inflate never calls
// them; they are defined here (in gzip.cpp, whose
// object the linker takes before libz.a, so zlib's own never get pulled) anyway, correctly, so the image stays honest
// if that ever changes. Firmware only: the host links the real zlib.
extern "C" {

uLong crc32(uLong crc, const Bytef* buf, uInt len) {
  if (buf == Z_NULL) return 0;  // zlib: crc32(0, NULL, 0) is the initial value
  return mb::loader::crc32(buf, len, static_cast<uint32_t>(crc));
}

uLong adler32(uLong adler, const Bytef* buf, uInt len) {
  if (buf == Z_NULL) return 1;
  constexpr uint32_t kMod = 65521;
  uint32_t a = adler & 0xffff, b = (adler >> 16) & 0xffff;
  for (uInt i = 0; i < len; ++i) {
    a = (a + buf[i]) % kMod;
    b = (b + a) % kMod;
  }
  return uLong{b} << 16 | a;
}

// zutil.h's internal allocator fallbacks: there is no heap.
voidpf zcalloc(voidpf, unsigned, unsigned) { return Z_NULL; }
void zcfree(voidpf, voidpf) {}

}  // extern "C"
#endif  // MB_PAYLOAD_FIRMWARE
