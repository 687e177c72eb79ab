#include "magicboot/loader/payload/gzip.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "test_support.h"

namespace mb::loader::test {
namespace {

struct RecordingProgress final : Progress {
  void update(uint64_t done, uint64_t total) override { calls.push_back({done, total}); }
  std::vector<std::pair<uint64_t, uint64_t>> calls;
};

bool untouched(const VectorMemory& mem, GuestPhys from, size_t len) {
  for (size_t i = 0; i < len; ++i)
    if (mem.at(from + i)[0] != 0xA5) return false;
  return true;
}

TEST(Gzip, InflatesToGuestWithProgressAndChecks) {
  Bytes data = kernel_like_bytes(10u << 20, 7);
  Bytes gz = gzip_bytes(data);
  VectorMemory mem(kRamBase, 16u << 20);
  ArenaBuf a;
  RecordingProgress progress;
  auto n = gunzip_to_guest(mem, gz.data(), gz.size(), kDst, data.size(), a.arena, &progress);
  ASSERT_TRUE(n.ok()) << n.error().check << ": " << n.error().detail;
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(std::memcmp(mem.at(kDst), data.data(), data.size()), 0);
  EXPECT_TRUE(untouched(mem, kDst + data.size(), 4096));  // exactly capacity, nothing after
  // At the start, every 4 MiB and at the end, growing, total from the trailer.
  ASSERT_EQ(progress.calls.size(), 4u);
  EXPECT_EQ(progress.calls[0].first, 0u);
  EXPECT_GE(progress.calls[1].first, 4u << 20);
  EXPECT_GT(progress.calls[2].first, progress.calls[1].first);
  EXPECT_EQ(progress.calls[3].first, data.size());
  for (auto& c : progress.calls) EXPECT_EQ(c.second, data.size());
  EXPECT_EQ(a.arena.used(), 0u) << "inflate state must be released";
  EXPECT_LE(a.arena.peak(), kGunzipArenaBytes);
  EXPECT_GT(mem.writes, 10u) << "output must be streamed in chunks";
}

TEST(Gzip, AcceptsGzipCommandOutputWithFileName) {
  TempDir dir;
  Bytes data = kernel_like_bytes(300000, 3);
  write_file(dir / "Image", data);
  ASSERT_EQ(run("gzip -k -9 " + (dir / "Image").string()), 0);
  Bytes gz = read_file(dir / "Image.gz");
  ASSERT_TRUE(gz.size() > 18 && (gz[3] & 0x08)) << "gzip should store FNAME";
  auto hs = gzip_header_size(gz.data(), gz.size());
  ASSERT_TRUE(hs.ok());
  EXPECT_EQ(*hs, 10u + sizeof("Image"));
  auto isize = gzip_isize(gz.data(), gz.size());
  ASSERT_TRUE(isize.ok());
  EXPECT_EQ(*isize, data.size());
  VectorMemory mem(kRamBase, 4u << 20);
  ArenaBuf a;
  auto n = gunzip_to_guest(mem, gz.data(), gz.size(), kDst, 1u << 20, a.arena, nullptr);
  ASSERT_TRUE(n.ok()) << n.error().detail;
  EXPECT_EQ(std::memcmp(mem.at(kDst), data.data(), data.size()), 0);
}

// FEXTRA, FNAME, FCOMMENT and FHCRC together, written by zlib.
Bytes gzip_with_all_header_fields(const Bytes& in) {
  static uint8_t extra[] = {'M', 'B', 3, 0, 1, 2, 3};
  static uint8_t name[] = "vmlinux";
  static uint8_t comment[] = "a comment";
  gz_header h{};
  h.extra = extra;
  h.extra_len = sizeof extra;
  h.name = name;
  h.comment = comment;
  h.hcrc = 1;
  return gzip_bytes(in, 6, &h);
}

TEST(Gzip, OptionalHeaderFields) {
  Bytes data = kernel_like_bytes(5000, 4);
  Bytes gz = gzip_with_all_header_fields(data);
  ASSERT_EQ(gz[3], 0x1e);
  auto hs = gzip_header_size(gz.data(), gz.size());
  ASSERT_TRUE(hs.ok()) << hs.error().detail;
  EXPECT_EQ(*hs, 10u + 2 + 7 + 8 + 10 + 2);
  VectorMemory mem(kRamBase, 1u << 20);
  ArenaBuf a;
  ASSERT_TRUE(gunzip_to_guest(mem, gz.data(), gz.size(), kDst, data.size(), a.arena, nullptr).ok());
  EXPECT_EQ(std::memcmp(mem.at(kDst), data.data(), data.size()), 0);
  // The header CRC guards the header.
  gz[12 + 3] ^= 1;  // inside FEXTRA
  auto bad = gzip_header_size(gz.data(), gz.size());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(check_of(bad.error()), "gzip-header-crc");
}

TEST(Gzip, HeaderValidation) {
  Bytes gz = gzip_bytes(kernel_like_bytes(1000, 5));
  auto expect_fail = [](Bytes b, const char* check) {
    auto r = gzip_isize(b.data(), b.size());
    ASSERT_FALSE(r.ok()) << check;
    EXPECT_EQ(check_of(r.error()), check);
  };
  Bytes b = gz;
  b[1] = 0x8c;
  expect_fail(b, "gzip-magic");
  b = gz;
  b[2] = 7;
  expect_fail(b, "gzip-method");
  b = gz;
  b[3] = 0x20;
  expect_fail(b, "gzip-flags");
  expect_fail(Bytes(gz.begin(), gz.begin() + 17), "gzip-truncated");
  b = gz;
  b[3] = 0x08;  // FNAME, but no NUL anywhere before the trailer
  std::fill(b.begin() + 10, b.end(), 'x');
  expect_fail(b, "gzip-truncated");
  auto ok = gzip_isize(gz.data(), gz.size());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 1000u);
}

TEST(Gzip, PrefixInflatesOnlyTheStart) {
  Bytes data = make_image(2u << 20, 3u << 20);
  Bytes gz = gzip_bytes(data);
  ArenaBuf a;
  uint8_t head[kImageHeaderSize];
  auto n = gunzip_prefix(gz.data(), gz.size(), head, sizeof head, a.arena);
  ASSERT_TRUE(n.ok()) << n.error().detail;
  EXPECT_EQ(*n, sizeof head);
  EXPECT_EQ(std::memcmp(head, data.data(), sizeof head), 0);
  EXPECT_EQ(a.arena.used(), 0u);
  auto h = parse_image_header(head, *n);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->image_size, 3u << 20);

