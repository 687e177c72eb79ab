// The gzip path: gzip_header_size / gzip_isize / gunzip_prefix /
// gunzip_to_guest, into a guest memory of a fixed capacity that aborts on
// any write outside it. The oracle for what the bytes mean is zlib's own
// gzip decoder (inflate with windowBits 16 + 15), run on the same input.
#include <zlib.h>

#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_check.h"
#include "magicboot/loader/payload/gzip.h"
#include "magicboot/loader/payload/image.h"

namespace {

using namespace mb;
using namespace mb::loader;

constexpr GuestPhys kDst{0x40200000};
constexpr size_t kMaxOut = 256 << 10;  // the biggest guest memory we give

// A window of guest memory [kDst, kDst + capacity) that refuses nothing in
// it and aborts on anything outside it: the loader promised never to go there.
// With `direct` it also offers writable() (the firmware's in-place path),
// whose writes it cannot see: kGuard bytes of a pattern after the window
// show any write past it instead.
class WindowMemory final : public GuestMemory {
 public:
  static constexpr size_t kGuard = 64;
  static constexpr uint8_t kGuardByte = 0x5C;
  // Uninitialised on purpose: zeroing 256 KiB per input would halve the
  // exec rate, and only bytes the loader wrote are compared.
  WindowMemory(size_t capacity, bool direct)
      : bytes_(new uint8_t[capacity + kGuard]), size_(capacity), direct_(direct) {
    std::memset(bytes_.get() + capacity, kGuardByte, kGuard);
  }
  Res<void> read(GuestPhys src, void* dst, size_t len) override {
    std::memcpy(dst, at(src, len), len);
    return {};
  }
  Res<void> write(GuestPhys dst, const void* src, size_t len) override {
    std::memcpy(at(dst, len), src, len);
    if (dst - kDst + len > high_) high_ = dst - kDst + len;
    return {};
  }
  Res<void> copy(GuestPhys dst, GuestPhys src, size_t len) override {
    std::memmove(at(dst, len), at(src, len), len);
    return {};
  }
  Res<void> fill(GuestPhys dst, uint8_t byte, size_t len) override {
    std::memset(at(dst, len), byte, len);
    return {};
  }
  Res<const uint8_t*> view(GuestPhys base, size_t len) override { return static_cast<const uint8_t*>(at(base, len)); }
  Res<uint8_t*> writable(GuestPhys base, size_t len) override {
    if (!direct_) return GuestMemory::writable(base, len);
    handed_out_ = true;
    return at(base, len);
  }

  const uint8_t* data() const { return bytes_.get(); }
  // Only meaningful when no writable() pointer was handed out.
  uint64_t high_water() const { return high_; }
  bool handed_out() const { return handed_out_; }
  bool guard_intact() const {
    for (size_t i = 0; i < kGuard; ++i)
      if (bytes_[size_ + i] != kGuardByte) return false;
    return true;
  }

