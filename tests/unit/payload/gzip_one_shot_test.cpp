// gunzip_to_guest's in-place path: the inflater straight into memory that
// offers GuestMemory::writable() (as the firmware's identity map does). The
// same answers as the window path through write(), whose tests are in
// gzip_test.cpp: identical bytes, nothing written past the capacity, and the
// same failed check for every bad input.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "magicboot/loader/payload/gzip.h"
#include "test_support.h"

namespace mb::loader::test {
namespace {

// VectorMemory plus writable(): counts the direct windows handed out.
class DirectMemory final : public GuestMemory {
 public:
  DirectMemory(GuestPhys base, size_t size) : v_(base, size), base_(base) {}
  Res<void> read(GuestPhys s, void* d, size_t n) override { return v_.read(s, d, n); }
  Res<void> write(GuestPhys d, const void* s, size_t n) override { return v_.write(d, s, n); }
  Res<void> copy(GuestPhys d, GuestPhys s, size_t n) override { return v_.copy(d, s, n); }
  Res<void> fill(GuestPhys d, uint8_t b, size_t n) override { return v_.fill(d, b, n); }
  Res<const uint8_t*> view(GuestPhys b, size_t n) override { return v_.view(b, n); }
  Res<uint8_t*> writable(GuestPhys b, size_t n) override {
    MB_CHECK(v_.view(b, n));  // same bounds check
    ++windows;
    return v_.ram().data() + (b - base_);
  }
  const uint8_t* at(GuestPhys a) const { return v_.at(a); }
  size_t writes() const { return v_.writes; }
  size_t windows = 0;

 private:
  VectorMemory v_;
  GuestPhys base_;
};

bool untouched(const DirectMemory& mem, GuestPhys from, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (mem.at(from + i)[0] != 0xA5) return false;
  return true;
}

std::string streaming_check(const Bytes& gz, size_t len, uint64_t capacity) {
  VectorMemory mem(kRamBase, 4u << 20);
  ArenaBuf a;
  auto r = gunzip_to_guest(mem, gz.data(), len, kDst, capacity, a.arena, nullptr);
  return r.ok() ? "ok" : check_of(r.error());
}

TEST(GzipOneShot, SameBytesWithoutWriteCalls) {
  Bytes data = kernel_like_bytes(6u << 20, 21);
  Bytes gz = gzip_bytes(data, 9);
  DirectMemory mem(kRamBase, 8u << 20);
  ArenaBuf a;
  auto n = gunzip_to_guest(mem, gz.data(), gz.size(), kDst, data.size() + 4096, a.arena, nullptr);
  ASSERT_TRUE(n.ok()) << n.error().check << ": " << n.error().detail;
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(std::memcmp(mem.at(kDst), data.data(), data.size()), 0);
  EXPECT_TRUE(untouched(mem, kDst + data.size(), 4096));
  EXPECT_EQ(mem.windows, 1u);
  EXPECT_EQ(mem.writes(), 0u) << "the in-place path must not go through write()";
  EXPECT_EQ(a.arena.used(), 0u) << "the inflate tables must be released";
}

TEST(GzipOneShot, CapacityExceededWritesNothingPastIt) {
  Bytes data = kernel_like_bytes(1u << 20, 22);
  Bytes gz = gzip_bytes(data);
  const uint64_t capacity = data.size() - 1;
  DirectMemory mem(kRamBase, 4u << 20);
  ArenaBuf a;
  auto n = gunzip_to_guest(mem, gz.data(), gz.size(), kDst, capacity, a.arena, nullptr);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(check_of(n.error()), "gzip-capacity");
  EXPECT_TRUE(untouched(mem, kDst + capacity, 1u << 20));
  EXPECT_EQ(a.arena.used(), 0u);
}

TEST(GzipOneShot, BadInputFailsTheSameCheckAsStreaming) {
  Bytes data = kernel_like_bytes(300000, 23);
  Bytes gz = gzip_bytes(data);
  auto one_shot = [&](const Bytes& in, size_t len) {
    DirectMemory mem(kRamBase, 4u << 20);
    ArenaBuf a;
    auto r = gunzip_to_guest(mem, in.data(), len, kDst, 1u << 20, a.arena, nullptr);
    EXPECT_TRUE(untouched(mem, kDst + (1u << 20), 4096));
    return r.ok() ? std::string("ok") : check_of(r.error());
  };
  Bytes crc = gz, isize = gz, trailing = gz, btype = gz;
  crc[crc.size() - 8] ^= 1;
  isize[isize.size() - 4] ^= 1;
  trailing.insert(trailing.end(), 16, 0);
  trailing[trailing.size() - 3] = 1;  // not zero padding
  btype[10] |= 0x06;
  EXPECT_EQ(one_shot(crc, crc.size()), "gzip-crc");
  EXPECT_EQ(one_shot(isize, isize.size()), "gzip-isize");
  EXPECT_EQ(one_shot(trailing, trailing.size()), "gzip-trailer");
  EXPECT_EQ(one_shot(btype, btype.size()), "gzip-corrupt");
  EXPECT_EQ(one_shot(gz, gz.size() / 2), "gzip-truncated");
  for (size_t pos = 11; pos < gz.size() - 8; pos += gz.size() / 29) {
    Bytes flip = gz;
    flip[pos] ^= 0x10;
    // A flip in the final byte's padding bits is still a valid stream with
    // the right CRC: "ok" is then the right answer for both paths.
    EXPECT_EQ(one_shot(flip, flip.size()), streaming_check(flip, flip.size(), 1u << 20)) << "flip at " << pos;
  }
}

}  // namespace
}  // namespace mb::loader::test