  // A buffer larger than the data: all of it.
  Bytes small = kernel_like_bytes(100, 9);
  Bytes sgz = gzip_bytes(small);
  uint8_t big[4096];
  auto m = gunzip_prefix(sgz.data(), sgz.size(), big, sizeof big, a.arena);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, 100u);
  EXPECT_EQ(std::memcmp(big, small.data(), 100), 0);

  // The start of a truncated member is still readable; a corrupt one is not.
  auto t = gunzip_prefix(gz.data(), gz.size() / 2, head, sizeof head, a.arena);
  EXPECT_TRUE(t.ok());
  Bytes bad = gz;
  bad[10] |= 0x06;  // BTYPE 11: reserved block type
  auto c = gunzip_prefix(bad.data(), bad.size(), head, sizeof head, a.arena);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(check_of(c.error()), "gzip-corrupt");
}

TEST(Gzip, CapacityExceededWritesNothingPastIt) {
  Bytes data = kernel_like_bytes(1u << 20, 11);
  Bytes gz = gzip_bytes(data);
  const uint64_t capacity = data.size() - 1;
  {
    VectorMemory mem(kRamBase, 4u << 20);
    ArenaBuf a;
    auto n = gunzip_to_guest(mem, gz.data(), gz.size(), kDst, capacity, a.arena, nullptr);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(check_of(n.error()), "gzip-capacity");
    EXPECT_EQ(n.error().code, ErrorCode::kNoMemory);
    EXPECT_TRUE(untouched(mem, kDst + capacity, 1u << 20));
  }
  {
    // A lying ISIZE changes nothing: the stream itself is what is checked.
    Bytes lie = gz;
    put_le(lie, lie.size() - 4, 4096, 4);
    VectorMemory mem(kRamBase, 4u << 20);
    ArenaBuf a;
    auto n = gunzip_to_guest(mem, lie.data(), lie.size(), kDst, capacity, a.arena, nullptr);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(check_of(n.error()), "gzip-capacity");
    EXPECT_GT(mem.writes, 0u);
    EXPECT_TRUE(untouched(mem, kDst + capacity, 1u << 20));
    EXPECT_EQ(a.arena.used(), 0u);
  }
}