 private:
  uint8_t* at(GuestPhys a, size_t len) {
    FUZZ_CHECK(a >= kDst && a - kDst <= size_ && len <= size_ - (a - kDst),
               "access [%#lx, +%#zx) outside the guest window [%#lx, +%#zx)", a.value, len,
               kDst.value, size_);
    return bytes_.get() + (a - kDst);
  }
  std::unique_ptr<uint8_t[]> bytes_;
  size_t size_;
  bool direct_;
  bool handed_out_ = false;
  uint64_t high_ = 0;
};

// zlib's reading of the same bytes: one gzip member, nothing after it.
struct Reference {
  bool ok = false;  // a complete member that uses the whole input
  std::vector<uint8_t> out;
  bool too_big = false;  // output passed kMaxOut + 1: stopped there
  size_t member_end = 0;  // where zlib's member ended (trailer included)
};
Reference reference(const uint8_t* data, size_t size) {
  Reference r;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + 15) != Z_OK) std::abort();
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(size);
  // Grown as zlib fills it, up to one byte past kMaxOut.
  int rc = Z_OK;
  size_t have = 0;
  while (rc == Z_OK && have <= kMaxOut) {
    r.out.resize(have + 4096 < kMaxOut + 1 ? have + 4096 : kMaxOut + 1);
    zs.next_out = r.out.data() + have;
    zs.avail_out = static_cast<uInt>(r.out.size() - have);
    rc = inflate(&zs, Z_NO_FLUSH);
    have = r.out.size() - zs.avail_out;
    if (rc == Z_BUF_ERROR && zs.avail_out != 0) break;  // input ran out
    if (have == kMaxOut + 1) break;
  }
  r.out.resize(have);
  // zlib stops at the member's end; what follows must be the padding the
  // loader accepts: fewer than a page of zero bytes (kGzipPaddingMax).
  r.member_end = size - zs.avail_in;
  bool padding = zs.avail_in <= kGzipPaddingMax;
  for (size_t i = r.member_end; padding && i < size; ++i) padding = data[i] == 0;
  r.ok = rc == Z_STREAM_END && padding;
  r.too_big = have > kMaxOut;
  inflateEnd(&zs);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto header = gzip_header_size(data, size);
  auto isize = gzip_isize(data, size);
  FUZZ_CHECK(header.ok() == isize.ok(), "gzip_isize and gzip_header_size disagree");
  if (!header.ok()) {
    FUZZ_CHECK(header.error().check[0] != '\0', "error without a check name");
    return 0;
  }
  FUZZ_CHECK(*header >= 10 && *header <= size - kGzipTrailerSize, "header of %zu bytes in a %zu-byte member", *header,
             size);
  const uint32_t trailer_isize = uint32_t(data[size - 4]) | uint32_t(data[size - 3]) << 8 |
                                 uint32_t(data[size - 2]) << 16 | uint32_t(data[size - 1]) << 24;
  FUZZ_CHECK(*isize == trailer_isize, "isize %#lx, trailer says %#x", *isize, trailer_isize);

  const Reference ref = reference(data, size);
  // The documented arena bound must be enough: a "gzip-arena" error is a bug.
  std::unique_ptr<uint8_t[]> arena_buf(new uint8_t[kGunzipArenaBytes]);
  Arena arena(arena_buf.get(), kGunzipArenaBytes);

  uint8_t head[kImageHeaderSize];
  auto prefix = gunzip_prefix(data, size, head, sizeof head, arena);
  FUZZ_CHECK(arena.used() == 0, "gunzip_prefix left %zu arena bytes in use", arena.used());
  if (prefix.ok()) {
    FUZZ_CHECK(*prefix <= sizeof head, "prefix of %zu bytes into %zu", *prefix, sizeof head);
    const size_t n = *prefix < ref.out.size() ? *prefix : ref.out.size();
    FUZZ_CHECK(std::memcmp(head, ref.out.data(), n) == 0, "prefix differs from zlib's output");
    if (ref.ok) FUZZ_CHECK(*prefix == (ref.out.size() < sizeof head ? ref.out.size() : sizeof head),
                           "prefix %zu bytes, member holds %zu", *prefix, ref.out.size());
  } else {
    FUZZ_CHECK(std::strcmp(prefix.error().check, "gzip-arena") != 0, "%s", prefix.error().detail);
    FUZZ_CHECK(!ref.ok, "gunzip_prefix refused a member zlib reads: %s", prefix.error().detail);
  }

  // Two capacities: room for everything (when it is small enough), and a
  // window one byte short of the output, or the smallest window.
  const size_t full = ref.ok ? ref.out.size() : kMaxOut;
  const size_t tight = ref.ok && !ref.out.empty() ? ref.out.size() - 1 : 1;
  // Each capacity twice: in place through writable(), and through write().
  for (size_t capacity : {full, tight}) {
    if (capacity == 0) continue;
    for (bool direct : {true, false}) {
      WindowMemory mem(capacity, direct);
      auto got = gunzip_to_guest(mem, data, size, kDst, capacity, arena, nullptr);
      const char* path = direct ? "in place" : "through write()";
      FUZZ_CHECK(mem.handed_out() == direct, "%s: writable() %s", path, direct ? "not used" : "used");
      FUZZ_CHECK(arena.used() == 0, "gunzip_to_guest (%s) left %zu arena bytes in use", path, arena.used());
      FUZZ_CHECK(mem.guard_intact(), "%s: wrote past the window of %#zx bytes", path, capacity);
      FUZZ_CHECK(direct || mem.high_water() <= capacity, "wrote up to %#lx of %#zx", mem.high_water(),
                 capacity);
      if (got.ok()) {
        FUZZ_CHECK(ref.ok, "gunzip_to_guest (%s) accepted what zlib refuses (%zu bytes out)", path, ref.out.size());
        FUZZ_CHECK(*got == ref.out.size() && (direct || mem.high_water() == *got),
                   "%s: inflated %#lx bytes (wrote %#lx), zlib %#zx", path, *got, mem.high_water(),
                   ref.out.size());
        FUZZ_CHECK(std::memcmp(mem.data(), ref.out.data(), ref.out.size()) == 0, "%s: output differs from zlib's",
                   path);
        const uint8_t* t = data + ref.member_end - 4;  // ISIZE, where the member ends
        const uint32_t member_isize = uint32_t(t[0]) | uint32_t(t[1]) << 8 | uint32_t(t[2]) << 16 | uint32_t(t[3]) << 24;
        FUZZ_CHECK(uint32_t(*got) == member_isize, "inflated %#lx, ISIZE %#x", *got, member_isize);
      } else {
        const Error& e = got.error();
        FUZZ_CHECK(std::strcmp(e.check, "gzip-arena") != 0, "%s", e.detail);
        const bool too_small = std::strcmp(e.check, "gzip-capacity") == 0;
        FUZZ_CHECK(!ref.ok || (too_small && ref.out.size() > capacity),
                   "gunzip_to_guest (%s) refused a member zlib reads (%zu bytes, capacity %zu): %s: %s", path,
                   ref.out.size(), capacity, e.check, e.detail);
      }
    }
  }
  return 0;
}
