#include "magicboot/loader/payload/hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "test_support.h"

namespace mb::loader::test {
namespace {

template <size_t N>
std::string hex(const std::array<uint8_t, N>& d) {
  std::string s;
  char buf[3];
  for (uint8_t b : d) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    s += buf;
  }
  return s;
}

const uint8_t* u8(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

// FIPS 180-4 / NIST CAVS example vectors.
TEST(Sha1, KnownVectors) {
  EXPECT_EQ(hex(sha1(u8(""), 0)), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1(u8("abc"), 3)), "a9993e364706816aba3e25717850c26c9cd0d89d");
  const char* two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(hex(sha1(u8(two_blocks), 56)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  Sha1 s;
  Bytes a(1000, 'a');
  for (int i = 0; i < 1000; ++i) s.update(a.data(), a.size());
  EXPECT_EQ(hex(s.final()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(hex(sha256(u8(""), 0)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256(u8("abc"), 3)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char* two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(hex(sha256(u8(two_blocks), 56)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 s;
  Bytes a(1000, 'a');
  for (int i = 0; i < 1000; ++i) s.update(a.data(), a.size());
  EXPECT_EQ(hex(s.final()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Crc32, KnownVectorAndChaining) {
  EXPECT_EQ(crc32(u8("123456789"), 9), 0xcbf43926u);
  EXPECT_EQ(crc32(u8("6789"), 4, crc32(u8("12345"), 5)), 0xcbf43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
}

// The firmware's fallback against crc32() (zlib on the host), chained in
// uneven pieces.
TEST(Crc32, NibbleTableMatchesZlib) {
  Bytes data(4099);
  uint32_t x = 0x2545f491;
  for (auto& b : data) b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 24);
  for (size_t len : {0, 1, 7, 64, 1000, 4099}) EXPECT_EQ(crc32_nibbles(data.data(), len), crc32(data.data(), len)) << len;
  uint32_t chained = 0;
  for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 3 % 97 + 1)
    chained = crc32_nibbles(data.data() + at, std::min(step, data.size() - at), chained);
  EXPECT_EQ(chained, crc32(data.data(), data.size()));
  EXPECT_EQ(crc32_nibbles(reinterpret_cast<const uint8_t*>("123456789"), 9), 0xcbf43926u);
}

// Padding edge cases: lengths around 55/56/63/64 bytes mod 64, compared with
// coreutils on random data, and fed in odd-sized pieces.
TEST(Sha, MatchesCoreutilsOnRandomData) {
  TempDir dir;
  for (size_t len : {size_t{1}, size_t{55}, size_t{56}, size_t{63}, size_t{64}, size_t{65},
                     size_t{119}, size_t{120}, size_t{4096}, size_t{1000003}}) {
    Bytes data = random_bytes(len, static_cast<uint32_t>(len));
    auto file = dir / "data";
    write_file(file, data);
    auto tool = [&](const char* name) {
      std::string cmd = std::string(name) + " " + file.string();
      FILE* p = popen(cmd.c_str(), "r");
      EXPECT_NE(p, nullptr);
      char buf[128] = {};
      EXPECT_NE(std::fgets(buf, sizeof buf, p), nullptr);
      pclose(p);
      std::string out(buf);
      return out.substr(0, out.find(' '));
    };
    std::string want1 = tool("sha1sum"), want256 = tool("sha256sum");
    ASSERT_EQ(want1.size(), 40u);
    EXPECT_EQ(hex(sha1(data.data(), len)), want1) << len;
    EXPECT_EQ(hex(sha256(data.data(), len)), want256) << len;

    Sha1 s1;
    Sha256 s256;
    for (size_t pos = 0, step = 1; pos < len; pos += step, step = step * 3 % 97 + 1) {
      size_t n = std::min(step, len - pos);
      s1.update(data.data() + pos, n);
      s256.update(data.data() + pos, n);
    }
    EXPECT_EQ(hex(s1.final()), want1) << len;
    EXPECT_EQ(hex(s256.final()), want256) << len;
    s1.init();
    EXPECT_EQ(hex(s1.final()), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  }
}

}  // namespace
}  // namespace mb::loader::test