TEST(Gzip, CorruptStreamNamesTheOffset) {
  Bytes data = kernel_like_bytes(200000, 12);
  Bytes gz = gzip_bytes(data);
  VectorMemory mem(kRamBase, 1u << 20);
  ArenaBuf a;
  Bytes bad = gz;
  bad[10] |= 0x06;  // first block header: reserved BTYPE 11
  auto n = gunzip_to_guest(mem, bad.data(), bad.size(), kDst, 1u << 19, a.arena, nullptr);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(check_of(n.error()), "gzip-corrupt");
  // The block header's own byte: the deflate stream starts after the 10-byte gzip header.
  EXPECT_NE(std::string(n.error().detail).find("block at input offset 0xa has the reserved type 3"), std::string::npos)
      << n.error().detail;

  // Any flipped byte in the body is caught (by inflate or by the CRC).
  const std::set<std::string> caught = {"gzip-corrupt", "gzip-crc", "gzip-isize", "gzip-trailer",
                                        "gzip-truncated"};
  for (size_t pos = 11; pos < gz.size() - 8; pos += gz.size() / 37) {
    Bytes flip = gz;
    flip[pos] ^= 0x10;
    auto r = gunzip_to_guest(mem, flip.data(), flip.size(), kDst, 1u << 19, a.arena, nullptr);
    ASSERT_FALSE(r.ok()) << "flip at " << pos;
    EXPECT_TRUE(caught.count(check_of(r.error()))) << check_of(r.error());
  }
}

TEST(Gzip, TrailerMismatches) {
  Bytes data = kernel_like_bytes(100000, 13);
  Bytes gz = gzip_bytes(data);
  VectorMemory mem(kRamBase, 1u << 20);
  ArenaBuf a;
  Bytes crc = gz;
  crc[crc.size() - 8] ^= 1;
  auto r = gunzip_to_guest(mem, crc.data(), crc.size(), kDst, 1u << 19, a.arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(check_of(r.error()), "gzip-crc");
  Bytes isize = gz;
  isize[isize.size() - 4] ^= 1;
  r = gunzip_to_guest(mem, isize.data(), isize.size(), kDst, 1u << 19, a.arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(check_of(r.error()), "gzip-isize");
  // After the trailer only zero padding may follow, less than a page of it
  // (libxl rounds an xl guest's ramdisk up to a page; gzip(1) ignores
  // trailing zeros too): anything else is trailing data.
  for (size_t pad : {size_t{1}, size_t{7}, size_t{8}, size_t{16}, kGzipPaddingMax}) {
    Bytes padded = gz;
    padded.insert(padded.end(), pad, 0);
    r = gunzip_to_guest(mem, padded.data(), padded.size(), kDst, 1u << 19, a.arena, nullptr);
    ASSERT_TRUE(r.ok()) << pad << ": " << r.error().detail;
    EXPECT_EQ(*r, data.size());
  }
  Bytes too_much = gz;
  too_much.insert(too_much.end(), kGzipPaddingMax + 1, 0);
  r = gunzip_to_guest(mem, too_much.data(), too_much.size(), kDst, 1u << 19, a.arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(check_of(r.error()), "gzip-trailer");
  for (size_t at : {size_t{0}, size_t{7}, size_t{15}}) {
    Bytes trailing = gz;
    trailing.insert(trailing.end(), 16, 0);
    trailing[gz.size() + at] = 0x20;
    r = gunzip_to_guest(mem, trailing.data(), trailing.size(), kDst, 1u << 19, a.arena, nullptr);
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_EQ(check_of(r.error()), "gzip-trailer");
  }
  // A wrong CRC behind padding is still caught: the trailer is read where
  // the stream ends, not from the end of the input.
  Bytes padded_crc = crc;
  padded_crc.insert(padded_crc.end(), 100, 0);
  r = gunzip_to_guest(mem, padded_crc.data(), padded_crc.size(), kDst, 1u << 19, a.arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(check_of(r.error()), "gzip-crc");
}

TEST(Gzip, TruncatedInputFails) {
  Bytes data = kernel_like_bytes(300000, 14);
  Bytes gz = gzip_bytes(data);
  VectorMemory mem(kRamBase, 1u << 20);
  ArenaBuf a;
  for (size_t len : {gz.size() - 1, gz.size() - 8, gz.size() - 9, gz.size() / 2, size_t{30},
                     size_t{18}, size_t{5}}) {
    auto r = gunzip_to_guest(mem, gz.data(), len, kDst, 1u << 19, a.arena, nullptr);
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.error().code, ErrorCode::kBadInput) << len << " " << r.error().detail;
  }
  // Cut well inside the stream: inflate runs out of input.
  auto r = gunzip_to_guest(mem, gz.data(), gz.size() / 2, kDst, 1u << 19, a.arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(check_of(r.error()), "gzip-truncated");
}

// Random flips and cuts: never a write past the capacity, never a success
// with wrong output. Under ASan this also proves no out-of-bounds read.
TEST(Gzip, RandomCorruptionIsCaught) {
  Bytes data = kernel_like_bytes(200000, 17);
  Bytes gz = gzip_bytes(data);
  std::mt19937 rng(5);
  VectorMemory mem(kRamBase, 1u << 20);
  ArenaBuf a;
  const uint64_t capacity = data.size() + 100;
  for (int i = 0; i < 400; ++i) {
    Bytes bad = gz;
    for (int k = 0; k < 1 + i % 3; ++k) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    size_t len = (i % 4 == 0) ? rng() % bad.size() : bad.size();
    std::fill(mem.ram().begin(), mem.ram().end(), 0xA5);
    auto r = gunzip_to_guest(mem, bad.data(), len, kDst, capacity, a.arena, nullptr);
    if (r.ok()) {
      // Only a flip in a header byte that carries no data (MTIME, XFL, OS) may pass.
      EXPECT_EQ(*r, data.size());
      EXPECT_EQ(std::memcmp(mem.at(kDst), data.data(), data.size()), 0) << i;
    }
    EXPECT_TRUE(untouched(mem, kDst + capacity, 4096)) << i;
    EXPECT_EQ(a.arena.used(), 0u);
  }
}

TEST(Gzip, ArenaTooSmallIsNoMemory) {
  Bytes gz = gzip_bytes(kernel_like_bytes(100000, 15));
  VectorMemory mem(kRamBase, 1u << 20);
  std::vector<uint8_t> buf(16 * 1024);
  Arena arena(buf.data(), buf.size());
  auto r = gunzip_to_guest(mem, gz.data(), gz.size(), kDst, 1u << 19, arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNoMemory);
  EXPECT_EQ(check_of(r.error()), "gzip-arena");
  uint8_t head[64];
  auto p = gunzip_prefix(gz.data(), gz.size(), head, sizeof head, arena);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kNoMemory);
  EXPECT_EQ(arena.used(), 0u);
}

TEST(Gzip, GuestWriteFaultIsPassedOn) {
  Bytes data = kernel_like_bytes(100000, 16);
  Bytes gz = gzip_bytes(data);
  VectorMemory mem(kRamBase, 1u << 20);
  ArenaBuf a;
  // Destination runs off the end of RAM.
  auto r = gunzip_to_guest(mem, gz.data(), gz.size(), kRamBase + ((1u << 20) - 4096), 1u << 20,
                           a.arena, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kMemoryFault);
}

}  // namespace
}  // namespace mb::loader::test
